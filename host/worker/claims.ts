/**
 * Who runs a nested task its guest may run itself: a table in shared memory,
 * one per worker, that the worker and the node's scheduler settle with one
 * compare-and-swap each, so neither waits for the other.
 *
 * A guest's submit that qualifies (no options, no refs in its arguments) is
 * posted with a claim number `k`; its slot holds `k * 4 + OPEN`. When the
 * guest gets the result, its worker tries OPEN -> WORKER and, on success,
 * runs the task right there: no message to the node and back. Before the
 * scheduler runs the task anywhere it tries OPEN -> NODE; if that fails the
 * worker has it, and the node only records the outcome the worker posts.
 * A slot is reused only once settled (WORKER or NODE) or never used (FREE).
 */
/** Slots per worker: how many claimable submits may wait to be settled at once. */
export const CLAIM_SLOTS = 4096;
export const FREE = -1;
const OPEN = 0;
const WORKER = 1;
const NODE = 2;
/** Claim numbers stay below this, so `k * 4 + state` fits an Int32. */
const MAX_CLAIM = 2 ** 29 - 1;

export function newClaimTable(): SharedArrayBuffer {
  const buf = new SharedArrayBuffer(CLAIM_SLOTS * 4);
  new Int32Array(buf).fill(FREE);
  return buf;
}

const slotOf = (k: number): number => k % CLAIM_SLOTS;

/** The worker's side: opens claims for its guests' submits and takes them back to run them itself. */
export class WorkerClaims {
  private readonly t: Int32Array;
  private next = 1;

  constructor(buf: SharedArrayBuffer) {
    this.t = new Int32Array(buf);
  }

  /** A new open claim number, or undefined when its slot is still unsettled (the submit then goes the usual way). */
  open(): number | undefined {
    const k = this.next;
    if (k > MAX_CLAIM) return undefined;
    const v = Atomics.load(this.t, slotOf(k));
    if (v !== FREE && (v & 3) === OPEN) return undefined;
    this.next++;
    Atomics.store(this.t, slotOf(k), k * 4 + OPEN);
    return k;
  }

  /** True if this worker now owns claim `k` (the node had not taken it). */
  take(k: number): boolean {
    return Atomics.compareExchange(this.t, slotOf(k), k * 4 + OPEN, k * 4 + WORKER) === k * 4 + OPEN;
  }
}

/** The node's side: true if the scheduler may run the task of claim `k` (it took it), false if the worker has it. */
export function nodeTakes(table: Int32Array, k: number): boolean {
  const v = Atomics.compareExchange(table, slotOf(k), k * 4 + OPEN, k * 4 + NODE);
  return v === k * 4 + OPEN || v === k * 4 + NODE;
}
