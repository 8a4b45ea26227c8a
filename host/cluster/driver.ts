/**
 * A driver connected to a cluster: `tsray.init({ address, token })`. The
 * driver keeps its puts and small task results in a store of its own;
 * large results stay on the node that made them until `get` pulls them
 * here, and a task on another node pulls them from their owner directly.
 * Tasks go to the head, which places them on nodes. Components are sent to
 * the head once per connection, by content hash.
 */
import type { AcceleratorDevice } from '../accel/accelerator-device.js';
import { randomBytes } from 'node:crypto';
import { ObjectStore } from '../../store/object-store.js';
import { ConnectionError, ObjectLostError } from '../errors.js';
import { ObjectRef } from '../../store/object-ref.js';
import type { ResourceSet } from '../core/resources.js';
import type { TaskSpec } from '../core/specs.js';
import type { Backend, TaskBackend } from '../core/backend.js';
import { RemoteActors } from './remote-actors.js';
import { RemoteWork } from './remote-work.js';
import { LeasePool } from './lease-pool.js';
import { Members } from './members.js';
import { sendFrees } from './free-batch.js';
import { nodeMemory, type MemoryIdentity } from '../node/memory-report.js';
import { AdminEndpoint, sessionsDir } from '../node/admin.js';
import { HeadLink } from './head-link.js';
import { nodeRowsOf, type Frame, type MemoryReply, type StateReply, type StatusReply } from './protocol.js';
import type { NodeRow, ProcessState } from '../core/state-views.js';
import type { NodeMemory } from '../../store/report.js';
import { ObjectPuller, ObjectServer, unreachableNode } from './object-transfer.js';
import { routeTo } from './host-address.js';
import { requireServing, type Tls } from './tls.js';
import { defaultSpillDir } from '../util/private-dir.js';
import { DEFAULT_LOG_FILTER, logPasses, printGuestLog, type LogFilter } from '../engine/guest-log.js';

export interface DriverOptions {
  address: string;
  token: string;
  /** Bytes for the driver's own object store (default 30% of RAM, committed only as used). */
  objectStoreMemory?: number;
  spillDir?: string;
  /** A `wss://` cluster: the CA to check it with, and this driver's certificate for its object server. */
  tls?: Tls;
  /** Which guest log lines of its work the nodes send and this process prints (default `'info'`). */
  logFilter?: LogFilter;
  /** How long to wait for a head that went away to come back before work fails (default 60 s; 0: fail at once). */
  reconnectMs?: number;
  /** Send plain tasks straight to nodes on worker leases (default true; `TSRAY_WORKER_LEASES=0` turns it off): lease-pool.ts. */
  leases?: boolean;
}

/** How long a driver waits for its head to come back by default (Ray's gcs_rpc_server_reconnect_timeout_s). */
export const DEFAULT_RECONNECT_MS = 60_000;

/** How often the driver refreshes its view of the cluster's resources. */
const RESOURCES_MS = 1000;

