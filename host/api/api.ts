/**
 * The tsray runtime API: `init`, `shutdown`, `put`, `get`, `wait`, `cancel`,
 * and resource queries. Follows Ray Core's semantics (see the README).
 */
import type { AcceleratorDevice } from '../accel/accelerator-device.js';
import { startDashboard, stopDashboard } from './dashboard.js';
import { watchSpilling } from './spill-progress.js';
import { GetTimeoutError, InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { currentNode, requireNode, setNode } from './current.js';
import { EmbeddedNode, type InitOptions } from '../node/node.js';
import { ObjectRef, isJobId, setIdPrefix } from '../../store/object-ref.js';
import { ObjectView } from './object-view.js';
import { ObjectRefGenerator } from './object-ref-generator.js';
import type { ResourceSet } from '../core/resources.js';
import { memoryReport } from '../node/memory-report.js';
import { progressSink, type ProgressOption } from './progress.js';
import { readTls } from '../cluster/tls.js';
import type { LocalExecution, Backend } from '../core/backend.js';
import type { MemoryReport } from '../../store/report.js';
import { savedHeadToken } from '../cluster/process-records.js';
import { logFilterOf } from '../core/log-options.js';

/** How long `get`/`wait` wait for imminent results before yielding to the event loop. */
const SPIN_MS = 0.25;
/** Of that, how long they busy-poll before sleeping on the worker's results counter (which frees the core). */
const BUSY_MS = 0.015;

/**
 * Starts the runtime: with no `address`, an embedded single-node cluster in
 * this process; with `address` (and `token`), a driver of that cluster.
 */
/** Stops the embedded node's spill progress (see spill-progress.ts). */
let stopSpillWatch: () => void = () => undefined;

function checkedReconnect(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new InvalidArgumentError(`reconnectTimeoutMs must be a number of milliseconds >= 0, got ${String(ms)}`);
  return ms;
}

export async function init(opts: InitOptions = {}): Promise<void> {
  if (currentNode()) throw new RuntimeStateError('tsray is already initialized; call tsray.shutdown() before init() again');
  // As Ray's RAY_ADDRESS: a program written for the embedded node runs on a cluster unchanged.
  const address = opts.address ?? (process.env.TSRAY_ADDRESS || undefined);
  if (address === undefined) {
    const node = new EmbeddedNode(opts);
    setNode(node);
    try {
      await node.ready();
      await startDashboard(node, opts);
      stopSpillWatch = watchSpilling(() => node.objects.spillStats, opts.spillProgress);
    } catch (e) {
      setNode(undefined);
      await node.close(e as Error);
      throw e;
    }
    return;
  }
  if (opts.dashboard) throw new InvalidArgumentError("a cluster's head serves its dashboard (tsray start --head, port 8265); dashboard is an option of the embedded node");
  if (opts.address === undefined) {
    // Node options written for the embedded node are ignored when the environment points at a cluster.
    const { objectStoreMemory, spillDir, token, tlsCa, tlsCert, tlsKey, logLevel, logToDriver, reconnectTimeoutMs, leases } = opts;
    opts = { ...(objectStoreMemory === undefined ? {} : { objectStoreMemory }), ...(spillDir === undefined ? {} : { spillDir }), ...(token === undefined ? {} : { token }), tlsCa, tlsCert, tlsKey, logLevel, logToDriver, reconnectTimeoutMs, leases };
  }
  // A driver of a cluster: the nodes bring their own resources (as in Ray, they cannot be set from here).
  const local = ['numCpus', 'numGpus', 'acceleratorType', 'memory', 'resources', 'workerSpinUs', 'objectSpillingThreshold', 'minSpillingSize', 'localFsCapacityThreshold', 'recordCallSites'];
  for (const k of Object.keys(opts)) {
    if (local.includes(k)) throw new InvalidArgumentError(`init option ${k} describes a node; when connecting to a cluster, set it on the node (tsray start --${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)})`);
  }
  // As the CLI does: a head started on this machine by this user saved its token.
  const token = opts.token || process.env.TSRAY_TOKEN || savedHeadToken(address);
  if (!token) throw new InvalidArgumentError(`connecting to ${address} needs its token: init({ address, token }) or TSRAY_TOKEN (a head started on this machine by this user is found without one)`);

  // A job's driver (tsray job submit): what it makes is attributed to its job by the ids it draws.
  const jobId = process.env.TSRAY_JOB_ID;
  if (isJobId(jobId)) setIdPrefix(jobId);
  const { ClusterDriver } = await import('../cluster/driver.js');
  const driver = await ClusterDriver.connect({
    address, token, tls: readTls(opts), logFilter: logFilterOf(opts),
    ...(opts.objectStoreMemory === undefined ? {} : { objectStoreMemory: opts.objectStoreMemory }),
    ...(opts.spillDir === undefined ? {} : { spillDir: opts.spillDir }),
    ...(opts.reconnectTimeoutMs === undefined ? {} : { reconnectMs: checkedReconnect(opts.reconnectTimeoutMs) }),
    ...(opts.leases === undefined ? {} : { leases: opts.leases !== false }),
  });
  if (currentNode()) { await driver.close(new RuntimeStateError('init() raced another init()')); throw new RuntimeStateError('tsray is already initialized'); }
  setNode(driver);
}

/** Whether `init()` has been called (and `shutdown()` has not). */
export function isInitialized(): boolean {
  return currentNode() !== undefined;
}

/** Stops the runtime: workers end, pending objects fail, nothing is left running. */
export async function shutdown(): Promise<void> {
  const node = currentNode();
  if (!node) return;
  setNode(undefined);
  stopSpillWatch();
  stopSpillWatch = () => undefined;
  await stopDashboard();
  await node.close(new RuntimeStateError('tsray was shut down before this object was ready'));
}

/**
 * Stores a copy of `value` in the object store: later changes to `value` do
 * not reach it, and the stored object never changes (every reader gets a
 * copy, or a checked zero-copy view). Values over 100 KiB go to the node's
 * shared memory, where tasks read them without a copy; refs inside `value`
 * keep their objects alive as long as this one lives. Throws
 * `ObjectStoreFullError` when the object cannot fit even after spilling.
 */
export function put<T>(value: T): ObjectRef<T> {
  if (value instanceof ObjectRef) throw new InvalidArgumentError('put() of an ObjectRef is not allowed; pass the ref itself');
  return requireNode().objects.put(value) as ObjectRef<T>;
}

/**
 * Releases each ref (as `ref.release()`): objects are freed once no other
 * reference (another ref, a pending task, an enclosing object, a live view,
 * an actor) holds them.
 */
export function free(refs: ObjectRef | ObjectRef[]): void {
  const list = Array.isArray(refs) ? refs : [refs];
  for (const r of checkRefs(list, 'free()')) r.release();
}

export interface GetOptions {
  /** Give up after this many milliseconds with `GetTimeoutError`. */
  timeoutMs?: number;
  /**
   * Progress while waiting: a function is called with `{ done, total }` as
   * objects become ready; `true` draws a bar on stderr when it is a terminal;
   * `false` nothing. By default a bar appears on a terminal when a wait for
   * 1,000 or more objects is still going after a second; never elsewhere.
   */
  progress?: ProgressOption;
}

/** The value types of a list of refs, element by element (a tuple stays a tuple). */
export type ValuesOf<R extends readonly ObjectRef[]> = { -readonly [K in keyof R]: R[K] extends ObjectRef<infer T> ? T : unknown };

function checkRefs(refs: readonly unknown[], what: string): ObjectRef[] {
  for (const r of refs) if (!(r instanceof ObjectRef)) throw new InvalidArgumentError(`${what} takes ObjectRefs, got ${typeof r === 'object' ? String(r) : typeof r}`);
  return refs as ObjectRef[];
}

/**
 * When every pending object is being computed right now, waits for it here
 * instead of in the event loop (which costs tens of microseconds to wake):
 * a short busy-poll, then a futex wait on the worker's results counter, so a
 * worker sharing this core gets it.
 */
function spin(node: LocalExecution, pending: () => ObjectRef[]): void {
  node.poll();
  const start = performance.now();
  for (let p = pending(); p.length > 0 && p.every((r) => node.isRunning(r)); p = pending()) {
    const now = performance.now();
    if (now - start > SPIN_MS) return;
    if (now - start > BUSY_MS) node.waitForResults(p[0]!, SPIN_MS - (now - start));
    node.poll();
  }
}

/**
 * Waits until every one of `refs` is ready and here (undefined: they are
 * already). The first failure among them is thrown as soon as it is known,
 * without waiting for the rest (as Ray's get).
 */
/** Refuses refs this runtime holds nothing for: released ones, or ones from before a shutdown (waiting on them would never end). */
function checkKnown(node: Backend, refs: readonly ObjectRef[]): void {
  for (const r of refs) if (!node.objects.has(r)) throw new InvalidArgumentError(`${r} ${r.released ? 'was released; it cannot be read' : 'is not known to this runtime'}`);
}

/** Waits until every ref is settled here; again for any whose bytes were lost meanwhile and are being made again (lineage). */
function allSettled(node: Backend, refs: ObjectRef[], opts: GetOptions): Promise<void> | undefined {
  const waiting = settled(node, refs, opts);
  return waiting?.then(() => (refs.every((r) => node.objects.peek(r)) ? undefined : allSettled(node, refs, opts)));
}

function settled(node: Backend, refs: ObjectRef[], opts: GetOptions): Promise<void> | undefined {
  checkKnown(node, refs);
  const pending = (): ObjectRef[] => {
    const out: ObjectRef[] = [];
    for (const r of refs) {
      const s = node.objects.peek(r);
      if (!s) out.push(r);
      else if (!s.ok) throw s.error;
    }
    return out;
  };
  if (pending().length > 0 && node.local) spin(node.local, pending);
  const left = pending();
  if (left.length === 0) return node.fetch?.(refs);
  const all = new Promise<void>((resolve, reject) => {
    let count = new Set(left.map((r) => r.id)).size;
    const total = new Set(refs.map((r) => r.id)).size;
    const bar = progressSink('get', total, opts.progress);
    bar?.step(total - count);
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const end = (): void => { over = true; if (timer) clearTimeout(timer); bar?.end(); };
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => { end(); reject(new GetTimeoutError(opts.timeoutMs!, refs.filter((r) => !node.objects.peek(r)).length)); }, opts.timeoutMs);
    }
    const seen = new Set<string>();
    for (const r of left) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      node.objects.onSettled(r, (s) => {
        if (over) return;
        if (!s.ok) { end(); reject(s.error); return; }
        count--;
        bar?.step(total - count);
        if (count === 0) { end(); resolve(); }
      });
    }
  });
  return node.fetch ? all.then(() => node.fetch!(refs)) : all;
}

