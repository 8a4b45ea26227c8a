/**
 * A driver connected to a cluster: `tsray.init({ address, token })`. The
 * driver keeps its puts and small task results in a store of its own;
 * large results stay on the node that made them until `get` pulls them
 * here, and a task on another node pulls them from their owner directly.
 * Tasks go to the head, which places them on nodes. Components are sent to
 * the head once per connection, by content hash.
 */
import { randomBytes } from 'node:crypto';
import { ObjectStore } from '../../store/object-store.js';
import { RefKind } from '../../store/references.js';
import { ConnectionError, InvalidArgumentError, ObjectLostError, TaskCancelledError } from '../errors.js';
import { ObjectRef, newId } from '../objects/object-ref.js';
import { snapshotValue } from '../objects/snapshot.js';
import type { ResourceSet } from '../scheduler/resources.js';
import type { TaskSpec } from '../scheduler/scheduler.js';
import type { Runtime, TaskBackend } from '../runtime/runtime.js';
import type { LoadedComponent } from '../component/load.js';
import { Fifo } from '../scheduler/fifo.js';
import { RemoteActors } from './remote-actors.js';
import type { WorkerHandle } from '../worker/pool.js';
import { connect } from './connect.js';
import type { Peer } from './peer.js';
import type { Frame, ResultFrame, StatusReply } from './protocol.js';
import { fromWire } from './wire-error.js';
import { ObjectPuller, ObjectServer } from './object-transfer.js';
import { routeTo } from './host-address.js';
import { requireServing, type Tls } from './tls.js';
import { INLINE_MAX, prepare } from '../../store/codec.js';
import { remoteArg } from './remote-arg.js';
import { defaultSpillDir } from '../runtime/private-dir.js';

export interface DriverOptions {
  address: string;
  token: string;
  /** Bytes for the driver's own object store (default 30% of RAM, committed only as used). */
  objectStoreMemory?: number;
  spillDir?: string;
  /** A `wss://` cluster: the CA to check it with, and this driver's certificate for its object server. */
  tls?: Tls;
}

/** Something sent to the head once its ref arguments are ready: a task, an actor's creation, or an actor call. */
export interface Work {
  name: string;
  component: LoadedComponent;
  args: unknown[];
  /** Large plain arguments put into the driver's store for it (released when it ends). */
  temps: ObjectRef[];
  returns: ObjectRef[];
  pendingDeps: number;
  state: 'waiting' | 'sent' | 'done';
  /** The frame to send, given its id and its arguments as they travel. */
  frame: (id: string, args: unknown[]) => Frame;
  /** Work that must be sent in order with other work (an actor's calls); undefined: as soon as ready. */
  queue: WorkQueue | undefined;
}

/** Work sent in order (an actor's creation and calls). */
export type WorkQueue = Fifo<[string, Work]>;

/** How often the driver refreshes its view of the cluster's resources. */
const RESOURCES_MS = 1000;

export class RemoteWork {
  private readonly work = new Map<string, Work>();
  private readonly byReturn = new Map<string, string>();
  private readonly shipped = new Set<string>();

