/**
 * The embedded node's object table: each object is pending, ready with a
 * value, or failed with an error, and callbacks run when it settles. Values
 * are immutable once stored (see `snapshotValue`).
 */
import { ObjectRef, newId } from './object-ref.js';

type Settled = { ok: true; value: unknown } | { ok: false; error: Error };

interface Entry {
  settled?: Settled;
  waiters?: ((s: Settled) => void)[];
}

export class ObjectTable {
  private readonly entries = new Map<string, Entry>();
  /**
   * Each object has exactly one ObjectRef instance; once nothing references it
   * (the caller dropped it, no pending task holds it, no stored value contains
   * it), the object can never be read again and its entry goes.
   */
  private readonly unreachable = new FinalizationRegistry<string>((id) => { this.entries.delete(id); });

  /** A new pending object. */
  create(): ObjectRef {
    const ref = new ObjectRef(newId());
    this.entries.set(ref.id, {});
    this.unreachable.register(ref, ref.id);
    return ref;
  }

  /** A new object holding `value` (already snapshotted by the caller). */
  put(value: unknown): ObjectRef {
    const ref = new ObjectRef(newId());
    this.entries.set(ref.id, { settled: { ok: true, value } });
    this.unreachable.register(ref, ref.id);
    return ref;
  }

  has(ref: ObjectRef): boolean {
    return this.entries.has(ref.id);
  }

  /** The settled state, or undefined while pending. */
  peek(ref: ObjectRef): Settled | undefined {
    return this.entries.get(ref.id)?.settled;
  }

  resolve(ref: ObjectRef, value: unknown): void {
    this.settle(ref, { ok: true, value });
  }

  fail(ref: ObjectRef, error: Error): void {
    this.settle(ref, { ok: false, error });
  }

  private settle(ref: ObjectRef, s: Settled): void {
    const e = this.entries.get(ref.id);
    if (!e || e.settled) return;
    e.settled = s;
    const w = e.waiters;
    if (w) {
      e.waiters = undefined;
      for (const f of w) f(s);
    }
  }

  /** Runs `f` once the object settles (at once if it has). */
  onSettled(ref: ObjectRef, f: (s: Settled) => void): void {
    const e = this.entries.get(ref.id);
    if (!e) return;
    if (e.settled) f(e.settled);
    else (e.waiters ??= []).push(f);
  }

  /** Fails every pending object (at shutdown). */
  failPending(error: Error): void {
    for (const [id, e] of this.entries) if (!e.settled) this.settle(new ObjectRef(id), { ok: false, error });
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Copies a value so later changes by the caller cannot reach the stored
 * object. Typed arrays are copied as one block; refs inside stay refs.
 */
export function snapshotValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof ObjectRef) return v;
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): unknown }).slice?.() ?? structuredClone(v);
  if (v instanceof ArrayBuffer) return v.slice(0);
  if (Array.isArray(v)) return v.map(snapshotValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, snapshotValue(x)]));
  if (v instanceof Set) return new Set([...v].map(snapshotValue));
  if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = snapshotValue(x);
    return out;
  }
  return structuredClone(v);
}
