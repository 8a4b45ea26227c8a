/**
 * A driver's worker leases (lease-protocol.ts), per resource shape: tasks
 * go straight to the nodes it leased, and their answers come straight
 * back, so the head is off the per-task path.
 *
 * How it spreads work, as Ray's owners do: while the head may grant more
 * leases, each lease carries one task at a time and waiting tasks ask for
 * another lease; once the head says `busy` (no node has the shape free), the
 * leases it has carry up to PIPELINE tasks each (the node queues them), the
 * least loaded first, and it asks again after BUSY_MS. With no lease at all
 * and the head busy, tasks go through the head, which queues them and
 * reports demand. A lease with nothing left to do goes back to the head at
 * once, as Ray's owners return an idle worker: the next task asks for a
 * lease anew and is placed by the head's DEFAULT strategy, so work made one
 * task at a time spreads too; and the shape may ask again at once, since
 * what it gave back is free.
 *
 * A node's connection that ends (the node died, or the link broke) ends its
 * leases; the tasks on them are `lost` (the submitter runs them again while
 * their retries last) once the head says the node died, or LOST_WAIT_MS
 * after only the link broke. Objects a leased task left on its node are freed
 * there directly (`routeFree`).
 *
 * Actor routes (actor-path.ts) share the node connections: calls on one go
 * to the node hosting the actor and are answered, lost and freed as leased
 * tasks are; a route reserves nothing, so it is not given back when idle.
 */
import type { Peer } from './peer.js';
import { connect } from './connect.js';
import type { ClientTls } from './tls.js';
import type { ActorCallFrame, Frame, FreeFrame, LogFrame, ResultFrame, TaskFrame } from './protocol.js';
import type { HeadChannel } from './head-link.js';
import { MAX_LEASES_PER_SHAPE, type LeaseGrant, type LeaseReplyFrame } from './lease-protocol.js';
import { resultLocations } from './wire-refs.js';
import { Fifo } from '../core/fifo.js';
import type { Members } from './members.js';

/** Tasks one lease carries at once once the head has no more to grant. */
export const PIPELINE = 128;
/** How long a shape waits after `busy` before it asks the head again. */
export const BUSY_MS = 1000;
/** How long tasks of a node connection that broke wait for the head to say the node died before they count as lost anyway (only the connection broke). */
export const LOST_WAIT_MS = 2000;

/** A task as the pool carries it. */
export interface LeasedTask {
  id: string;
  /** The task as it travels (its `attempt` set by the submitter), or an actor call. */
  task: TaskFrame | ActorCallFrame;
  /** Component bytes it needs on the node, by hash (sent once per connection). */
  components: readonly { hash: string; bytes: Uint8Array }[];
  /** Its frame for the head, should no lease be had. */
  viaHead: Frame;
}

/** What the pool tells its submitter. */
export interface PoolEvents {
  result(f: ResultFrame): void;
  log(f: LogFrame): void;
  /** `t` was on a lease whose node connection ended (`why`): it did not answer. */
  lost(t: LeasedTask, why: string): void;
  /** No lease can be had now: `t` goes through the head. */
  viaHead(t: LeasedTask): void;
}

interface Conn {
  nodeId: string;
  peer: Peer | undefined;
  /** Frames sent before the connection opened, in order. */
  pending: Frame[];
  shipped: Set<string>;
  leases: Set<Lease>;
  closed: boolean;
}

interface Lease {
  grant: LeaseGrant;
  conn: Conn;
  /** Its shape's tasks; undefined for an actor route. */
  shape: Shape | undefined;
  inflight: Map<string, LeasedTask>;
}

interface Shape {
  request: Record<string, number>;
  /** The node its tasks' arguments are on, which its leases are asked near. */
  near: string | undefined;
  leases: Lease[];
  queue: Fifo<LeasedTask>;
  asking: boolean;
  busyUntil: number;
}