  constructor(private readonly peer: Peer, private readonly objects: ObjectStore, private readonly server: ObjectServer, private readonly storeId: string) {}

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
    const w: Work = { name, component, args, temps, returns, pendingDeps: 0, state: 'waiting', frame, queue };
    for (const a of rawArgs) {
      if (a instanceof ObjectRef && !this.objects.has(a)) {
        this.fail(id, w, new InvalidArgumentError(`'${name}' got ${a}, which ${a.released ? 'was released' : 'this runtime does not know'}`));
        return returns;
      }
    }
    this.work.set(id, w);
    for (const r of returns) this.byReturn.set(r.id, id);
    for (const a of args) if (a instanceof ObjectRef) this.objects.hold(a, RefKind.PendingTask);
    queue?.push([id, w]);
    for (const a of args) {
      if (!(a instanceof ObjectRef)) continue;
      const st = this.objects.peek(a);
      if (st) { if (!st.ok) { this.fail(id, w, st.error); return returns; } continue; }
      w.pendingDeps++;
      this.objects.onSettled(a, (r) => {
        if (w.state !== 'waiting') return;
        if (!r.ok) this.fail(id, w, r.error);
        else if (--w.pendingDeps === 0) this.ready(id, w);
      });
    }
    if (w.pendingDeps === 0) this.ready(id, w);
    return returns;
  }

  /** Sends ready work: at once, or (in a queue) once everything before it was sent. */
  private ready(id: string, w: Work): void {
    if (!w.queue) { this.send(id, w); return; }
    for (let head = w.queue.peek(); head; head = w.queue.peek()) {
      const [hid, hw] = head;
      if (hw.state === 'waiting' && hw.pendingDeps > 0) return;
      w.queue.shift();
      if (hw.state === 'waiting') this.send(hid, hw);
    }
  }

  private send(id: string, w: Work): void {
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
      this.fail(id, w, e as Error);
      return;
    }
    if (!this.shipped.has(w.component.hash)) {
      this.shipped.add(w.component.hash);
      this.peer.send({ t: 'component', hash: w.component.hash, bytes: w.component.bytes });
    }
    w.state = 'sent';
    this.peer.send(w.frame(id, args));
  }

  /** A result from the head. */
  onResult(f: ResultFrame): void {
    const w = this.work.get(f.taskId);
    if (!w || w.state === 'done') return;
    if (!f.ok || !Array.isArray(f.returns) || f.returns.length !== w.returns.length) {
      this.fail(f.taskId, w, f.error ? fromWire(f.error) : new ConnectionError(`a malformed result for '${w.name}'`));
      return;
    }
    this.done(f.taskId, w);
    w.returns.forEach((r, i) => {
      const v = f.returns![i]!;
      if ('object' in v) this.objects.resolveRemote(r, v.object);
      else this.objects.resolve(r, v.value);
    });
  }

  private done(id: string, w: Work): void {
    w.state = 'done';
    this.work.delete(id);
    for (const r of w.returns) this.byReturn.delete(r.id);
    for (const a of w.args) if (a instanceof ObjectRef) this.objects.unhold(a, RefKind.PendingTask);
    for (const r of w.temps) r.release();
  }

  private fail(id: string, w: Work, error: Error): void {
    const waiting = w.state === 'waiting';
    if (this.work.has(id)) this.done(id, w);
    else w.state = 'done';
    for (const r of w.returns) this.objects.fail(r, error);
    // Later work in its queue may now go.
    if (waiting && w.queue) { const next = w.queue.peek(); if (next) this.ready(next[0], next[1]); }
  }

  /** Cancels the work behind `ref`: at once if not sent, else through the head. */
  cancel(ref: ObjectRef, force: boolean, refuseForce: boolean): boolean {
    const id = this.byReturn.get(ref.id);
    const w = id ? this.work.get(id) : undefined;
    if (!w || !id) return false;
    if (force && refuseForce) throw new InvalidArgumentError(`force-cancelling an actor call is not supported (it would kill the actor); cancel without force, or tsray.kill() the actor`);
    if (w.state === 'waiting') { this.fail(id, w, new TaskCancelledError(w.name)); return true; }
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
    for (const [id, w] of [...this.work]) this.fail(id, w, error);
  }
}

