/**
 * Task routing: work from drivers (tasks, actor creations, actor calls) goes
 * to a node the Placer picks and its result comes back to the driver; work
 * no live node can hold waits for one to join, and a node's death sends its
 * tasks elsewhere while their retries last.
 */
import type { Peer } from '../peer.js';
import { CLOSE, chainWellFormed, type CancelFrame, type EmitFrame, type Frame, type Hello, type ResultFrame, type SubmitFrame, type WireError } from '../protocol.js';
import { toWire } from '../../core/error-codec.js';
import { argumentBytes } from '../remote-arg.js';
import { normalizeWireOptions } from '../../core/options.js';
import type { Placer, SchedulingStrategy } from '../../core/placement.js';
import { ConnectionError, TaskCancelledError, UnschedulableError, WorkerCrashedError } from '../../errors.js';
import type { NodeEntry, NodeTable } from './node-table.js';
import type { Ownership, Submitter } from './ownership.js';
import type { Recovery } from './recovery.js';

/** Work the head routes: a task, an actor's creation, or an actor call. Its result goes back to `driver` (a node, for a nested task it sent away). */
export interface HeadTask {
  id: string;
  name: string;
  driver: Submitter;
  node: string | undefined;
  attempts: number;
  /** Where it must run: any node that can hold `request`, or the node of actor `actorId`. */
  request: Record<string, number>;
  shape: string;
  actorId?: string;
  /** Re-sent after a node death while this lasts (tasks only). */
  maxRetries: number;
  /** The frame for a node, for the given attempt. */
  frame: (attempt: number) => Frame;
  strategy?: SchedulingStrategy;
  /** Bytes of its arguments each node holds (DEFAULT prefers the node with most). */
  locality?: Map<string, number>;
}

/** What routing asks of the actor directory about work that belongs to an actor. */
export interface ActorHooks {
  /** `t` went to node `nodeId`: an actor that waited for a node lives there now. */
  placed(t: HeadTask, nodeId: string): void;
  /** `t` can never be placed (and has failed): an actor whose creation it was dies. */
  unschedulable(t: HeadTask, message: string): void;
  /** Whether `t` is its actor's creation, not answered yet. */
  isCreation(t: HeadTask): boolean;
  /** Its node answered `t`: true when it was its actor's creation (an actor keeps its resources for life). */
  answered(t: HeadTask): boolean;
  /** `t`, an actor's creation or call, was lost with its node. */
  lost(t: HeadTask, why: string): void;
  /** `t` was cancelled before it reached a node: it waits for no actor any more. */
  cancelled(t: HeadTask): void;
}

/** How many results the work in `f` must answer with. */
function returnsAsked(f: Frame): number {
  return f.t === 'run' ? f.task.opts.numReturns : f.t === 'actor-call' ? f.numReturns : 0;
}

/**
 * Runs a check of what a peer sent for work `id`; when it throws (an
 * `InvalidArgumentError` from the options rules), that work fails with the
 * error and nothing else happens.
 */
export function checked<T>(peer: Peer, id: string, check: () => T): T | undefined {
  try {
    return check();
  } catch (e) {
    peer.send({ t: 'result', taskId: id, ok: false, error: toWire(e) });
    return undefined;
  }
}


export class Router {
  private readonly tasks = new Map<string, HeadTask>();
  /** Tasks no live node can hold: they wait for one to join. */
  private readonly pending = new Set<HeadTask>();
  /** Tasks submitted through the head since it started (`tsray status`). */
  routed = 0;

  /** `actors` is late-bound: the actor directory routes its work through this. */
  constructor(
    private readonly nodes: NodeTable,
    private readonly ownership: Ownership,
    private readonly placer: Placer,
    private readonly actors: () => ActorHooks,
    /** A restarted head's recovery while it runs (recovery.ts). */
    private readonly recovery: () => Recovery | undefined = () => undefined,
  ) {}

  has(id: string): boolean {
    return this.tasks.has(id);
  }

  /** The driver of task `id` while it runs on node `nodeId` (where its guest log lines go); undefined otherwise. */
  driverOf(id: string, nodeId: string): Submitter | undefined {
    const t = this.tasks.get(id);
    return t && t.node === nodeId && !t.actorId ? t.driver : undefined;
  }

  /** Tracks `t` until it is answered; it is sent by `dispatch`, `sendTo`, or its actor once placed. */
  track(t: HeadTask): void {
    this.tasks.set(t.id, t);
  }

  /** Takes `t` out of the work waiting for a node. */
  unpark(t: HeadTask): void {
    this.pending.delete(t);
  }

