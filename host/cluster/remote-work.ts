/**
 * The driver's submitter: every task, actor creation and actor call a
 * cluster driver makes waits here for its ObjectRef arguments, then goes to
 * the head (in order, for the calls of one actor); results settle the
 * returned refs. Large plain arguments are put into the driver's store first.
 */
import { ObjectStore } from '../../store/object-store.js';
import { RefKind } from '../../store/references.js';
import { ConnectionError, InvalidArgumentError, TaskCancelledError } from '../errors.js';
import { ObjectRef, newId } from '../../store/object-ref.js';
import { snapshotValue } from '../../store/snapshot.js';
import type { LoadedComponent } from '../component/loaded.js';
import { ArgWaits, Lane, type Waiting } from '../core/pending-work.js';
import type { Peer } from './peer.js';
import type { Frame, ResultFrame } from './protocol.js';
import { fromWire } from '../core/error-codec.js';
import { ObjectServer } from './object-transfer.js';
import { INLINE_MAX, prepare } from '../../store/codec.js';
import { remoteArg } from './remote-arg.js';

/** Something sent to the head once its ref arguments are ready: a task, an actor's creation, or an actor call. */
export interface Work extends Waiting {
  id: string;
  name: string;
  component: LoadedComponent;
  args: unknown[];
  /** Large plain arguments put into the driver's store for it (released when it ends). */
  temps: ObjectRef[];
  returns: ObjectRef[];
  state: 'waiting' | 'sent' | 'done';
  /** The frame to send, given its id and its arguments as they travel. */
  frame: (id: string, args: unknown[]) => Frame;
  /** Work that must be sent in order with other work (an actor's calls); undefined: as soon as ready. */
  queue: WorkQueue | undefined;
}

/** Work sent in order (an actor's creation and calls). */
export type WorkQueue = Lane<Work>;

export class RemoteWork {
  private readonly work = new Map<string, Work>();
  private readonly byReturn = new Map<string, string>();
  private readonly shipped = new Set<string>();

  private readonly argWaits: ArgWaits<Work>;

  constructor(private readonly peer: Peer, private readonly objects: ObjectStore, private readonly server: ObjectServer, private readonly storeId: string) {
    this.argWaits = new ArgWaits<Work>(objects, RefKind.PendingTask, {
      waiting: (w) => w.state === 'waiting',
      ready: (w) => this.ready(w),
      failed: (w, e) => this.fail(w, e),
      name: (w) => `'${w.name}'`,
    });
  }

  /** Registers work; returns its result refs at once. */
  add(name: string, component: LoadedComponent, rawArgs: unknown[], numReturns: number, frame: Work['frame'], queue?: WorkQueue): ObjectRef[] {
    const returns: ObjectRef[] = [];
    for (let i = 0; i < numReturns; i++) returns.push(this.objects.create());
    const id = newId();
    // Large plain arguments go into this driver's store, as Ray puts them, so the node pulls them in chunks.
    const temps: ObjectRef[] = [];
    const args = rawArgs.map((a) => {
      if (a instanceof ObjectRef || a === null || typeof a !== 'object' || prepare(a).size <= INLINE_MAX) return snapshotValue(a);
      const r = this.objects.put(a);
      temps.push(r);
      return r;
    });
    const w: Work = { id, name, component, args, temps, returns, pendingDeps: 0, holds: false, state: 'waiting', frame, queue };
    this.work.set(id, w);
    for (const r of returns) this.byReturn.set(r.id, id);
    queue?.push(w);
    this.argWaits.start(w);
    return returns;
  }

  /** Sends ready work: at once, or (in a queue) once everything before it was sent. */
  private ready(w: Work): void {
    if (w.queue) w.queue.drain();
    else this.send(w);
  }

  /** A new lane for work that must go in order (an actor's creation and calls). */
  lane(): WorkQueue {
    return new Lane<Work>(this.stillWaiting, this.sendNow);
  }

  private readonly stillWaiting = (w: Work): boolean => w.state === 'waiting';
  private readonly sendNow = (w: Work): void => this.send(w);

  private send(w: Work): void {
    let args: unknown[];
    try {
      args = w.args.map((a) => {
        if (!(a instanceof ObjectRef)) return a;
        const loc = this.objects.remoteOf(a);
        if (loc) return remoteArg(loc);
        // A sealed object here is pulled by the node from this driver's object server.
        const size = this.objects.blockSize(a);
        if (size !== undefined) return remoteArg(this.server.location(this.storeId, a.id, size));
        return this.objects.value(a);
      });
    } catch (e) {
      this.fail(w, e as Error);
      return;
    }
    if (!this.shipped.has(w.component.hash)) {
      this.shipped.add(w.component.hash);
      this.peer.send({ t: 'component', hash: w.component.hash, bytes: w.component.bytes });
    }
    w.state = 'sent';
    this.peer.send(w.frame(w.id, args));
  }

  /** A result from the head. */
  onResult(f: ResultFrame): void {
    const w = this.work.get(f.taskId);
    if (!w || w.state === 'done') return;
    if (!f.ok || !Array.isArray(f.returns) || f.returns.length !== w.returns.length) {
      this.fail(w, f.error ? fromWire(f.error) : new ConnectionError(`a malformed result for '${w.name}'`));
      return;
    }
    this.done(w);
    w.returns.forEach((r, i) => {
      const v = f.returns![i]!;
      if ('object' in v) this.objects.resolveRemote(r, v.object);
      else this.objects.resolve(r, v.value);
    });
  }

  private done(w: Work): void {
    w.state = 'done';
    this.work.delete(w.id);
    for (const r of w.returns) this.byReturn.delete(r.id);
    this.argWaits.release(w);
    for (const r of w.temps) r.release();
  }

  private fail(w: Work, error: Error): void {
    const waiting = w.state === 'waiting';
    if (this.work.has(w.id)) this.done(w);
    else w.state = 'done';
    for (const r of w.returns) this.objects.fail(r, error);
    // Later work in its queue may now go.
    if (waiting && w.queue) w.queue.drain();
  }

  /** Cancels the work behind `ref`: at once if not sent, else through the head. */
  cancel(ref: ObjectRef, force: boolean, refuseForce: boolean): boolean {
    const id = this.byReturn.get(ref.id);
    const w = id ? this.work.get(id) : undefined;
    if (!w || !id) return false;
    if (force && refuseForce) throw new InvalidArgumentError(`force-cancelling an actor call is not supported (it would kill the actor); cancel without force, or tsray.kill() the actor`);
    if (w.state === 'waiting') { this.fail(w, new TaskCancelledError(w.name)); return true; }
    this.peer.send({ t: 'cancel', taskId: id, force });
    return true;
  }

  /** Whether `ref` is the result of an actor call (queued work). */
  isQueued(ref: ObjectRef): boolean {
    const id = this.byReturn.get(ref.id);
    return !!id && !!this.work.get(id)?.queue;
  }

  /** The connection ended: all unfinished work fails with `error`. */
  failAll(error: Error): void {
    for (const w of [...this.work.values()]) this.fail(w, error);
  }
}
