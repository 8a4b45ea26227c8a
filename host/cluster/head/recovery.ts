/**
 * How a head started again from its tables takes its cluster back.
 *
 * Its nodes ran on while it was away and reconnect saying what work they
 * run; its drivers reconnect and send again everything they sent that was
 * not answered, since the old head may have died holding it. Work a node
 * runs must not run twice, so until every restored node is back (or dead,
 * by the node timeout) the work frames peers send are held, in order. A
 * node is back once it said what it runs and sent again the results it
 * sent lately (its `resume-done` follows them), so work answered just
 * before the old head died is answered with that result, not run again. Then
 * each one sent again is matched by id: work a node runs is adopted where
 * it runs, work whose result a node sent meanwhile is answered with it, and
 * the rest is placed as new. Drivers have the node timeout again to come
 * back; one that does not is gone (its actors and objects go with it), and
 * results nobody claimed are freed on their nodes.
 */
import type { EmitFrame, ResultFrame } from '../protocol.js';

/** Work a node reported (running, or answered while nobody waited for it). */
export interface Claim {
  nodeId: string;
  /** Its result, when the node answered it before its submitter came back. */
  result?: ResultFrame;
  /** Values a streaming task emitted meanwhile, in order. */
  emits?: EmitFrame[];
}

export interface RecoveryEvents {
  /** Every restored node is back or dead: held work may go now. */
  nodesSettled(): void;
  /**
   * The recovery ended: `gone` owners never came back; `unclaimed` are
   * results nobody asked for again, and `orphans` work nodes run that
   * nobody sent again (ids, by node).
   */
  ended(gone: string[], unclaimed: { nodeId: string; result: ResultFrame }[], orphans: { nodeId: string; id: string }[]): void;
}

export class Recovery {
  private readonly nodesAway: Set<string>;
  private readonly ownersAway: Set<string>;
  private readonly claims = new Map<string, Claim>();
  private held: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nodesSettled = false;
  private over = false;

  /** `graceMs`: how long owners have to come back once the nodes settled. */
  constructor(nodes: Iterable<string>, owners: Iterable<string>, private readonly graceMs: number, private readonly events: RecoveryEvents) {
    this.nodesAway = new Set(nodes);
    this.ownersAway = new Set(owners);
    queueMicrotask(() => this.check());
  }

  /** Whether work frames are held now (restored nodes are still away). */
  get holding(): boolean {
    return !this.over && !this.nodesSettled;
  }

  /** Whether the recovery still runs (claims are matched, owners may come back). */
  get active(): boolean {
    return !this.over;
  }

  /** Whether `owner` is one this recovery waits for. */
  expects(owner: string): boolean {
    return !this.over && this.ownersAway.has(owner);
  }

  /** Runs `fn` once the nodes settled (now, if they have). */
  hold(fn: () => void): void {
    if (this.holding) this.held.push(fn);
    else fn();
  }

  /** Node `nodeId` reconnected and runs `running`; it is back once its results sent again are in (`nodeReplayed`). */
  nodeBack(nodeId: string, running: readonly string[]): void {
    if (this.over) return;
    for (const id of running) this.claims.set(id, { nodeId });
  }

  /** Node `nodeId` sent again the results it sent lately (its `resume-done`): it is back. */
  nodeReplayed(nodeId: string): void {
    if (this.over) return;
    this.nodesAway.delete(nodeId);
    this.check();
  }

  /** Node `nodeId` was declared dead while away; what it ran is not claimed. */
  nodeGone(nodeId: string): void {
    if (this.over) return;
    this.nodesAway.delete(nodeId);
    for (const [id, c] of this.claims) if (c.nodeId === nodeId) this.claims.delete(id);
    this.check();
  }

  /** `owner` came back and has sent again all it had in flight (its `resume-done`, after the work it held). */
  ownerBack(owner: string): void {
    this.ownersAway.delete(owner);
    this.check();
  }

  /**
   * Keeps a result, or a streaming task's value, that nobody waits for yet;
   * false once the recovery ended (it is dropped, as any stray frame). A
   * frame its node sends again is kept once.
   */
  park(nodeId: string, f: ResultFrame | EmitFrame): boolean {
    if (this.over) return false;
    const c = this.claims.get(f.taskId) ?? { nodeId };
    this.claims.set(f.taskId, c);
    if (f.t === 'result') c.result ??= f;
    else if (!c.emits?.some((e) => e.index === f.index)) (c.emits ??= []).push(f);
    return true;
  }

  /** What a node said of work `id` (taken: it is matched once). */
  claim(id: string): Claim | undefined {
    if (this.over) return undefined;
    const c = this.claims.get(id);
    if (c) this.claims.delete(id);
    return c;
  }

  private check(): void {
    if (this.over) return;
    if (!this.nodesSettled && this.nodesAway.size === 0) {
      this.nodesSettled = true;
      this.events.nodesSettled();
      for (const fn of this.held.splice(0)) fn();
      this.timer = setTimeout(() => this.end(), this.graceMs);
      this.timer.unref();
    }
    // Everyone is back and what they sent again was matched: what is left, nobody will ask for.
    if (this.nodesSettled && this.ownersAway.size === 0) this.end();
  }

  end(): void {
    if (this.over) return;
    this.over = true;
    if (this.timer) clearTimeout(this.timer);
    const unclaimed: { nodeId: string; result: ResultFrame }[] = [];
    const orphans: { nodeId: string; id: string }[] = [];
    for (const [id, c] of this.claims) {
      if (c.result) unclaimed.push({ nodeId: c.nodeId, result: c.result });
      else orphans.push({ nodeId: c.nodeId, id });
      // What a stream emitted for nobody is let go as its result would be.
      if (c.emits) unclaimed.push({ nodeId: c.nodeId, result: { t: 'result', taskId: id, ok: true, returns: c.emits.map((e) => e.value) } });
    }
    this.claims.clear();
    const gone = [...this.ownersAway];
    this.ownersAway.clear();
    for (const fn of this.held.splice(0)) fn();
    this.events.ended(gone, unclaimed, orphans);
  }
}