function refList(refOrRefs: ObjectRef | readonly ObjectRef[], what: string): ObjectRef[] {
  return checkRefs(Array.isArray(refOrRefs) ? refOrRefs : [refOrRefs], what);
}

/**
 * The value of an object, or of each object in a list (order kept,
 * duplicates allowed), as the caller's own copy: writing into it changes
 * nothing in the store, and nothing stays pinned once `get` returns.
 * Primitives cost nothing; an object in the node's shared memory (over
 * 100 KiB) is copied out in one block copy (`getView` reads it in place).
 * Throws the error of a failed task (`TaskError`, `TaskCancelledError`,
 * ...) as soon as any of the objects has failed, `GetTimeoutError` past
 * `timeoutMs`, and `ObjectLostError` when an object's bytes are gone (or
 * were changed through a zero-copy view). It never returns a partial or
 * missing value.
 */
export async function get<T = unknown>(ref: ObjectRef<T>, opts?: GetOptions): Promise<T>;
export async function get<const R extends readonly ObjectRef[]>(refs: R, opts?: GetOptions): Promise<ValuesOf<R>>;
export async function get<T = unknown>(refs: readonly ObjectRef<T>[], opts?: GetOptions): Promise<T[]>;
export async function get(refOrRefs: ObjectRef | readonly ObjectRef[], opts: GetOptions = {}): Promise<unknown> {
  const node = requireNode();
  const refs = refList(refOrRefs, 'get()');
  const waiting = allSettled(node, refs, opts);
  if (waiting) await waiting;
  const values = refs.map((r) => node.objects.value(r));
  return Array.isArray(refOrRefs) ? values : values[0];
}

