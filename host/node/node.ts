/**
 * The embedded node: the object table and the scheduler with its worker
 * pool, living in the caller's process. `tsray.init()` creates one.
 */
import { availableParallelism, totalmem } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { ObjectStore } from '../../store/object-store.js';
import type { DeviceIds, ResourceSet } from '../core/resources.js';
import { deviceIdsOf, visibleDevices } from '../core/visible-devices.js';
import { GuestRuntime } from './guest-runtime.js';
import { Scheduler } from './scheduler.js';
import { ActorManager } from './actor-manager.js';
import type { ObjectRef } from '../../store/object-ref.js';
import type { WorkerHandle, WorkerSite } from '../worker/worker-handle.js';
import { logFilterOf, type LogOptions } from '../core/log-options.js';
import { dataRootsOf } from '../files/part.js';
import { AdminEndpoint, sessionsDir } from './admin.js';
import { defaultSpillDir } from '../util/private-dir.js';
import { acceleratorResource, detectAccelerators } from './accelerators.js';
import type { LocalExecution, Backend } from '../core/backend.js';
import { EMBEDDED, nodeMemory, type MemoryIdentity } from './memory-report.js';
import { NodeEvents } from './node-events.js';
import { LogRing, type NodeLogs } from './log-ring.js';
import type { NodeRow, ProcessState } from '../core/state-views.js';
import type { NodeMemory } from '../../store/report.js';
import { NodeDevices, deviceOf } from '../accel/node-devices.js';
import type { AcceleratorDevice } from '../accel/accelerator-device.js';

export interface InitOptions extends LogOptions {
  /** CPUs this node offers (default: the machine's available parallelism). One worker thread per CPU. */
  numCpus?: number;
  /**
   * Logical GPUs this node offers (default: as many as `CUDA_VISIBLE_DEVICES`,
   * `ROCR_VISIBLE_DEVICES` or `ONEAPI_DEVICE_SELECTOR` lists, else as many as `nvidia-smi`, `rocm-smi` or
   * `xpu-smi` lists, else as many hardware adapters as WebGPU (Dawn) finds, else 0).
   */
  numGpus?: number;
  /**
   * What drives the GPUs for tsray:accel: `'webgpu'` (Dawn; with no GPU in the
   * machine, Debian chromium's SwiftShader as a software GPU), `'cpu'` (the
   * host's kernels; tensors only), or `'auto'` (default: WebGPU when Dawn finds
   * an adapter, else CPU).
   */
  accelBackend?: 'auto' | 'webgpu' | 'cpu';
  /** Memory of each GPU in bytes, where the backend cannot tell (default 1 GiB); task budgets are shares of it. */
  acceleratorMemory?: number;
  /** The node's accelerator type, e.g. `'H100'` (default: detected); tasks with `acceleratorType` go only to such nodes. */
  acceleratorType?: string;
  /** Bytes of memory this node offers to tasks' and actors' `memory` requests (default 70% of RAM; admission only). */
  memory?: number;
  /** Custom resources, e.g. `{ TPU: 2 }`. */
  resources?: Record<string, number>;
  /** Bytes for the object store (default 30% of RAM). */
  objectStoreMemory?: number;
  /** Where the object store spills to disk (default: `tsray-<uid>/spill` under the OS temp dir; it must be private to this user, see `private-dir.ts`). */
  spillDir?: string;
  /** Spill when objects in memory pass this fraction of objectStoreMemory (default 0.8). */
  objectSpillingThreshold?: number;
  /** Fuse at least this many bytes into each spill file when there is that much to spill (default 100 MiB). */
  minSpillingSize?: number;
  /** Stop spilling (OutOfDiskError) once the spill disk would be fuller than this fraction (default 0.95). */
  localFsCapacityThreshold?: number;
  /** Record the JS call site of every task call and small put for `tsray memory` (default false; puts of objects over 100 KiB always record theirs). */
  recordCallSites?: boolean;
  /** Task and actor state changes kept for `tsray list` / `summary` / `timeline` (default 100,000; the oldest are dropped and counted; 0 records none). */
  stateEventsKept?: number;
  /** A cluster to connect to as a driver (`ws://HOST:PORT`, printed by `tsray start --head`); omit for the embedded node. */
  address?: string;
  /** The cluster token (default: the TSRAY_TOKEN environment variable). */
  token?: string;
  /**
   * A driver: how long to wait for a head that went away (it died, or restarts
   * from its tables) to come back before pending work fails with
   * `ConnectionError` (default 60 s, as Ray's gcs_rpc_server_reconnect_timeout_s; 0: fail at once).
   */
  reconnectTimeoutMs?: number;
  /**
   * A driver: send plain tasks straight to nodes on worker leases the head
   * grants, keeping the head off the per-task path (default true, unless
   * `TSRAY_WORKER_LEASES=0`); false sends every task through the head.
   */
  leases?: boolean;
  /** A `wss://` cluster: PEM CA file that signs its certificates (default: Node's trusted CAs and NODE_EXTRA_CA_CERTS). */
  tlsCa?: string;
  /** A `wss://` cluster: PEM certificate and key files for this driver's object server, which nodes pull its large objects from. */
  tlsCert?: string;
  tlsKey?: string;
  /** How long an idle worker spins for new work before sleeping, in microseconds (default 50). */
  workerSpinUs?: number;
  /**
   * Directories file read tasks (tsray.data's file sources) may read on this
   * node, symbolic links resolved (default: anywhere, for the embedded node,
   * which runs in the driver's own process; a node `tsray start` starts reads
   * only under its `--data-root`s).
   */
  dataRoots?: string[];
  /**
   * Serve the live web dashboard for this node (embedded only: a cluster's
   * head serves its own): `true` on 127.0.0.1:8265, or where given (port 0:
   * any free port). It needs a token, drawn at random; `tsray.dashboardUrl()`
   * gives the link with it, and init prints that link.
   */
  dashboard?: boolean | { port?: number; host?: string };
  /**
   * Progress of spilling a backlog to disk (embedded only): `true` (default)
   * a status bar on stderr when it is a terminal, `false` none, or a
   * callback with the spilled totals and rate (see api/spill-progress.ts).
   */
  spillProgress?: boolean | ((p: { spilledBytes: number; spilledObjects: number; bytesPerSecond: number }) => void);
}