class RemoteTasks implements TaskBackend {
  private totals: ResourceSet = {};
  private free: ResourceSet = {};
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly peer: HeadLink, private readonly work: RemoteWork, private readonly log: LogFilter) {
    this.timer = setInterval(() => { void this.refresh(); }, RESOURCES_MS);
    this.timer.unref();
  }

  /** Every live node's GPUs, from the head. */
  async acceleratorDevices(): Promise<AcceleratorDevice[]> {
    const s = await this.peer.request<StatusReply>({ t: 'status', id: 0 });
    return s.nodes.filter((n) => n.state === 'ALIVE').flatMap((n) => n.devices ?? []);
  }

  async refresh(): Promise<void> {
    if (!this.peer.connected) return; // the head is away: the last view stands
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

  /** Fused tasks travel whole: the node that runs one runs every function of it. */
  readonly fusesChains = true;

  submit(spec: TaskSpec): ObjectRef[] {
    const o = spec.opts;
    const then = spec.then?.map((s) => ({ hash: s.component.hash, name: s.name, fn: s.fn, args: s.args, ...(s.each ? { each: s.each } : {}) }));
    return this.work.add(spec.name, spec.component, spec.args, o.numReturns, (taskId, args, refs) => ({
      t: 'submit',
      task: {
        taskId, hash: spec.component.hash, name: spec.name, fn: spec.fn, args,
        opts: o, log: this.log, ...(refs ? { refs } : {}), ...(then?.length ? { then } : {}), ...(spec.each ? { each: spec.each } : {}), ...(spec.read ? { read: spec.read } : {}),
      },
    }), { ...(o.strategy || o.streaming ? {} : { lease: { shape: o.shape, request: o.request } }), ...(spec.borrowed ? { borrowed: spec.borrowed } : {}), ...(spec.stream ? { stream: spec.stream } : {}), ...(spec.then?.length ? { components: spec.then.map((s) => s.component) } : {}), ...(spec.ran ? { ran: spec.ran } : {}), maxRetries: o.maxRetries });
  }

  /** Cancels the task behind `ref` only; `ClusterDriver.cancelTree` also its children. */
  cancel(ref: ObjectRef, force: boolean): boolean {
    return this.work.cancel(ref, force, false, false);
  }

  cancelTree(ref: ObjectRef, force: boolean): boolean {
    return this.work.cancel(ref, force, false, true);
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

export class ClusterDriver implements Backend {
  readonly objects: ObjectStore;
  readonly scheduler: RemoteTasks;
  readonly actors: RemoteActors;
  private readonly work: RemoteWork;
  private closing = false;
  private readonly puller: ObjectPuller;
  private readonly server: ObjectServer;
  private admin: AdminEndpoint | undefined;
  private readonly pool: LeasePool | undefined;
  /** The cluster's nodes, as the head announces them (members.ts). */
  readonly members = new Members();

  /** Its `tsray memory` identity: a driver, at the address its object server listens on. */
  get memoryIdentity(): MemoryIdentity {
    return { address: new URL(this.server.address).hostname, holder: 'Driver' };
  }

  /** Every live node's GPUs, from the head. */
  acceleratorDevices(): Promise<AcceleratorDevice[]> {
    return this.scheduler.acceleratorDevices();
  }

  private constructor(private readonly peer: HeadLink, opts: DriverOptions, objects: ObjectStore, server: ObjectServer, readonly nodeId: string) {
    this.objects = objects;
    this.server = server;
    this.work = new RemoteWork(peer, this.objects, server, this.nodeId);
    this.scheduler = new RemoteTasks(peer, this.work, opts.logFilter ?? DEFAULT_LOG_FILTER);
    this.actors = new RemoteActors(peer, this.work, this.objects, opts.logFilter ?? DEFAULT_LOG_FILTER);
    this.puller = new ObjectPuller(this.objects, opts.token, opts.tls);
    const log = opts.logFilter ?? DEFAULT_LOG_FILTER;
    if (opts.leases ?? process.env.TSRAY_WORKER_LEASES !== '0') {
      this.pool = new LeasePool(peer, opts.token, opts.tls, {
        result: (f) => this.work.onResult(f),
        // Filtered on the node already; again here, since a node's word is not trusted.
        log: (f) => { if (logPasses(log, f.level)) printGuestLog(f, { pid: f.pid ?? 0, node: f.node ?? '?' }); },
        lost: (t, why) => this.work.lost(t.id, why, t.viaHead),
        viaHead: (t) => this.work.unleased(t.id, t.viaHead),
      }, this.members);
      this.work.pool = this.pool;
    }
    const pool = this.pool;
    sendFrees(this.objects, pool ? { send: (f) => { if (f.t === 'free') pool.routeFree(f); else peer.send(f); } } : peer);
  }

  /** What this driver holds on nodes that the head frees for it if it goes (results leased tasks left are freed on their nodes). */
  private heldThroughHead(): Record<string, string[]> {
    const holds = this.objects.remoteHeld();
    if (!this.pool) return holds;
    const out: Record<string, string[]> = {};
    for (const [nodeId, ids] of Object.entries(holds)) {
      const leased = this.pool.leasedObjects(nodeId);
      const rest = leased ? ids.filter((id) => !leased.has(id)) : ids;
      if (rest.length) out[nodeId] = rest;
    }
    return out;
  }

  /** Every live node's and driver's memory report, through the head. */
  async memoryReports(): Promise<{ reports: NodeMemory[]; missing: string[] }> {
    const r = await this.peer.request<MemoryReply>({ t: 'memory', id: 0 });
    return { reports: r.nodes, missing: r.missing ?? [] };
  }

  /** The cluster's nodes, from the head. */
  async nodeRows(): Promise<NodeRow[]> {
    return nodeRowsOf(await this.peer.request<StatusReply>({ t: 'status', id: 0 }));
  }

  /** Every live node's task and actor state events, through the head. */
  async stateReports(): Promise<{ processes: ProcessState[]; missing: string[] }> {
    const r = await this.peer.request<StateReply>({ t: 'state', id: 0 });
    return { processes: r.processes, missing: r.missing ?? [] };
  }

  /** Cancels the task behind `ref` and, on its node, the tasks it submitted (an actor call is cancelled alone). */
  cancelTree(ref: ObjectRef, force: boolean): boolean {
    return this.actors.cancel(ref, force) || this.scheduler.cancelTree(ref, force);
  }

  /** Pulls objects held by nodes into this driver's store (each once; concurrent gets share a pull). */
  async fetch(refs: ObjectRef[]): Promise<void> {
    const pulls: Promise<unknown>[] = [];
    for (const r of refs) {
      const loc = this.objects.remoteOf(r);
      if (!loc) continue;
      pulls.push(this.puller.pull(loc, r).catch((e: Error) => {
        // Only a transfer that failed for good loses the object; anything else (a bad argument, ...) is the caller's to see.
        // An unreachable node has lost all it held: its other objects too (a task made again must not be sent one of them).
        const gone = unreachableNode(e);
        if (e instanceof ObjectLostError) this.objects.lose(gone ? { nodeId: gone } : { ref: r }, e.why, (id) => this.work.rebuild(id));
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
      driver.members.apply(f);
      if (f.t === 'result') driver.work.onResult(f);
      else if (f.t === 'emit') driver.work.onEmit(f);
      else if (f.t === 'memory') peer.send({ t: 'memory-reply', id: f.id, nodes: [nodeMemory(driver, driver.memoryIdentity)] });
      // Filtered on the node already; again here, since a node's word is not trusted.
      else if (f.t === 'log') { if (logPasses(opts.logFilter ?? DEFAULT_LOG_FILTER, f.level)) printGuestLog(f, { pid: f.pid ?? 0, node: f.node ?? '?' }); }
      else if (f.t === 'node-dead') {
        driver.pool?.nodeDead(f.nodeId, f.cause);
        driver.objects.lose({ nodeId: f.nodeId }, `its node ${f.nodeId} died (${f.cause}) and held the only copy`, (id) => driver!.work.rebuild(id));
      }
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
    // Nodes that pulled a put and share it are the only copies pullers are sent to.
    const server = await ObjectServer.start(objects, opts.token, await routeTo(opts.address), { ...(opts.tls ? { tls: opts.tls } : {}), holders: (a) => !!driver?.members.isAlive(a) });
    const storeId = `driver-${randomBytes(6).toString('hex')}`;
    let peer: HeadLink;
    try {
      peer = await HeadLink.open({
        address: opts.address, token: opts.token, role: 'driver', about: { objects: { storeId, address: server.address } }, ...(opts.tls ? { tls: opts.tls } : {}),
        onFrame,
        reconnectMs: opts.reconnectMs ?? DEFAULT_RECONNECT_MS,
        // The new head learns which results on nodes are this driver's (it frees them when the driver lets them go).
        resume: () => ({ holds: driver?.heldThroughHead() ?? objects.remoteHeld(), ...(driver?.pool ? { leases: driver.pool.heldLeases() } : {}) }),
        onResumed: () => driver?.work.resend(),
        onAway: (why) => { if (!driver?.closing) process.stderr.write(`tsray: ${why}; waiting up to ${opts.reconnectMs ?? DEFAULT_RECONNECT_MS} ms for it to come back\n`); },
        onLost: (why) => {
          if (!driver || driver.closing) return;
          driver.scheduler.stop();
          driver.work.failAll(new ConnectionError(`lost the cluster: ${why}; its results cannot arrive`));
        },
      });
    } catch (e) {
      await server.close();
      objects.close();
      throw e;
    }
    driver = new ClusterDriver(peer, opts, objects, server, storeId);
    // `tsray memory` on this machine reads it too, as it reads nodes.
    const d = driver;
    driver.admin = AdminEndpoint.start(sessionsDir(), storeId, (req) => {
      if (req === 'memory') return nodeMemory(d, d.memoryIdentity);
      // A driver runs no tasks itself: it has no state events of its own.
      if (req === 'state') return { nodeId: storeId, address: d.memoryIdentity.address, pid: process.pid, events: [], dropped: 0 };
      if (req === 'logs') return { nodeId: storeId, address: d.memoryIdentity.address, lines: [] };
      throw new Error(`unknown request '${req}'`);
    });
    for (const f of early.splice(0)) onFrame(f);
    await driver.scheduler.refresh();
    return driver;
  }

  async close(error: Error): Promise<void> {
    this.closing = true;
    this.admin?.close();
    this.scheduler.stop();
    this.work.failAll(error);
    this.pool?.close();
    this.objects.failPending(error);
    this.objects.onRemoteFree = undefined;
    this.objects.close();
    this.puller.close();
    await this.server.close();
    this.peer.close();
  }
}