/**
 * Like `get`, without the copy: typed arrays of objects in the node's shared
 * memory are views of it, pinned (PINNED_IN_MEMORY) until the returned
 * `ObjectView` is released (`release()`, or `using v = await getView(ref)`).
 * Costs one CRC-32 pass over each object in shared memory (its fingerprint
 * the first time, a check after that), cheaper than a copy and with no new
 * memory; every later read of a viewed object (get, getView, a task
 * argument) is checked the same way. The views are read-only by contract:
 * a write through them is detected, and the object then fails every read
 * with `ObjectLostError`. Values not in shared memory (small ones) come as
 * copies.
 */
export async function getView<T = unknown>(ref: ObjectRef<T>, opts?: GetOptions): Promise<ObjectView<T>>;
export async function getView<const R extends readonly ObjectRef[]>(refs: R, opts?: GetOptions): Promise<ObjectView<ValuesOf<R>>>;
export async function getView<T = unknown>(refs: readonly ObjectRef<T>[], opts?: GetOptions): Promise<ObjectView<T[]>>;
export async function getView(refOrRefs: ObjectRef | readonly ObjectRef[], opts: GetOptions = {}): Promise<ObjectView<unknown>> {
  const node = requireNode();
  const refs = refList(refOrRefs, 'getView()');
  const waiting = allSettled(node, refs, opts);
  if (waiting) await waiting;
  const reads: { value: unknown; release(): void }[] = [];
  try {
    for (const r of refs) reads.push(node.objects.view(r));
  } catch (e) {
    for (const x of reads) x.release();
    throw e;
  }
  const values = reads.map((x) => x.value);
  return new ObjectView(Array.isArray(refOrRefs) ? values : values[0], () => { for (const x of reads) x.release(); });
}