class RemoteTasks implements TaskBackend {
  private totals: ResourceSet = {};
  private free: ResourceSet = {};
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly peer: Peer, private readonly work: RemoteWork) {
    this.timer = setInterval(() => { void this.refresh(); }, RESOURCES_MS);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    let s: StatusReply;
    try {
      s = await this.peer.request<StatusReply>({ t: 'status', id: 0 });
    } catch {
      return;
    }
    const totals: ResourceSet = {};
    const free: ResourceSet = {};
    for (const n of s.nodes) {
      if (n.state !== 'ALIVE') continue;
      for (const [k, v] of Object.entries(n.resources)) totals[k] = (totals[k] ?? 0) + v;
      for (const [k, v] of Object.entries(n.available)) free[k] = (free[k] ?? 0) + v;
    }
    this.totals = totals;
    this.free = free;
  }

  submit(spec: TaskSpec): ObjectRef[] {
    const o = spec.opts;
    return this.work.add(spec.name, spec.component, spec.args, o.numReturns, (taskId, args) => ({
      t: 'submit',
      task: {
        taskId, hash: spec.component.hash, name: spec.name, fn: spec.fn, args,
        opts: o,
      },
    }));
  }

  cancel(ref: ObjectRef, force: boolean): boolean {
    return this.work.cancel(ref, force, false);
  }

  crashWorkerOf(): boolean {
    return false;
  }

  availableResources(): ResourceSet {
    return { ...this.free };
  }

  totalResources(): ResourceSet {
    return { ...this.totals };
  }

  get workerCount(): number {
    return 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export class ClusterDriver implements Runtime {
  readonly objects: ObjectStore;
  readonly scheduler: RemoteTasks;
  readonly actors: RemoteActors;
  private readonly work: RemoteWork;
  private closing = false;
  private readonly puller: ObjectPuller;
  private readonly server: ObjectServer;
  /** Objects freed here whose owners have not been told yet, by node. */
  private toFree = new Map<string, string[]>();

  private constructor(private readonly peer: Peer, opts: DriverOptions, objects: ObjectStore, server: ObjectServer, readonly nodeId: string) {
    this.objects = objects;
    this.server = server;
    this.work = new RemoteWork(peer, this.objects, server, this.nodeId);
    this.scheduler = new RemoteTasks(peer, this.work);
    this.actors = new RemoteActors(peer, this.work, this.objects);
    this.puller = new ObjectPuller(this.objects, opts.token, opts.tls);
    // Owners learn of freed objects in batches, once per turn of the event loop.
    this.objects.onRemoteFree = (loc) => {
      if (this.toFree.size === 0) setImmediate(() => this.flushFrees());
      const list = this.toFree.get(loc.nodeId) ?? [];
      list.push(loc.objectId);
      this.toFree.set(loc.nodeId, list);
    };
  }

  private flushFrees(): void {
    const batch = this.toFree;
    this.toFree = new Map();
    for (const [nodeId, objectIds] of batch) this.peer.send({ t: 'free', nodeId, objectIds });
  }

  /** Pulls objects held by nodes into this driver's store (each once; concurrent gets share a pull). */
  async fetch(refs: ObjectRef[]): Promise<void> {
    const pulls: Promise<unknown>[] = [];
    for (const r of refs) {
      const loc = this.objects.remoteOf(r);
      if (!loc) continue;
      pulls.push(this.puller.pull(loc, r).catch((e: Error) => {
        // Only a transfer that failed for good loses the object; anything else (a bad argument, ...) is the caller's to see.
        if (e instanceof ObjectLostError) this.objects.lose({ ref: r }, e.message);
        else throw e;
      }));
    }
    await Promise.all(pulls);
  }

  static async connect(opts: DriverOptions): Promise<ClusterDriver> {
    requireServing(opts.address, opts.tls, 'a driver');
    let driver: ClusterDriver | undefined;
    const early: Frame[] = [];
    const onFrame = (f: Frame): void => {
      if (!driver) { early.push(f); return; }
      if (f.t === 'result') driver.work.onResult(f);
      else if (f.t === 'node-dead') driver.objects.lose({ nodeId: f.nodeId }, `its node ${f.nodeId} died (${f.cause}) and held the only copy`);
    };
    // Nodes pull this driver's large objects (puts, large arguments) from here.
    const objects = new ObjectStore({
      nodeId: randomBytes(8).toString('hex'),
      capacity: opts.objectStoreMemory ?? 2 ** 30,
      spillDir: opts.spillDir ?? defaultSpillDir(),
      spillThreshold: 0.8,
      minSpillBytes: 100 * 2 ** 20,
      localFsCapacityThreshold: 0.95,
      recordTaskCallSites: process.env.TSRAY_RECORD_REF_CREATION_SITES === '1',
    });
    // Listening only on the interface that reaches the head: nodes pull from there, nobody else can reach it.
    const server = await ObjectServer.start(objects, opts.token, await routeTo(opts.address), opts.tls ? { tls: opts.tls } : {});
    const storeId = `driver-${randomBytes(6).toString('hex')}`;
    let peer: Peer;
    try {
      ({ peer } = await connect(opts.address, opts.token, 'driver', {
        onFrame,
        onClose: (code, reason) => {
          if (!driver || driver.closing) return;
          driver.scheduler.stop();
          driver.work.failAll(new ConnectionError(`lost the cluster at ${opts.address} (${code}${reason ? `: ${reason}` : ''}); its results cannot arrive`));
        },
      }, { objects: { storeId, address: server.address } }, opts.tls));
    } catch (e) {
      await server.close();
      objects.close();
      throw e;
    }
    driver = new ClusterDriver(peer, opts, objects, server, storeId);
    for (const f of early.splice(0)) onFrame(f);
    await driver.scheduler.refresh();
    return driver;
  }

  isRunning(): boolean {
    return false;
  }

  waitForResults(): void { /* results arrive through the event loop */ }

  poll(): void { /* nothing local to poll */ }

  workers(): WorkerHandle[] {
    return [];
  }

  async close(error: Error): Promise<void> {
    this.closing = true;
    this.scheduler.stop();
    this.work.failAll(error);
    this.objects.failPending(error);
    this.objects.onRemoteFree = undefined;
    this.objects.close();
    this.puller.close();
    await this.server.close();
    this.peer.close();
  }
}