  /**
   * Whether work `id` is already tracked for the owner `peer` submits as:
   * a node that reconnected to this head sends again what it had in flight
   * (head-link.ts), and its answer now goes to the new connection.
   */
  resent(id: unknown, peer: Peer): boolean {
    const t = typeof id === 'string' ? this.tasks.get(id) : undefined;
    if (!t || this.ownership.ownerOf(t.driver) !== this.ownership.ownerOf(peer)) return false;
    t.driver = peer;
    return true;
  }

  submit(f: SubmitFrame, peer: Peer, hello: Hello): void {
    const task = f.task;
    if (this.resent(task?.taskId, peer)) return;
    if ((hello.role !== 'driver' && hello.role !== 'node') || !task || typeof task.taskId !== 'string' || typeof task.hash !== 'string' || !Array.isArray(task.args)
      || !task.opts || typeof task.opts.request !== 'object' || this.tasks.has(task.taskId) || !chainWellFormed(task)) {
      peer.close(CLOSE.MALFORMED, 'a malformed task');
      return;
    }
    if (!this.ownership.membersOnly(task.args, peer, task.taskId, task.refs)) return;
    const opts = checked(peer, task.taskId, () => normalizeWireOptions(task.opts));
    if (!opts) return;
    task.opts = opts;
    const t: HeadTask = {
      id: task.taskId, name: task.name, driver: peer, node: undefined, attempts: task.attempt ?? 0, request: task.opts.request, shape: task.opts.shape,
      maxRetries: task.opts.maxRetries, frame: (attempt) => ({ t: 'run', task: attempt > 0 ? { ...task, attempt } : task }),
      ...(task.opts.strategy ? { strategy: task.opts.strategy } : {}), locality: argumentBytes(task.args),
    };
    this.routed++;
    this.track(t);
    this.admit(t);
  }

  /** Places `t`, unless a node that came back to a restarted head runs it or answered it already. */
  admit(t: HeadTask): void {
    if (!this.adopt(t)) this.dispatch(t);
  }

  /**
   * Work sent again to a restarted head that a node reported: it is taken
   * up where it runs (true), and answered with the result the node sent
   * meanwhile, if it did; false when no node claims it.
   */
  adopt(t: HeadTask): boolean {
    const c = this.recovery()?.claim(t.id);
    const n = c && this.nodes.get(c.nodeId);
    if (!c || !n || n.state !== 'ALIVE' || !n.peer) return false;
    t.node = c.nodeId;
    n.inflight.add(t.id);
    this.nodes.reserve(n, t.request);
    this.actors().placed(t, c.nodeId);
    for (const e of (c.emits ?? []).sort((a, b) => a.index - b.index)) this.passOn(n, e, undefined);
    if (c.result) this.answer(n, c.result, undefined);
    return true;
  }

  /** Drops what a node said of work `id` to a restarted head (it was answered some other way). */
  claim(id: string): void {
    this.recovery()?.claim(id);
  }

  cancel(f: CancelFrame, peer: Peer): void {
    const t = this.tasks.get(f.taskId);
    if (!t || t.driver !== peer) return;
    if (t.node) { this.nodes.send(t.node, { t: 'cancel', taskId: f.taskId, force: !!f.force, ...(f.recursive === false ? { recursive: false } : {}) }); return; }
    this.pending.delete(t);
    this.actors().cancelled(t);
    this.finish(t, toWire(new TaskCancelledError(t.name)));
  }

  result(f: ResultFrame, peer: Peer, hello: Hello): void {
    const n = this.nodes.sender(peer, hello);
    if (!n) { peer.close(CLOSE.MALFORMED, 'result from a connection that is not a live node'); return; }
    const t = this.tasks.get(f.taskId);
    // A restarted head keeps answers to work not sent to it again yet: its submitter is on its way back.
    if (!t && this.recovery()?.park(n.info.nodeId, f)) return;
    this.answer(n, f, peer);
  }

  /** Node `n`'s answer `f` goes to the submitter of its work (`peer`: the node's connection, closed if the answer lies). */
  private answer(n: NodeEntry, f: ResultFrame, peer: Peer | undefined): void {
    n.inflight.delete(f.taskId);
    const t = this.tasks.get(f.taskId);
    if (!t || t.node !== n.info.nodeId) return;
    this.tasks.delete(f.taskId);
    // A task's resources come back when it ends; an actor keeps its own for life.
    if (!this.actors().answered(t)) this.nodes.unreserve(n.info.nodeId, t.request);
    const asked = returnsAsked(t.frame(t.attempts));
    if (f.ok && f.returns?.length !== asked) {
      this.finish(t, toWire(new ConnectionError(`node ${n.info.nodeId} answered '${t.name}' with ${f.returns?.length ?? 'no'} results where ${asked} were asked; the answer was dropped`)));
      return;
    }
    if (!this.ownership.recordResults(t.driver, n, f, peer)) {
      this.finish(t, toWire(new ConnectionError(`node ${n.info.nodeId} answered '${t.name}' with objects it does not hold; the answer was dropped and the node closed`)));
      return;
    }
    this.ownership.grantReturned(n, t.driver, f);
    t.driver.send(f);
  }