export interface WaitOptions {
  /** How many ready objects to wait for (default 1). */
  numReturns?: number;
  /** Return what is ready after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * Waits until `numReturns` of `refs` are ready (finished or failed) or the
 * timeout passes. Returns `[ready, notReady]`, each in the order given. As
 * in Ray, a failed object counts as ready; `get` of it throws its error.
 */
export async function wait<R extends ObjectRef = ObjectRef>(refs: readonly R[], opts: WaitOptions = {}): Promise<[R[], R[]]> {
  const node = requireNode();
  if (!Array.isArray(refs)) throw new InvalidArgumentError('wait() takes an array of ObjectRefs');
  checkRefs(refs, 'wait()');
  checkKnown(node, refs);
  if (new Set(refs.map((r) => r.id)).size !== refs.length) throw new InvalidArgumentError('wait() requires a list of unique ObjectRefs');
  if (refs.length === 0) return [[], []];
  const numReturns = opts.numReturns ?? 1;
  if (!Number.isInteger(numReturns) || numReturns < 0) throw new InvalidArgumentError(`numReturns must be a whole number >= 0, got ${numReturns}`);
  if (numReturns > refs.length) throw new InvalidArgumentError(`numReturns (${numReturns}) cannot exceed the number of refs (${refs.length})`);
  const ready = (): number => refs.filter((r) => node.objects.peek(r)).length;
  if (ready() < numReturns && node.local) spin(node.local, () => refs.filter((r) => !node.objects.peek(r)));
  if (ready() < numReturns) {
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => { if (!done) { done = true; if (timer) clearTimeout(timer); resolve(); } };
      const timer = opts.timeoutMs !== undefined ? setTimeout(finish, opts.timeoutMs) : undefined;
      for (const r of refs) node.objects.onSettled(r, () => { if (ready() >= numReturns) finish(); });
    });
  }
  const readyList: R[] = [];
  const notReady: R[] = [];
  for (const r of refs) (node.objects.peek(r) && readyList.length < Math.max(numReturns, 0) ? readyList : notReady).push(r);
  return [readyList, notReady];
}

export interface CancelOptions {
  /** Stop a running task at once by ending its worker (a fresh worker takes its place). */
  force?: boolean;
  /** Also cancel the tasks it submitted, and theirs (default true, as Ray's). */
  recursive?: boolean;
}

/**
 * Cancels the task behind `ref`. A queued task is removed; a running one is
 * stopped at its next host call, or at once with `force`. `get` of it (and of
 * tasks depending on it) throws `TaskCancelledError`. Finished tasks are left alone.
 */
export function cancel(target: ObjectRef | ObjectRefGenerator, opts: CancelOptions = {}): void {
  const node = requireNode();
  // Cancelling a generator cancels its task: the stream ends with TaskCancelledError.
  const ref = target instanceof ObjectRefGenerator ? target.taskRef : target;
  checkRefs([ref], 'cancel()');
  const force = !!opts.force;
  if (opts.recursive !== false && node.cancelTree) node.cancelTree(ref, force);
  else if (!node.actors.cancel(ref, force)) node.scheduler.cancel(ref, force);
}

/** What the driver knows of where it runs (tasks see theirs through `task-context`). */
export interface RuntimeContext {
  /** The node this runtime is: the embedded node, or a cluster driver's own id. */
  nodeId: string;
  /** Accelerator ids assigned to this process: none for a driver (tasks get theirs in `task-context`). */
  acceleratorIds: number[];
}

export function getRuntimeContext(): RuntimeContext {
  return { nodeId: requireNode().nodeId, acceleratorIds: [] };
}

/** Resources of the node not held by tasks right now. */
export function availableResources(): ResourceSet {
  return requireNode().scheduler.availableResources();
}

/**
 * The GPUs of the node (or of every node of a cluster): the backend that
 * drives each for tsray:accel (`webgpu` or `cpu`), its memory, and what
 * running tasks hold on it now.
 */
export function acceleratorDevices(): Promise<AcceleratorDevice[]> {
  return requireNode().acceleratorDevices();
}

/** All resources of the node. */
export function clusterResources(): ResourceSet {
  return requireNode().scheduler.totalResources();
}

/**
 * References to objects and memory use of the node, as `tsray memory`
 * prints them (`formatMemory` gives that text).
 */
export function memory(): MemoryReport {
  const node = requireNode();
  return memoryReport(node, node.memoryIdentity);
}
