/**
 * What every WASI host interface shares: the embedder's hooks (`WasiIo`),
 * the granted capabilities, and the two ways a call fails on purpose.
 *
 * How jco's glue treats what a host function throws: for a function whose
 * WIT result is `result<_, E>`, a thrown value that is not an `Error` is
 * that call's `err` payload (`throw { tag: 'closed' }` is a stream error);
 * anything else, and anything thrown by a function without a `result`,
 * leaves the guest and fails the call into it (a trap).
 */
import { ComponentError, TaskError } from '../../errors.js';
import type { Capability } from './capabilities.js';

/** The embedder's hooks; the WASI host reaches the outside only through these. */
export interface WasiIo {
  /** Receives one line the guest wrote to stdout or stderr, without its newline. */
  write(stream: 'stdout' | 'stderr', text: string): void;
  /** Blocks for `ms` milliseconds, returning early (or throwing) when the task is cancelled. */
  sleep(ms: number): void;
  /** Throws if the task was cancelled; runs at the start of every WASI call. */
  checkpoint(): void;
  /** Wall-clock time in nanoseconds since the Unix epoch (the monotonic clock is derived from it). */
  now(): bigint;
}

/** One instance's grants and hooks, as the interfaces see them. */
export class WasiContext {
  private last = 0n;

  constructor(readonly granted: ReadonlySet<string>, readonly io: WasiIo) {}

  /** Monotonic nanoseconds: `io.now()`, held still whenever it would go back. */
  monotonic(): bigint {
    const now = this.io.now();
    if (now > this.last) this.last = now;
    return this.last;
  }

  /** Checks for cancellation, then that `capability` was granted: `what` names the WIT function called. */
  need(capability: Capability, what: string): void {
    this.io.checkpoint();
    if (!this.granted.has(capability)) {
      throw new ComponentError(
        `${what} needs the capability '${capability}', which this task was not granted: ` +
        `add it with .options({ capabilities: ['${capability}'] })`,
        { code: 'ERR_CAPABILITY' },
      );
    }
  }
}

/**
 * Fails the task as the canonical ABI's trap would, for a guest that broke a
 * WASI rule (asked for too much, polled nothing). `what` names the WIT function.
 */
export function trap(what: string, message: string): never {
  throw new TaskError(what, message);
}

/** `n` (a WIT u64) as a safe count, or `Infinity` when it is past every limit anyway. */
export function count(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(n);
}
