/**
 * Spreading one object's transfers over the nodes that already hold it (a
 * transfer tree, as Ray's pull manager pulls from any node with a copy).
 * Pullers that share what they pull (nodes) are sent to a node that
 * finished pulling the object and said so (`holding`) whenever one has
 * room; the server itself sends the object to `FANOUT` of them in all; the
 * rest wait for a holder. Each puller that finishes becomes a holder in
 * turn, so N pullers take about log2(N) rounds and the origin sends the
 * object about `FANOUT` times, not N. A puller that will not share (a
 * driver) is served at once. When no transfer of the object runs here and
 * none has ended for `WAIT_MS` without a holder appearing (the pullers
 * served may not have kept it to share), a waiting puller is served here.
 *
 * A pull sent elsewhere counts against that holder until the puller says
 * it holds the object too, or `REDIRECT_MS` passes (it failed, or went back
 * to the origin). The clock is injected, so tests are deterministic.
 */

/** How many pullers one holder sends an object to at once. */
export const FANOUT = 2;
/** How long a pull sent to a holder counts against it at most. */
export const REDIRECT_MS = 30_000;
/** Copies of one object a server keeps track of at most (a peer cannot grow the list without bound). */
export const MAX_HOLDERS = 256;
/** How long after its last transfer here ended a server waits for a holder before it sends the object itself again. */
export const WAIT_MS = 1_000;

/** A node that holds a copy, as pullers dial it. */
export interface Holder {
  nodeId: string;
  address: string;
  objectId: string;
  size: number;
  key?: string;
}

interface ObjectFanout {
  /** Transfers this server runs now. */
  serving: number;
  /** Pullers that share it this server sent it to. */
  seeded: number;
  /** When its last transfer here ended, or a holder appeared. */
  lastEnd: number;
  /** Pulls waiting for room, in arrival order. */
  waiting: (() => void)[];
  /** Copies elsewhere, each with the times at which the pulls sent there stop counting. */
  holders: { at: Holder; sent: number[] }[];
}

export type Decision = { serve: true } | { redirect: Holder } | { wait: true };

export class Fanout {
  private readonly objects = new Map<string, ObjectFanout>();

  constructor(private readonly fanout = FANOUT, private readonly now: () => number = Date.now) {}

  private of(objectId: string): ObjectFanout {
    let o = this.objects.get(objectId);
    if (!o) { o = { serving: 0, seeded: 0, lastEnd: this.now(), waiting: [], holders: [] }; this.objects.set(objectId, o); }
    return o;
  }

  /**
   * Where a pull of `objectId` goes: served here, sent to a holder, or
   * waiting. `sharer`: the puller shares what it pulls (else it is served
   * here at once, as is a `direct` pull: one a holder failed, or one that
   * waited long enough). A `serve` must be ended with `served`.
   */
  decide(objectId: string, { sharer = false, direct = false }: { sharer?: boolean; direct?: boolean } = {}): Decision {
    const o = this.of(objectId);
    if (direct || !sharer || this.fanout <= 0) { o.serving++; return { serve: true }; }
    const now = this.now();
    let best: { at: Holder; sent: number[] } | undefined;
    for (const h of o.holders) {
      h.sent = h.sent.filter((t) => t > now);
      if (h.sent.length < this.fanout && (!best || h.sent.length < best.sent.length)) best = h;
    }
    if (best) { best.sent.push(now + REDIRECT_MS); return { redirect: best.at }; }
    if (o.seeded < this.fanout) { o.seeded++; o.serving++; return { serve: true }; }
    // Nothing here is making a holder, and none appeared for a while: send it here rather than wait on.
    if (o.serving === 0 && now - o.lastEnd >= WAIT_MS) { o.serving++; return { serve: true }; }
    return { wait: true };
  }

  /** Runs `retry` (which decides again) once a transfer here ends or a holder appears; the caller also retries every `WAIT_MS`. */
  wait(objectId: string, retry: () => void): void {
    this.of(objectId).waiting.push(retry);
  }

  /** A transfer of `objectId` from here ended: a waiting pull may go. */
  served(objectId: string): void {
    const o = this.objects.get(objectId);
    if (!o) return;
    o.serving = Math.max(0, o.serving - 1);
    o.lastEnd = this.now();
    this.wake(objectId, o);
  }

  /** `at` holds a copy of `objectId` now (a puller finished; `via`: the holder it pulled from, whose load drops). */
  hold(objectId: string, at: Holder, via?: string): void {
    const o = this.of(objectId);
    if (via !== undefined) o.holders.find((h) => h.at.address === via)?.sent.shift();
    if (!o.holders.some((h) => h.at.address === at.address) && o.holders.length < MAX_HOLDERS) o.holders.push({ at, sent: [] });
    o.lastEnd = this.now();
    this.wake(objectId, o);
  }

  /** The copy at `address` is gone. */
  drop(objectId: string, address: string): void {
    const o = this.objects.get(objectId);
    if (!o) return;
    o.holders = o.holders.filter((h) => h.at.address !== address);
    this.forgetIfIdle(objectId, o);
  }

  /** The object itself is gone from here: its holders and waiters are forgotten (waiters retry and find it missing). */
  forget(objectId: string): void {
    const o = this.objects.get(objectId);
    this.objects.delete(objectId);
    for (const w of o?.waiting ?? []) w();
  }

  /** How many objects have state here (for tests and leak checks). */
  get size(): number {
    return this.objects.size;
  }

  private wake(objectId: string, o: ObjectFanout): void {
    // Each waiter decides again, in order, until one has to wait again.
    const waiting = o.waiting.splice(0);
    for (const w of waiting) w();
    this.forgetIfIdle(objectId, o);
  }

  private forgetIfIdle(objectId: string, o: ObjectFanout): void {
    if (o.serving === 0 && o.waiting.length === 0 && o.holders.length === 0) this.objects.delete(objectId);
  }
}