export class LeasePool {
  private readonly shapes = new Map<string, Shape>();
  private readonly conns = new Map<string, Conn>();
  /** Leased tasks in flight, by id. */
  private readonly byTask = new Map<string, Lease>();
  /** Ids of the tasks it carries: queued for a lease or in flight on one. */
  private readonly carried = new Set<string>();
  /** Objects leased tasks left on nodes, by node id then object id (how many times handed out). */
  private readonly held = new Map<string, Map<string, number>>();
  /** The last lease granted on each node: a new connection presents it, to free objects after its leases went back. */
  private readonly lastGrant = new Map<string, LeaseGrant>();
  /** Actor routes held, by actor id. */
  private readonly routes = new Map<string, Lease>();
  /** Tasks of node connections that broke, by node id, waiting for the head to say that node died. */
  private readonly orphans = new Map<string, { tasks: { t: LeasedTask; why: string }[]; timer: NodeJS.Timeout }>();
  private closing = false;

  /** `members`: the cluster's nodes as the head announced them (work whose arguments are there may go on leases and routes too). */
  constructor(private readonly head: HeadChannel, private readonly token: string, private readonly tls: ClientTls | undefined, private readonly events: PoolEvents,
    readonly members: Members, private readonly now: () => number = Date.now) {}

  /**
   * Carries `t` on a lease of `request`'s shape (asked `near` the node that
   * holds its arguments, if any); false when the head has none to give now
   * (send it through the head).
   */
  take(shapeKey: string, request: Record<string, number>, t: LeasedTask, near?: string): boolean {
    const key = near === undefined ? shapeKey : `${shapeKey}@${near}`;
    let s = this.shapes.get(key);
    if (!s) { s = { request, near, leases: [], queue: new Fifo(), asking: false, busyUntil: 0 }; this.shapes.set(key, s); }
    if (s.leases.length === 0 && !s.asking && this.now() < s.busyUntil) return false;
    this.carried.add(t.id);
    s.queue.push(t);
    this.pump(s);
    return true;
  }

  private mayAsk(s: Shape): boolean {
    return this.now() >= s.busyUntil && s.leases.length < MAX_LEASES_PER_SHAPE && this.head.isOpen;
  }

  private pump(s: Shape): void {
    const limit = s.asking || this.mayAsk(s) ? 1 : PIPELINE;
    while (s.queue.length > 0) {
      let best: Lease | undefined;
      for (const l of s.leases) if (!best || l.inflight.size < best.inflight.size) best = l;
      if (!best || best.inflight.size >= limit) break;
      this.send(best, s.queue.shift()!);
    }
    if (s.queue.length === 0) return;
    if (!s.asking && this.mayAsk(s)) { this.ask(s); return; }
    if (!s.asking && s.leases.length === 0) while (s.queue.length > 0) { const t = s.queue.shift()!; this.carried.delete(t.id); this.events.viaHead(t); }
  }

  private ask(s: Shape): void {
    s.asking = true;
    const settle = (grant: LeaseGrant | undefined): void => {
      s.asking = false;
      if (grant && !this.closing) this.add(s, grant);
      else s.busyUntil = this.now() + BUSY_MS;
      this.pump(s);
    };
    this.head.request<LeaseReplyFrame>({ t: 'lease-request', id: 0, request: s.request, ...(s.near ? { near: s.near } : {}) }).then((r) => settle(r.lease), () => settle(undefined));
  }

  private add(s: Shape, grant: LeaseGrant): void {
    const l = this.present(grant, s);
    s.leases.push(l);
    this.idleCheck(l, s);
  }

  /** Presents `grant` on its node's connection. */
  private present(grant: LeaseGrant, shape: Shape | undefined): Lease {
    this.lastGrant.set(grant.nodeId, grant);
    const conn = this.conn(grant.nodeId, grant.address);
    const l: Lease = { grant, conn, shape, inflight: new Map() };
    conn.leases.add(l);
    this.deliver(conn, { t: 'lease', lease: grant });
    return l;
  }

  /** Asks the head for a route to actor `actorId`: true once one is held. */
  async route(actorId: string): Promise<boolean> {
    const r = await this.head.request<LeaseReplyFrame>({ t: 'actor-route', id: 0, actorId }).catch(() => undefined);
    const grant = r?.lease;
    if (!grant || grant.actorId !== actorId || this.closing) return false;
    this.routes.set(actorId, this.present(grant, undefined));
    return true;
  }

  /** Whether a route to actor `actorId` is held (its node connection has not ended). */
  routed(actorId: string): boolean {
    return this.routes.has(actorId);
  }

  /** Sends actor call `t` on the route to its actor (which `routed` said is held). */
  call(actorId: string, t: LeasedTask): void {
    this.carried.add(t.id);
    this.send(this.routes.get(actorId)!, t);
  }