export class EmbeddedNode implements Backend {
  readonly nodeId = randomBytes(8).toString('hex');
  readonly objects: ObjectStore;
  readonly scheduler: Scheduler;
  readonly actors: ActorManager;
  /** The Ray API its guests use (tsray:runtime/objects, tasks, actors). */
  readonly guests: GuestRuntime;
  private readonly admin: AdminEndpoint;
  /** Its recent guest log lines (log-ring.ts). */
  private readonly logLines = new LogRing();
  /** Its tasks' and actors' state changes (core/state-events.ts). */
  readonly events: NodeEvents;
  /** Who its `tsray memory` report is from (a cluster node sets its own address). */
  memoryIdentity: MemoryIdentity = EMBEDDED;
  /** The GPUs' device thread, when the node has GPUs (see host/accel). */
  readonly devices: NodeDevices | undefined;

  /** `log`: where guest log records go (default: printed here); a cluster node sends them to the head. */
  constructor(opts: InitOptions, log?: WorkerSite['log']) {
    const known = new Set(['token', 'accelBackend', 'acceleratorMemory', 'acceleratorType', 'memory', 'numCpus', 'numGpus', 'resources', 'objectStoreMemory', 'spillDir', 'objectSpillingThreshold', 'minSpillingSize', 'localFsCapacityThreshold', 'recordCallSites', 'stateEventsKept', 'address', 'workerSpinUs', 'dataRoots', 'logLevel', 'logToDriver', 'dashboard', 'spillProgress']);
    for (const k of Object.keys(opts)) if (!known.has(k)) throw new InvalidArgumentError(`unknown init option '${k}'`);
    if (opts.address !== undefined) throw new RuntimeStateError(`an embedded node has no address; connect to ${opts.address} with tsray.init({ address, token })`);
    const count = (name: string, v: number | undefined, dflt: number): number => {
      if (v === undefined) return dflt;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`init option ${name} must be a number >= 0, got ${String(v)}`);
      return v;
    };
    const numCpus = count('numCpus', opts.numCpus, availableParallelism());
    const found = opts.numGpus === undefined || opts.acceleratorType === undefined ? detectAccelerators() : { count: 0 };
    // The visible-devices variables name the node's devices (ids 1 and 3 for `1,3`), read once at start.
    const visible = visibleDevices(process.env);
    const gpus = deviceIdsOf('GPU', 'numGpus', opts.numGpus === undefined ? undefined : count('numGpus', opts.numGpus, 0), visible.get('GPU'));
    const numGpus = opts.numGpus === undefined && !visible.has('GPU') ? found.count : gpus.count;
    if (!Number.isInteger(numGpus)) throw new InvalidArgumentError('numGpus of a node must be a whole number');
    const deviceIds: DeviceIds = gpus.ids ? { GPU: gpus.ids } : {};
    const fraction = (name: string, v: number | undefined, dflt: number): number => {
      const f = count(name, v, dflt);
      if (f > 1) throw new InvalidArgumentError(`init option ${name} is a fraction between 0 and 1, got ${f}`);
      return f;
    };
    const objectStoreMemory = Math.floor(count('objectStoreMemory', opts.objectStoreMemory, Math.floor(totalmem() * 0.3)));
    if (opts.spillDir !== undefined && typeof opts.spillDir !== 'string') throw new InvalidArgumentError('init option spillDir must be a path');
    const resources: ResourceSet = { CPU: numCpus, GPU: numGpus, memory: Math.floor(count('memory', opts.memory, Math.floor(totalmem() * 0.7))), object_store_memory: objectStoreMemory };
    const type = opts.acceleratorType ?? found.type;
    if (type !== undefined) {
      if (typeof type !== 'string' || !/^[\w.-]+$/.test(type)) throw new InvalidArgumentError(`acceleratorType must be a name such as 'H100', got ${String(type)}`);
      resources[acceleratorResource(type)] = 1;
    }
    for (const [k, v] of Object.entries(opts.resources ?? {})) {
      if (k in resources) throw new InvalidArgumentError(`set ${k} with its own init option, not resources.${k}`);
      resources[k] = count(`resources.${k}`, v, 0);
    }
    for (const [kind, seen] of visible) {
      if (kind === 'GPU') continue;
      const d = deviceIdsOf(kind, `resources.${kind}`, resources[kind], seen);
      resources[kind] = d.count;
      if (d.ids) deviceIds[kind] = d.ids;
    }
    const baseWorkers = Math.max(1, Math.ceil(numCpus));
    const spinUs = count('workerSpinUs', opts.workerSpinUs, 50);
    // Refuses a runtime directory that is not private (InsecurePathError) before anything starts.
    const adminDir = sessionsDir();
    this.objects = new ObjectStore({
      nodeId: this.nodeId,
      capacity: objectStoreMemory,
      spillDir: opts.spillDir ?? defaultSpillDir(),
      spillThreshold: fraction('objectSpillingThreshold', opts.objectSpillingThreshold, 0.8),
      minSpillBytes: count('minSpillingSize', opts.minSpillingSize, 100 * 2 ** 20),
      localFsCapacityThreshold: fraction('localFsCapacityThreshold', opts.localFsCapacityThreshold, 0.95),
      recordTaskCallSites: opts.recordCallSites ?? process.env.TSRAY_RECORD_REF_CREATION_SITES === '1',
    });
    const arenas = this.objects.arenas.map((a) => a.memory);
    const warn = (m: string): void => { process.emitWarning(m, { code: 'TSRAY_INFEASIBLE' }); };
    if (numGpus > 0) {
      const backend = opts.accelBackend ?? 'auto';
      if (!['auto', 'webgpu', 'cpu'].includes(backend)) throw new InvalidArgumentError(`init option accelBackend must be 'auto', 'webgpu' or 'cpu', got ${String(backend)}`);
      this.devices = NodeDevices.launch({
        ids: gpus.ids ?? Array.from({ length: numGpus }, (_, i) => i), backend, hasHardwareGpu: () => detectAccelerators().count > 0,
        ...(opts.acceleratorMemory === undefined ? {} : { memoryBytes: count('acceleratorMemory', opts.acceleratorMemory, 1) }),
      });
    }
    const devices = this.devices;
    const kept = opts.stateEventsKept ?? undefined;
    if (kept !== undefined && (!Number.isSafeInteger(kept) || kept < 0)) throw new InvalidArgumentError(`stateEventsKept must be a whole number >= 0, got ${kept}`);
    this.events = new NodeEvents(kept);
    const site: WorkerSite = {
      nodeId: this.nodeId, spinUs, arenas, logLevel: logFilterOf(opts), ...(opts.dataRoots ? { dataRoots: dataRootsOf(opts.dataRoots) } : {}), keepLog: (m, tid) => this.logLines.keep(m, tid), ...(log ? { log } : {}), ...(devices ? { accelLink: () => devices.connect() } : {}) };
    this.scheduler = new Scheduler({
      ...site, resources, deviceIds, baseWorkers, maxWorkers: baseWorkers + 16, warn,
      onGuestRequest: (slot, req) => this.guests.fromTask(slot, req),
      taskValue: (task, value) => this.guests.taskValue(task, value),
      onTaskEnd: (task) => this.guests.endTask(task),
      onRelease: () => this.actors?.retryWaiting(),
      events: this.events,
    }, this.objects);
    this.actors = new ActorManager(site, this.objects, this.scheduler, warn);
    this.actors.events = this.events;
    this.guests = new GuestRuntime(this.objects, this.scheduler, this.actors,
      (ref, force) => this.actors.cancel(ref, force) || this.scheduler.cancel(ref, force));
    this.actors.guests = this.guests;
    this.admin = AdminEndpoint.start(adminDir, this.nodeId, (req) => {
      if (req === 'memory') return nodeMemory(this, this.memoryIdentity);
      if (req === 'state') return this.stateReport();
      if (req === 'logs') return this.logReport();
      throw new Error(`unknown request '${req}'`);
    });
  }

  /** The node's threads compute its work: `get` may wait for them without the event loop. */
  get local(): LocalExecution {
    return this;
  }

  /** Every worker thread of the node (task workers and actors). */
  workers(): WorkerHandle[] {
    return [...this.scheduler.workers(), ...this.actors.workers()];
  }

  /** Whether `ref` is being computed right now (by a task or an actor call). */
  isRunning(ref: ObjectRef): boolean {
    return this.scheduler.isRunning(ref) || this.actors.isRunning(ref);
  }

  /** Sleeps until the worker computing `ref` posts results (or `ms` pass). */
  waitForResults(ref: ObjectRef, ms: number): void {
    (this.scheduler.workerOf(ref) ?? this.actors.workerOf(ref))?.waitForResults(ms);
  }

  /** Its guest log lines, as `tsray logs` reads them. */
  logReport(): NodeLogs {
    return { nodeId: this.nodeId, address: this.memoryIdentity.address, lines: this.logLines.lines() };
  }

  /** Its state events, as `tsray list` reads them. */
  stateReport(): ProcessState {
    // Actor workers report calls that came over direct links afterwards: take what they already sent.
    this.actors.poll();
    return this.events.report(this.nodeId, this.memoryIdentity.address);
  }

  async stateReports(): Promise<{ processes: ProcessState[]; missing: string[] }> {
    return { processes: [this.stateReport()], missing: [] };
  }

  async memoryReports(): Promise<{ reports: NodeMemory[]; missing: string[] }> {
    return { reports: [nodeMemory(this, this.memoryIdentity)], missing: [] };
  }

  async nodeRows(): Promise<NodeRow[]> {
    return [{ nodeId: this.nodeId, address: this.memoryIdentity.address, state: 'ALIVE', pid: process.pid, resources: this.scheduler.totalResources(), available: this.scheduler.availableResources() }];
  }

  guestRefs(): Map<string, Map<number, number>> {
    return this.guests.heldByWorkers();
  }

  cancelTree(ref: ObjectRef, force: boolean): boolean {
    return this.guests.cancelTree(ref, force, true);
  }

  /** Dispatches and collects without the event loop (see `get`'s short spin). */
  poll(): void {
    this.scheduler.poll();
    this.actors.poll();
  }

  async acceleratorDevices(): Promise<AcceleratorDevice[]> {
    const reports = await this.devices?.report() ?? [];
    return reports.map((d) => deviceOf(this.nodeId, d));
  }

  /** Resolves when the node's devices are open (fails when they cannot be: `accelBackend: 'webgpu'` without an adapter). */
  async ready(): Promise<void> {
    await this.devices?.ready;
  }

  async close(error: Error): Promise<void> {
    this.admin.close();
    await Promise.all([this.scheduler.close(error), this.actors.close(error)]);
    await this.devices?.close();
    this.objects.failPending(error);
    this.objects.close();
  }
}
