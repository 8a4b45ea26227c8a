/**
 * The cluster's nodes as a node or a driver knows them from the head: the
 * object servers of the nodes alive now (`members` after the welcome, then
 * `node-joined` and `node-dead`). Work on worker leases and actor routes
 * may take arguments held there (leased-work.ts, remote-work.ts): the head
 * vouched for those addresses, as it vouches for work it routes itself.
 *
 * A node can hear of a member later than the driver whose work names it
 * (the two hear it on different connections), so a node waits up to
 * KNOWN_WITHIN_MS to hear of an address before it calls it foreign. Nodes
 * that died are remembered (the last MAX_DEAD), so an argument held there
 * is answered as lost, not as foreign.
 */
import type { Frame } from './protocol.js';

/** How long a node waits to hear from the head of an address that work names. */
export const KNOWN_WITHIN_MS = 2000;
/** The most dead nodes remembered. */
const MAX_DEAD = 10_000;

/** What an address is to this peer: a live member's, a dead one's, or foreign. */
export type Standing = { alive: true } | { alive: false; nodeId: string; cause: string } | undefined;

export class Members {
  private readonly alive = new Map<string, string>(); // address -> node id
  private readonly addressOf = new Map<string, string>(); // node id -> address
  private readonly dead = new Map<string, { nodeId: string; cause: string }>(); // address -> who died there
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Takes a frame from the head; false when it is not about membership. */
  apply(f: Frame): boolean {
    if (f.t === 'members') {
      for (const nodeId of [...this.addressOf.keys()]) if (!f.nodes.some((m) => m.nodeId === nodeId)) this.died(nodeId, 'the head no longer lists it');
      for (const m of f.nodes) this.joined(m.nodeId, m.address);
    } else if (f.t === 'node-joined') this.joined(f.nodeId, f.address);
    else if (f.t === 'node-dead') this.died(f.nodeId, f.cause);
    else return false;
    return true;
  }

  /** Whether `address` is a live member's object server. */
  isAlive(address: string): boolean {
    return this.alive.has(address);
  }

  /** What `address` is now. */
  standing(address: string): Standing {
    if (this.alive.has(address)) return { alive: true };
    const d = this.dead.get(address);
    return d ? { alive: false, ...d } : undefined;
  }

  /** What `address` is once the head spoke of it, or after `ms` (undefined: foreign). */
  whenKnown(address: string, ms = KNOWN_WITHIN_MS): Promise<Standing> {
    const now = this.standing(address);
    if (now || ms <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      let set = this.waiters.get(address);
      if (!set) { set = new Set(); this.waiters.set(address, set); }
      const done = (): void => { clearTimeout(timer); set!.delete(done); if (set!.size === 0 && this.waiters.get(address) === set) this.waiters.delete(address); resolve(this.standing(address)); };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  private joined(nodeId: string, address: string): void {
    const before = this.addressOf.get(nodeId);
    if (before !== undefined && before !== address) this.alive.delete(before);
    this.addressOf.set(nodeId, address);
    this.alive.set(address, nodeId);
    this.dead.delete(address);
    this.wake(address);
  }

  private died(nodeId: string, cause: string): void {
    const address = this.addressOf.get(nodeId);
    if (address === undefined) return;
    this.addressOf.delete(nodeId);
    if (this.alive.get(address) === nodeId) this.alive.delete(address);
    this.dead.delete(address);
    this.dead.set(address, { nodeId, cause });
    if (this.dead.size > MAX_DEAD) this.dead.delete(this.dead.keys().next().value!);
    this.wake(address);
  }

  private wake(address: string): void {
    const set = this.waiters.get(address);
    if (set) for (const w of [...set]) w();
  }
}
