/**
 * A submitter to the head: every task, actor creation and actor call a
 * cluster driver makes, and every nested task a node sends away, waits here
 * for its ObjectRef arguments, then goes to the head (in order, for the
 * calls of one actor); results settle the returned refs. Large plain
 * arguments are put into the submitter's store first. Plain tasks may go
 * on worker leases instead, and an actor's calls on a route straight to
 * its node (lease-pool.ts, actor-path.ts).
 */
import { ObjectStore } from '../../store/object-store.js';
import { RefKind } from '../../store/references.js';
import { ActorDiedError, ConnectionError, InvalidArgumentError, TaskCancelledError, WorkerCrashedError } from '../errors.js';
import { ObjectRef, newId } from '../../store/object-ref.js';
import { snapshotValue } from '../../store/snapshot.js';
import type { LoadedComponent } from '../component/loaded.js';
import { ArgWaits, Lane } from '../core/pending-work.js';
import type { HeadChannel } from './head-link.js';
import type { EmitFrame, Frame, ResultFrame, ReturnValue } from './protocol.js';
import { ActorPath } from './actor-path.js';
import type { SubmitterOptions, Work, WorkExtras, WorkQueue } from './work.js';
import type { LeasePool } from './lease-pool.js';
import type { NormalizedOptions } from '../core/options.js';
import { handlesIn } from '../core/given-handles.js';
import { fromWire } from '../core/error-codec.js';
import { ObjectServer } from './object-transfer.js';
import { INLINE_MAX, prepare } from '../../store/codec.js';
import { bytesByNode, remoteArg, remoteLocation } from './remote-arg.js';
import { Lineage } from './lineage.js';
import { landRefs, locationsIn, unmarkRefs, wireRef, type RefSource, type WireRef } from './wire-refs.js';

export type { LeaseShape, SubmitterOptions, Work, WorkExtras, WorkQueue } from './work.js';

/**
 * Frame `f` saying the tries its work lost with leased nodes or routes
 * already, so whoever runs it next (the head, a node) counts on from there
 * and maxRetries / maxTaskRetries hold across every way it went.
 */
function withAttempt(f: Frame, attempts: number): Frame {
  if (attempts === 0) return f;
  if (f.t === 'actor-call') return { ...f, attempt: attempts };
  if (f.t === 'submit') return { ...f, task: { ...f.task, attempt: attempts } };
  return f;
}

export class RemoteWork {
  private readonly work = new Map<string, Work>();
  private readonly byReturn = new Map<string, string>();
  private readonly shipped = new Set<string>();

  private readonly argWaits: ArgWaits<Work>;
  /** Finished tasks kept to make their results again (lineage.ts). */
  private readonly lineage = new Lineage<Work>((w) => this.letGo(w));

  private readonly src: RefSource;
  /** This submitter's own object server: the one place besides a leased node that a leased task's arguments may be. */
  private readonly ownAddress: string;
  /** Worker leases (a driver's); absent: everything goes through the head. */
  pool: LeasePool | undefined;

  constructor(private readonly peer: HeadChannel, private readonly objects: ObjectStore, server: ObjectServer, storeId: string,
    private readonly opts: SubmitterOptions = { shipComponents: true, land: (r, loc) => objects.resolveRemote(r, loc) }) {
    this.src = { objects, location: (id, size) => server.location(storeId, id, size) };
    this.ownAddress = server.address;
    objects.onFreed = (id) => this.lineage.freed(id);
    this.argWaits = new ArgWaits<Work>(objects, RefKind.PendingTask, {
      waiting: (w) => w.state === 'waiting',
      ready: (w) => this.ready(w),
      failed: (w, e) => this.fail(w, e),
      name: (w) => `'${w.name}'`,
    });
  }

  /** Registers work; returns its result refs at once. */
  add(name: string, component: LoadedComponent, rawArgs: unknown[], numReturns: number, frame: Work['frame'], extras: WorkExtras = {}): ObjectRef[] {
    const { queue, returnIds } = extras;
    const returns: ObjectRef[] = [];
    for (let i = 0; i < numReturns; i++) returns.push(this.objects.create(returnIds?.[i]));
    const id = extras.id ?? newId();
    // Large plain arguments go into this driver's store, as Ray puts them, so the node pulls them in chunks.
    const temps: ObjectRef[] = [];
    const args = rawArgs.map((a) => {
      if (a instanceof ObjectRef || a === null || typeof a !== 'object' || prepare(a).size <= INLINE_MAX) return snapshotValue(a);
      const r = this.objects.put(a);
      temps.push(r);
      return r;
    });
    const w: Work = { id, name, component, args, temps, returns, refArgs: extras.borrowed ?? [], stream: extras.stream, pendingDeps: 0, holds: false, state: 'waiting', frame, queue, components: [component, ...(extras.components ?? [])], ran: extras.ran, maxRetries: extras.stream || queue ? undefined : extras.maxRetries, rebuilds: 0,
      lease: extras.stream || queue ? undefined : extras.lease, attempts: 0, way: undefined };
    this.work.set(id, w);
    for (const r of returns) this.byReturn.set(r.id, id);
    queue?.lane.push(w);
    this.argWaits.start(w);
    return returns;
  }