  /** The actor is gone for good: its route is let go. */
  unroute(actorId: string): void {
    const l = this.routes.get(actorId);
    if (!l) return;
    this.routes.delete(actorId);
    if (l.inflight.size === 0) this.drop(l);
  }

  private send(l: Lease, t: LeasedTask): void {
    l.inflight.set(t.id, t);
    this.byTask.set(t.id, l);
    for (const c of t.components) {
      if (l.conn.shipped.has(c.hash)) continue;
      l.conn.shipped.add(c.hash);
      this.deliver(l.conn, { t: 'component', hash: c.hash, bytes: c.bytes });
    }
    const lease = l.grant.leaseId;
    this.deliver(l.conn, 'callId' in t.task ? { ...t.task, lease } : { t: 'run', task: t.task, lease });
  }

  private deliver(c: Conn, f: Frame): void {
    if (c.peer) c.peer.send(f); else c.pending.push(f);
  }

  private conn(nodeId: string, address: string): Conn {
    const have = this.conns.get(address);
    if (have && !have.closed) return have;
    const c: Conn = { nodeId, peer: undefined, pending: [], shipped: new Set(), leases: new Set(), closed: false };
    this.conns.set(address, c);
    // A connection opened only to free objects presents the node's last lease: the node takes frees only from an owner.
    const grant = this.lastGrant.get(nodeId);
    if (grant) c.pending.push({ t: 'lease', lease: grant });
    connect(address, this.token, 'peer', {
      onFrame: (f) => this.frame(f),
      onClose: (code, reason) => this.ended(c, `the connection to node ${nodeId} closed (${code}${reason ? `: ${reason}` : ''})`),
    }, {}, this.tls).then(({ peer }) => {
      if (c.closed) { peer.close(); return; }
      c.peer = peer;
      for (const f of c.pending.splice(0)) peer.send(f);
    }, (e: Error) => this.ended(c, e.message));
    return c;
  }

  private frame(f: Frame): void {
    if (f.t === 'result') {
      const l = this.byTask.get(f.taskId);
      if (!l) return;
      this.byTask.delete(f.taskId);
      this.carried.delete(f.taskId);
      l.inflight.delete(f.taskId);
      if (f.ok && f.returns?.some((r) => 'object' in r || r.refs?.length)) this.record(l.grant.nodeId, f);
      this.events.result(f);
      if (!l.shape) { if (l.inflight.size === 0 && this.routes.get(l.grant.actorId!) !== l) this.drop(l); return; }
      this.idleCheck(l, l.shape);
      this.pump(l.shape);
    } else if (f.t === 'log') {
      const l = this.byTask.get(f.route);
      if (l) this.events.log({ ...f, node: l.grant.nodeId, pid: l.grant.pid ?? 0 });
    }
  }

  private record(nodeId: string, f: ResultFrame): void {
    const left = resultLocations(f);
    if (left.length === 0) return;
    let m = this.held.get(nodeId);
    if (!m) { m = new Map(); this.held.set(nodeId, m); }
    for (const l of left) m.set(l.objectId, (m.get(l.objectId) ?? 0) + 1);
  }

  /** A lease with nothing to do goes back. */
  private idleCheck(l: Lease, s: Shape): void {
    if (l.inflight.size > 0 || s.queue.length > 0) return;
    this.drop(l);
    this.head.send({ t: 'lease-return', leaseId: l.grant.leaseId });
    s.busyUntil = 0;
  }

  private drop(l: Lease): void {
    l.conn.leases.delete(l);
    if (!l.shape) {
      if (this.routes.get(l.grant.actorId!) === l) this.routes.delete(l.grant.actorId!);
      return;
    }
    const i = l.shape.leases.indexOf(l);
    if (i >= 0) l.shape.leases.splice(i, 1);
  }