  /** A value a streaming task emitted on its node: on to its submitter, its objects owned by it as results are. */
  emit(f: EmitFrame, peer: Peer, hello: Hello): void {
    const n = this.nodes.sender(peer, hello);
    if (!n) { peer.close(CLOSE.MALFORMED, 'emit from a connection that is not a live node'); return; }
    if (!this.tasks.has(f.taskId) && this.recovery()?.park(n.info.nodeId, f)) return;
    this.passOn(n, f, peer);
  }

  /** Node `n`'s streamed value `f` goes to the task's submitter (`peer`: the node's connection, closed if it lies). */
  private passOn(n: NodeEntry, f: EmitFrame, peer: Peer | undefined): void {
    const t = this.tasks.get(f.taskId);
    if (!t || t.node !== n.info.nodeId || t.actorId) return;
    const returns: ResultFrame = { t: 'result', taskId: f.taskId, ok: true, returns: [f.value] };
    if (!this.ownership.recordResults(t.driver, n, returns, peer)) return;
    t.driver.send(f);
  }

  /** Sends a task to a live node that can hold it, or parks it until one joins. */
  dispatch(t: HeadTask): void {
    const p = this.placer.place(this.nodes.views(), { resources: t.request, strategy: t.strategy ?? 'DEFAULT', ...(t.locality ? { localityBytes: t.locality } : {}) });
    if ('wait' in p) { this.pending.add(t); return; }
    if ('error' in p) {
      const message = `'${t.name}' cannot be scheduled: ${p.error}`;
      this.finish(t, toWire(new UnschedulableError(message)));
      this.actors().unschedulable(t, message);
      return;
    }
    this.sendTo(t, p.nodeId);
    this.actors().placed(t, p.nodeId);
  }

  sendTo(t: HeadTask, nodeId: string): void {
    const n = this.nodes.get(nodeId)!;
    t.node = nodeId;
    n.inflight.add(t.id);
    this.nodes.reserve(n, t.request);
    const frame = t.frame(t.attempts);
    this.ownership.grantHandles(n, t.driver, frame);
    n.peer!.send(frame);
  }

  /** Fails `t` with `error` and forgets it. */
  finish(t: HeadTask, error: WireError): void {
    this.tasks.delete(t.id);
    t.driver.send({ t: 'result', taskId: t.id, ok: false, error });
  }

  /** A node joined: every parked task tries again. */
  unparkAll(): void {
    for (const t of [...this.pending]) { this.pending.delete(t); this.dispatch(t); }
  }

  /** Tasks `lost` with a dead node run again elsewhere while their retries last (Ray's max_retries counts node deaths too). */
  nodeDied(lost: string[], why: string): void {
    for (const id of lost) {
      const t = this.tasks.get(id);
      if (!t) continue;
      t.node = undefined;
      if (t.actorId) { this.actors().lost(t, why); continue; }
      t.attempts++;
      if (t.attempts > t.maxRetries) {
        this.finish(t, toWire(new WorkerCrashedError(t.name, t.attempts, why, 'node')));
      } else {
        this.dispatch(t);
      }
    }
  }

  /** A driver (or a node, for the nested tasks it sent away) that leaves takes its work with it. */
  submitterGone(peer: Submitter): void {
    for (const t of [...this.tasks.values()]) {
      if (t.driver !== peer) continue;
      this.tasks.delete(t.id);
      this.pending.delete(t);
      if (t.node && !t.actorId) this.nodes.send(t.node, { t: 'cancel', taskId: t.id, force: true });
      if (t.node && !this.actors().isCreation(t)) this.nodes.unreserve(t.node, t.request);
    }
  }

  /** Parked work by resource shape, as `tsray status` shows it. */
  demands(): { shape: Record<string, number>; count: number }[] {
    const demands = new Map<string, { shape: Record<string, number>; count: number }>();
    for (const t of this.pending) {
      const d = demands.get(t.shape) ?? { shape: t.request, count: 0 };
      d.count++;
      demands.set(t.shape, d);
    }
    return [...demands.values()];
  }
}