  /** Sends ready work: at once, or (in a queue) once everything before it was sent. */
  private ready(w: Work): void {
    if (w.queue) this.drain(w.queue);
    else this.send(w);
  }

  /** Sends what may go from the front of `q`: not past a call that waits for its path. */
  private drain(q: WorkQueue): void {
    q.lane.drain(() => !q.path?.blocked);
  }

  /** A new lane for work that must go in order: an actor's creation and calls (`actor`: whose calls may go on a route). */
  lane(actor?: { actorId: string; maxTaskRetries: number }): WorkQueue {
    return { lane: new Lane<Work>(this.stillWaiting, this.sendNow), path: actor && this.pool ? new ActorPath(actor.actorId, actor.maxTaskRetries) : undefined };
  }

  /** Actor `q` is gone for good: its route is let go. */
  unroute(q: WorkQueue): void {
    if (q.path) this.pool?.unroute(q.path.actorId);
  }

  private readonly stillWaiting = (w: Work): boolean => w.state === 'waiting';
  private readonly sendNow = (w: Work): void => this.send(w);

  /** Work `w` as it travels now (its sealed arguments as locations), or undefined when it failed. */
  private travelling(w: Work): { f: Frame; args: unknown[]; refs: WireRef[] | undefined } | undefined {
    let args: unknown[];
    let refs: WireRef[] | undefined;
    try {
      args = w.args.map((a) => {
        if (!(a instanceof ObjectRef)) return a;
        // A sealed object is pulled by the node from where it is; a small one travels as its value.
        const r = wireRef(this.src, a);
        if ('at' in r) return remoteArg(r.at);
        if ('error' in r) throw fromWire(r.error);
        return r.value;
      });
      if (w.refArgs.length) refs = w.refArgs.map((r) => wireRef(this.src, r));
    } catch (e) {
      this.fail(w, e as Error);
      return undefined;
    }
    return { f: withAttempt(w.frame(w.id, args, refs), w.attempts), args, refs };
  }

  private send(w: Work): void {
    const out = this.travelling(w);
    if (!out) return;
    const { f, args, refs } = out;
    w.state = 'sent';
    const path = w.queue?.path;
    if (path && f.t === 'actor-call' && this.pool) {
      const way = path.next(this.pool.routed(path.actorId) && this.leasable(args, refs));
      if (way === 'wait') {
        // It goes once the other way drained (done() drains the lane again).
        w.state = 'waiting';
        path.blocked = true;
        w.queue!.lane.unshift(w);
        return;
      }
      w.way = way;
      path.sent(way);
      if (way === 'direct') { this.pool.call(path.actorId, { id: w.id, task: f, components: [], viaHead: f }); return; }
    }
    if (w.lease && this.pool && f.t === 'submit' && this.leasable(args, refs)) {
      // The node normalizes the options as given again and reads nothing else of them: only those travel.
      const task = { ...f.task, opts: { given: f.task.opts.given } as NormalizedOptions };
      const t = { id: w.id, task, components: w.components, viaHead: f };
      if (this.pool.take(w.lease.shape, w.lease.request, t, this.nearest(args, refs))) return;
    }
    this.viaHead(w, f);
  }

  /** Sends `f`, work `w`'s frame, to the head (with the components it needs there first). */
  private viaHead(w: Work, f: Frame): void {
    for (const c of w.components) {
      if (!this.opts.shipComponents || this.shipped.has(c.hash)) continue;
      this.shipped.add(c.hash);
      this.peer.send({ t: 'component', hash: c.hash, bytes: c.bytes });
    }
    this.peer.send(f);
  }

  /**
   * Whether a task may go on a lease: its arguments are here or on nodes
   * the head announced (the leased node trusts no other address) and it
   * carries no actor handles (the head grants those to the node that gets
   * them).
   */
  private leasable(args: unknown[], refs: WireRef[] | undefined): boolean {
    let objects = false;
    for (const a of args) {
      if (a === null || typeof a !== 'object') continue;
      objects = true;
      const loc = remoteLocation(a);
      if (loc && !this.trusted(loc.address)) return false;
    }
    if (refs?.some((r) => 'at' in r && !this.trusted(r.at.address))) return false;
    return !objects || handlesIn(args).size === 0;
  }

