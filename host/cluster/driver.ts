/**
 * A driver connected to a cluster: `tsray.init({ address, token })`. The
 * driver keeps its puts and small task results in a store of its own;
 * large results stay on the node that made them until `get` pulls them
 * here, and a task on another node pulls them from their owner directly.
 * Tasks go to the head, which places them on nodes. Components are sent to
 * the head once per connection, by content hash.
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectStore } from '../../store/object-store.js';
import { RefKind } from '../../store/references.js';
import { ConnectionError, InvalidArgumentError, ObjectLostError, TaskCancelledError } from '../errors.js';
import { ObjectRef, newId } from '../objects/object-ref.js';
import { snapshotValue } from '../objects/snapshot.js';
import type { ResourceSet } from '../scheduler/resources.js';
import type { TaskSpec } from '../scheduler/scheduler.js';
import type { Runtime, TaskBackend } from '../runtime/runtime.js';
import type { WorkerHandle } from '../worker/pool.js';
import { connect } from './connect.js';
import type { Peer } from './peer.js';
import type { Frame, ResultFrame, StatusReply } from './protocol.js';
import { fromWire } from './wire-error.js';
import { ObjectPuller, ObjectServer } from './object-transfer.js';
import { publicHost } from './host-address.js';
import { INLINE_MAX, prepare } from '../../store/codec.js';
import { remoteArg } from './remote-arg.js';

export interface DriverOptions {
  address: string;
  token: string;
  /** Bytes for the driver's own object store (default 30% of RAM, committed only as used). */
  objectStoreMemory?: number;
  spillDir?: string;
}

interface DriverTask {
  spec: TaskSpec;
  /** Large plain arguments put into the driver's store for the task (released when it ends). */
  temps: ObjectRef[];
  returns: ObjectRef[];
  pendingDeps: number;
  state: 'waiting' | 'sent' | 'done';
}

/** How often the driver refreshes its view of the cluster's resources. */
const RESOURCES_MS = 1000;

class RemoteTasks implements TaskBackend {
  private readonly tasks = new Map<string, DriverTask>();
  private readonly byReturn = new Map<string, string>();
  private readonly shipped = new Set<string>();
  private totals: ResourceSet = {};
  private free: ResourceSet = {};
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly peer: Peer, private readonly objects: ObjectStore, private readonly server: ObjectServer, private readonly storeId: string) {
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
    const returns: ObjectRef[] = [];
    for (let i = 0; i < spec.opts.numReturns; i++) returns.push(this.objects.create());
    const taskId = newId();
    // Large plain arguments go into this driver's store, as Ray puts them, so the node pulls them in chunks.
    const temps: ObjectRef[] = [];
    const args = spec.args.map((a) => {
      if (a instanceof ObjectRef || a === null || typeof a !== 'object' || prepare(a).size <= INLINE_MAX) return snapshotValue(a);
      const r = this.objects.put(a);
      temps.push(r);
      return r;
    });
    const task: DriverTask = { spec: { ...spec, args }, temps, returns, pendingDeps: 0, state: 'waiting' };
    for (const a of spec.args) {
      if (a instanceof ObjectRef && !this.objects.has(a)) {
        this.fail(taskId, task, new InvalidArgumentError(`task '${spec.name}' got ${a}, which ${a.released ? 'was released' : 'this runtime does not know'}`));
        return returns;
      }
    }
    this.tasks.set(taskId, task);
    for (const r of returns) this.byReturn.set(r.id, taskId);
    for (const a of task.spec.args) if (a instanceof ObjectRef) this.objects.hold(a, RefKind.PendingTask);
    for (const a of task.spec.args) {
      if (!(a instanceof ObjectRef)) continue;
      const s = this.objects.peek(a);
      if (s) { if (!s.ok) { this.fail(taskId, task, s.error); return returns; } continue; }
      task.pendingDeps++;
      this.objects.onSettled(a, (r) => {
        if (task.state !== 'waiting') return;
        if (!r.ok) this.fail(taskId, task, r.error);
        else if (--task.pendingDeps === 0) this.send(taskId, task);
      });
    }
    if (task.pendingDeps === 0) this.send(taskId, task);
    return returns;
  }

  private send(taskId: string, task: DriverTask): void {
    const { spec } = task;
    let args: unknown[];
    try {
      args = spec.args.map((a) => {
        if (!(a instanceof ObjectRef)) return a;
        const loc = this.objects.remoteOf(a);
        if (loc) return remoteArg(loc);
        // A sealed object here is pulled by the node from this driver's object server.
        const size = this.objects.blockSize(a);
        if (size !== undefined) return remoteArg({ nodeId: this.storeId, address: this.server.address, objectId: a.id, size });
        return this.objects.value(a);
      });
    } catch (e) {
      this.fail(taskId, task, e as Error);
      return;
    }
    if (!this.shipped.has(spec.component.hash)) {
      this.shipped.add(spec.component.hash);
      this.peer.send({ t: 'component', hash: spec.component.hash, bytes: spec.component.bytes });
    }
    task.state = 'sent';
    const o = spec.opts;
    this.peer.send({
      t: 'submit',
      task: {
        taskId, hash: spec.component.hash, name: spec.name, fn: spec.fn, args,
        opts: {
          request: o.request, shape: o.shape, numGpus: o.numGpus, numReturns: o.numReturns, maxRetries: o.maxRetries,
          ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }), ...(o.maxMemoryMb === undefined ? {} : { maxMemoryMb: o.maxMemoryMb }),
        },
      },
    });
  }

  /** A result from the head. */
  onResult(f: ResultFrame): void {
    const task = this.tasks.get(f.taskId);
    if (!task || task.state === 'done') return;
    if (!f.ok || !Array.isArray(f.returns) || f.returns.length !== task.returns.length) {
      this.fail(f.taskId, task, f.error ? fromWire(f.error) : new ConnectionError(`a malformed result for task '${task.spec.name}'`));
      return;
    }
    this.done(f.taskId, task);
    task.returns.forEach((r, i) => {
      const v = f.returns![i]!;
      if ('object' in v) this.objects.resolveRemote(r, v.object);
      else this.objects.resolve(r, v.value);
    });
  }

  private done(taskId: string, task: DriverTask): void {
    task.state = 'done';
    this.tasks.delete(taskId);
    for (const r of task.returns) this.byReturn.delete(r.id);
    for (const a of task.spec.args) if (a instanceof ObjectRef) this.objects.unhold(a, RefKind.PendingTask);
    for (const r of task.temps) r.release();
  }

  private fail(taskId: string, task: DriverTask, error: Error): void {
    const held = this.tasks.has(taskId);
    if (held) this.done(taskId, task);
    else task.state = 'done';
    for (const r of task.returns) this.objects.fail(r, error);
  }

  cancel(ref: ObjectRef, force: boolean): boolean {
    const taskId = this.byReturn.get(ref.id);
    const task = taskId ? this.tasks.get(taskId) : undefined;
    if (!task || !taskId) return false;
    if (task.state === 'waiting') { this.fail(taskId, task, new TaskCancelledError(task.spec.name)); return true; }
    this.peer.send({ t: 'cancel', taskId, force });
    return true;
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

  /** The connection ended: every unfinished task fails with `error`. */
  failAll(error: Error): void {
    clearInterval(this.timer);
    for (const [id, t] of [...this.tasks]) this.fail(id, t, error);
  }
}