  /**
   * A node connection ended: its leases end, and the tasks on them are lost
   * once the head says the node died too (`nodeDead`), or after
   * LOST_WAIT_MS if it does not (only the connection broke). Sent again any
   * sooner, they could reach a head that still counts the node alive and
   * sends them there, to be lost a second time.
   */
  private ended(c: Conn, why: string): void {
    if (c.closed) return;
    c.closed = true;
    for (const [address, x] of this.conns) if (x === c) this.conns.delete(address);
    const lost: LeasedTask[] = [];
    const shapes = new Set<Shape>();
    for (const l of [...c.leases]) {
      if (l.shape) shapes.add(l.shape);
      this.drop(l);
      // The head frees the shape (a dead node's leases ended there already).
      if (l.shape) this.head.send({ t: 'lease-return', leaseId: l.grant.leaseId });
      for (const t of l.inflight.values()) {
        this.byTask.delete(t.id);
        lost.push(t);
      }
      l.inflight.clear();
    }
    if (lost.length && !this.closing) {
      let o = this.orphans.get(c.nodeId);
      if (!o) { o = { tasks: [], timer: setTimeout(() => this.orphaned(c.nodeId), LOST_WAIT_MS) }; this.orphans.set(c.nodeId, o); }
      for (const t of lost) o.tasks.push({ t, why });
    }
    for (const s of shapes) this.pump(s);
  }

  /** The tasks of node `nodeId`'s broken connections are lost now, in the order they were sent. */
  private orphaned(nodeId: string): void {
    const o = this.orphans.get(nodeId);
    if (!o) return;
    this.orphans.delete(nodeId);
    clearTimeout(o.timer);
    for (const { t, why } of o.tasks) {
      this.carried.delete(t.id);
      if (!this.closing) this.events.lost(t, why);
    }
  }

  /** The head says node `nodeId` died: its connection is ended now, not when the socket notices, and its tasks are lost. */
  nodeDead(nodeId: string, cause: string): void {
    this.held.delete(nodeId);
    this.lastGrant.delete(nodeId);
    for (const c of [...this.conns.values()]) {
      if (c.nodeId !== nodeId) continue;
      this.ended(c, `its node ${nodeId} died (${cause})`);
      c.peer?.ws.terminate();
    }
    this.orphaned(nodeId);
  }

  /** The worker leases it holds now (not routes), for a head that restarted. */
  heldLeases(): LeaseGrant[] {
    const out: LeaseGrant[] = [];
    for (const s of this.shapes.values()) for (const l of s.leases) out.push(l.grant);
    return out;
  }

  /** Whether task `id` is queued for a lease or in flight on one. */
  carries(id: string): boolean {
    return this.carried.has(id);
  }

  /**
   * Cancels task `id` if this pool carries it: one in flight is cancelled on
   * its node ('sent'), one still waiting for a lease is dropped ('dropped':
   * its submitter fails it); undefined when it is not carried here.
   */
  cancel(id: string, force: boolean, recursive: boolean): 'sent' | 'dropped' | undefined {
    if (!this.carried.has(id)) return undefined;
    const l = this.byTask.get(id);
    if (l) {
      this.deliver(l.conn, { t: 'cancel', taskId: id, force, ...(recursive ? {} : { recursive: false }) });
      return 'sent';
    }
    for (const s of this.shapes.values()) if (s.queue.remove((t) => t.id === id)) break;
    this.carried.delete(id);
    return 'dropped';
  }

  /** Splits a `free` between the nodes that handed out leased results (freed there) and the head (the rest). */
  routeFree(f: FreeFrame): void {
    const m = this.held.get(f.nodeId);
    const grant = this.lastGrant.get(f.nodeId);
    if (!m || !grant) { this.head.send(f); return; }
    const direct: string[] = [];
    const rest: string[] = [];
    for (const id of f.objectIds) {
      const k = m.get(id);
      if (!k) { rest.push(id); continue; }
      if (k === 1) m.delete(id); else m.set(id, k - 1);
      direct.push(id);
    }
    if (direct.length) this.deliver(this.conn(f.nodeId, grant.address), { t: 'free', nodeId: f.nodeId, objectIds: direct });
    if (rest.length) this.head.send({ ...f, objectIds: rest });
  }

  /** Objects leased tasks left on each node (not the head's to free: left out of what a driver tells a restarted head). */
  leasedObjects(nodeId: string): ReadonlyMap<string, number> | undefined {
    return this.held.get(nodeId);
  }

  close(): void {
    this.closing = true;
    for (const o of this.orphans.values()) clearTimeout(o.timer);
    this.orphans.clear();
    for (const c of [...this.conns.values()]) {
      this.ended(c, 'the driver closed');
      c.peer?.close();
    }
  }
}