  /** The node other than this one holding most bytes of these arguments, if any (where the task had best run). */
  private nearest(args: unknown[], refs: WireRef[] | undefined): string | undefined {
    const elsewhere = [...args.map(remoteLocation), ...locationsIn(refs)].filter((l) => l && l.address !== this.ownAddress);
    let best: string | undefined;
    let most = -1;
    for (const [nodeId, b] of bytesByNode(elsewhere) ?? []) if (b > most) { best = nodeId; most = b; }
    return best;
  }

  private trusted(address: string): boolean {
    return address === this.ownAddress || !!this.pool?.members.isAlive(address);
  }

  /** A leased task's node was lost before it answered: it runs again while its retries last, as the head retries its own. */
  lost(id: string, why: string, viaHead: Frame): void {
    const w = this.work.get(id);
    if (!w || w.state !== 'sent') return;
    w.attempts++;
    const path = w.way === 'direct' ? w.queue?.path : undefined;
    if (path) {
      // An actor call lost with its node: through the head while its retries last (the head knows if and where the actor restarted).
      if (w.attempts > path.maxTaskRetries) { this.fail(w, new ActorDiedError(path.actorId, `its node was lost while its call '${w.name}' ran (${why}; maxTaskRetries ${path.maxTaskRetries})`)); return; }
      w.way = 'head';
      this.viaHead(w, withAttempt(viaHead, w.attempts));
      if (path.rerouted()) this.drain(w.queue!);
      return;
    }
    if (w.attempts > (w.maxRetries ?? 0)) {
      this.fail(w, new WorkerCrashedError(w.name, w.attempts, why, 'node'));
      return;
    }
    this.send(w);
  }

  /** A leased task the pool could not place: through the head after all (`f`: its frame for the head). */
  unleased(id: string, f: Frame): void {
    const w = this.work.get(id);
    if (w && w.state === 'sent') this.viaHead(w, f);
  }

  /** A result from the head. */
  onResult(f: ResultFrame): void {
    const w = this.work.get(f.taskId);
    if (!w || w.state === 'done') return;
    if (!f.ok || !Array.isArray(f.returns) || f.returns.length !== w.returns.length) {
      this.fail(w, f.error ? fromWire(f.error) : new ConnectionError(`a malformed result for '${w.name}'`));
      return;
    }
    const viaHead = w.way === 'head' ? w.queue?.path : undefined;
    this.done(w, true);
    if (f.ms !== undefined) w.ran?.(f.ms);
    if (viaHead) this.routeAfter(viaHead);
    w.returns.forEach((r, i) => this.settle(r, f.returns![i]!));
  }

  /** A value a streaming task emitted: a new object, to its sink (in order; a retry's repeats are dropped there). */
  onEmit(f: EmitFrame): void {
    const w = this.work.get(f.taskId);
    if (!w?.stream) return;
    const r = this.objects.create();
    this.settle(r, f.value);
    w.stream.push(f.index, r);
  }

  /** Settles pending `r` as a node returned it. */
  private settle(r: ObjectRef, v: ReturnValue): void {
    if ('object' in v) this.opts.land(r, v.object);
    else if (v.refs?.length) this.resolveWithRefs(r, v.value, v.refs);
    else this.objects.resolve(r, v.value);
  }

  /** A value holding refs: each becomes an object here, which the value then holds. */
  private resolveWithRefs(r: ObjectRef, value: unknown, wire: WireRef[]): void {
    let refs: ObjectRef[] = [];
    try {
      refs = landRefs(this.objects, wire, (loc) => {
        const c = this.objects.create();
        this.opts.land(c, loc);
        return c;
      });
      this.objects.resolve(r, unmarkRefs(value, refs));
    } catch (e) {
      this.objects.fail(r, e as Error);
    } finally {
      for (const c of refs) c.release();
    }
  }

  /** `w` ended; one that `succeeded` and may run again is kept, holding its arguments, for its results' sake. */
  private done(w: Work, succeeded = false): void {
    w.state = 'done';
    const way = w.way;
    w.way = undefined;
    if (way && w.queue?.path?.answered(way)) queueMicrotask(() => this.drain(w.queue!));
    this.lineage.forget(w); // a run made again ends: kept anew below, or not at all
    this.work.delete(w.id);
    for (const r of w.returns) this.byReturn.delete(r.id);
    // Kept by result ids (handles that count for nothing), so the submitter's own refs can still go.
    if (succeeded && w.maxRetries !== undefined && w.maxRetries > w.rebuilds) this.lineage.keep({ ...w, returns: w.returns.map((r) => new ObjectRef(r.id)) }, (id) => this.objects.has(new ObjectRef(id)));
    else this.letGo(w);
  }