export class ClusterDriver implements Runtime {
  readonly nodeId = `driver-${randomBytes(6).toString('hex')}`;
  readonly objects: ObjectStore;
  readonly scheduler: RemoteTasks;
  readonly actors = undefined;
  private closing = false;
  private readonly puller: ObjectPuller;
  private readonly server: ObjectServer;
  /** Objects freed here whose owners have not been told yet, by node. */
  private toFree = new Map<string, string[]>();

  private constructor(private readonly peer: Peer, opts: DriverOptions, objects: ObjectStore, server: ObjectServer) {
    this.objects = objects;
    this.server = server;
    this.scheduler = new RemoteTasks(peer, this.objects, server, this.nodeId);
    this.puller = new ObjectPuller(this.objects, opts.token);
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
    let driver: ClusterDriver | undefined;
    const early: Frame[] = [];
    const onFrame = (f: Frame): void => {
      if (!driver) { early.push(f); return; }
      if (f.t === 'result') driver.scheduler.onResult(f);
      else if (f.t === 'node-dead') driver.objects.lose({ nodeId: f.nodeId }, `its node ${f.nodeId} died (${f.cause}) and held the only copy`);
    };
    // Nodes pull this driver's large objects (puts, large arguments) from here.
    const objects = new ObjectStore({
      nodeId: randomBytes(8).toString('hex'),
      capacity: opts.objectStoreMemory ?? 2 ** 30,
      spillDir: opts.spillDir ?? join(tmpdir(), 'tsray-spill'),
      spillThreshold: 0.8,
      minSpillBytes: 100 * 2 ** 20,
      localFsCapacityThreshold: 0.95,
      recordTaskCallSites: process.env.TSRAY_RECORD_REF_CREATION_SITES === '1',
    });
    const server = await ObjectServer.start(objects, opts.token, publicHost());
    let peer: Peer;
    try {
      ({ peer } = await connect(opts.address, opts.token, 'driver', {
        onFrame,
        onClose: (code, reason) => {
          if (!driver || driver.closing) return;
          driver.scheduler.failAll(new ConnectionError(`lost the cluster at ${opts.address} (${code}${reason ? `: ${reason}` : ''}); its results cannot arrive`));
        },
      }));
    } catch (e) {
      await server.close();
      objects.close();
      throw e;
    }
    driver = new ClusterDriver(peer, opts, objects, server);
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
    this.scheduler.failAll(error);
    this.objects.failPending(error);
    this.objects.onRemoteFree = undefined;
    this.objects.close();
    this.puller.close();
    await this.server.close();
    this.peer.close();
  }
}
