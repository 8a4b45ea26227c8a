/// <reference types="@webgpu/types" />
/**
 * Turns WebGPU's deferred errors into AccelFailures. WebGPU reports a bad
 * call not by throwing but through error scopes (or, uncaptured, an event
 * Dawn prints to stderr): without scopes a guest's mistake would go unseen
 * and its results silently be wrong. Every device call runs in scopes here.
 *
 * Calls the contract makes async (shader modules, pipelines, bind groups)
 * await their scopes and throw at once. Sync calls (writes, encoding,
 * submit) cannot wait; their errors are kept and thrown by the next `wait`
 * or read, so a guest learns of them before it can see any result.
 * After device loss every call throws `device-lost`.
 */
import { AccelFailure, type AccelErrorCode } from '../backend.js';

const FILTERS: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

function codeOf(e: GPUError): AccelErrorCode {
  const name = e.constructor?.name ?? '';
  if (name.includes('OutOfMemory')) return 'out-of-memory';
  if (name.includes('Internal')) return 'device-lost';
  return 'validation';
}

export class DeviceGuard {
  private lostMessage: string | undefined;
  private deferred: AccelFailure | undefined;
  private readonly pending = new Set<Promise<void>>();

  constructor(readonly device: GPUDevice) {
    void device.lost.then((info) => { this.lostMessage ??= info.message || info.reason || 'lost'; });
    // A net under the scopes: anything that still escapes them is reported too.
    device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.defer(new AccelFailure(codeOf(e), e.message));
    });
  }

  /** Marks the device lost (close does this before Dawn's own notice arrives). */
  markLost(message: string): void {
    this.lostMessage ??= message;
  }

  get lost(): boolean {
    return this.lostMessage !== undefined;
  }

  /** Throws `device-lost` once the device is gone. */
  alive(): void {
    if (this.lostMessage !== undefined) throw new AccelFailure('device-lost', `the WebGPU device was lost: ${this.lostMessage}`);
  }

  /**
   * Runs `fn` inside error scopes, all pushed and popped before returning so
   * that no other call's scopes interleave; the promise gives the first error.
   */
  scoped<T>(fn: () => T): { value: T; error: Promise<AccelFailure | undefined> } {
    this.alive();
    for (const f of FILTERS) this.device.pushErrorScope(f);
    let value: T;
    try {
      value = fn();
    } catch (e) {
      // dawn.node throws TypeError for malformed descriptors; still balance the scopes.
      for (let i = 0; i < FILTERS.length; i++) void this.device.popErrorScope().catch(() => null);
      throw e instanceof AccelFailure ? e : new AccelFailure('invalid-argument', e instanceof Error ? e.message : String(e));
    }
    const pops = FILTERS.map(() => this.device.popErrorScope().catch(() => null));
    const error = Promise.all(pops).then((errs) => {
      const e = errs.find((x): x is GPUError => x !== null);
      return e ? new AccelFailure(codeOf(e), e.message) : undefined;
    });
    return { value, error };
  }

  /** A sync call: its error, if any, is thrown by the next `settle`. */
  sync<T>(fn: () => T): T {
    const { value, error } = this.scoped(fn);
    const p: Promise<void> = error.then((f) => { if (f) this.defer(f); });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return value;
  }

  /** An async call: throws its error now. */
  async checked<T>(fn: () => T): Promise<T> {
    const { value, error } = this.scoped(fn);
    const f = await error;
    if (f) throw f;
    return value;
  }

  private defer(f: AccelFailure): void {
    this.deferred ??= f;
  }

  /** Waits for the sync calls' scopes and throws the first error they kept (then forgets it). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.alive();
    const f = this.deferred;
    if (f) {
      this.deferred = undefined;
      throw new AccelFailure(f.code, `an earlier call failed: ${f.message}`);
    }
  }
}