  /** A call through the head was answered, so the actor lives on a node: its calls may go there directly once a route is held. */
  private routeAfter(path: ActorPath): void {
    const pool = this.pool;
    if (!pool || !path.mayAsk(pool.routed(path.actorId), Date.now())) return;
    path.asked();
    void pool.route(path.actorId).then((granted) => path.settled(granted, Date.now()));
  }

  private letGo(w: Work): void {
    this.argWaits.release(w);
    for (const r of w.temps) r.release();
  }

  /**
   * Object `id`, a result whose only copy was lost with its node: runs its
   * task again (`true`; the object is pending until then), or says why it
   * cannot be made again.
   */
  rebuild(id: string): true | string {
    const w = this.lineage.of(id);
    if (!w) return 'only results of tasks that may run again (maxRetries > 0) are made again; objects that were put and results of actor calls or streaming tasks never are';
    if (w.state !== 'done') return true; // its task runs again already, for another of its results
    if (w.rebuilds >= w.maxRetries!) return `its task '${w.name}' ran again ${w.rebuilds} time(s) already, as many as its maxRetries allow`;
    if (w.args.some((a) => a instanceof ObjectRef && a.released)) return `an argument of its task '${w.name}' was released, so the task cannot run again`;
    const again: Work = { ...w, id: newId(), state: 'waiting', pendingDeps: 0, holds: false, rebuilds: w.rebuilds + 1, attempts: 0 };
    // Its other results, if lost too, are found running again rather than refused.
    this.lineage.replace(w, again);
    this.work.set(again.id, again);
    for (const r of again.returns) this.byReturn.set(r.id, again.id);
    // It holds the arguments before the run it replaces lets go of them, so none is freed in between.
    this.argWaits.start(again);
    this.argWaits.release(w);
    return true;
  }

  private fail(w: Work, error: Error): void {
    const waiting = w.state === 'waiting';
    if (this.work.has(w.id)) this.done(w);
    else w.state = 'done';
    for (const r of w.returns) this.objects.fail(r, error);
    // Later work in its queue may now go.
    if (waiting && w.queue) this.drain(w.queue);
  }

  /** Cancels the work behind `ref` (and, when `recursive`, what it submitted): at once if not sent, else through the head. */
  cancel(ref: ObjectRef, force: boolean, refuseForce: boolean, recursive = true): boolean {
    const id = this.byReturn.get(ref.id);
    const w = id ? this.work.get(id) : undefined;
    if (!w || !id) return false;
    if (force && refuseForce) throw new InvalidArgumentError(`force-cancelling an actor call is not supported (it would kill the actor); cancel without force, or tsray.kill() the actor`);
    if (w.state === 'waiting') { this.fail(w, new TaskCancelledError(w.name)); return true; }
    const leased = this.pool?.cancel(id, force, recursive);
    if (leased === 'dropped') this.fail(w, new TaskCancelledError(w.name));
    if (leased) return true;
    this.peer.send({ t: 'cancel', taskId: id, force, ...(recursive ? {} : { recursive: false }) });
    return true;
  }

  /** Whether `ref` is the result of an actor call (queued work). */
  isQueued(ref: ObjectRef): boolean {
    const id = this.byReturn.get(ref.id);
    return !!id && !!this.work.get(id)?.queue;
  }

  /**
   * The head came back from a restart (head-link.ts): everything sent and
   * not answered goes again, in the order it was made, since the old head
   * may have died holding it; the new one runs only what no node runs
   * already. Components go again with the first work that needs them.
   */
  resend(): void {
    this.shipped.clear();
    // Work on worker leases never went through the head: it is answered by its node as before.
    for (const w of this.work.values()) {
      if (w.state !== 'sent' || this.pool?.carries(w.id)) continue;
      if (w.way !== 'head') { this.send(w); continue; }
      // An actor's calls through the head go through it again, in order (none is on a route meanwhile: actor-path.ts).
      const out = this.travelling(w);
      if (out) this.viaHead(w, out.f);
    }
  }

  /** The connection ended: all unfinished work fails with `error`. */
  failAll(error: Error): void {
    for (const w of [...this.work.values()]) this.fail(w, error);
  }
}
