/** Task options (`fn.options({...})`): their types, defaults and checks. */
import { InvalidArgumentError } from '../errors.js';
import { ACCELERATORS, WHOLE_ONLY, shapeKey, type ResourceSet } from './resources.js';
import type { SchedulingStrategy } from './placement.js';
import type { FuncDef } from '../wit/types.js';
import { describeType } from '../wit/describe.js';
import { checkGrants } from '../engine/wasi/index.js';

export type { SchedulingStrategy };

/** What tasks and actors request alike: held while a task runs, or for an actor's whole life. */
export interface ResourceOptions {
  /** GPUs (default 0); above 1 it must be a whole number. */
  numGpus?: number;
  /** Bytes of memory to reserve for admission (not enforced at run time). */
  memory?: number;
  /** Bytes of object store memory to reserve for admission. */
  objectStoreMemory?: number;
  /** Run only on nodes of this accelerator type, e.g. `'H100'` (Ray: a 0.001 request of `accelerator_type:H100`). */
  acceleratorType?: string;
  /** Custom resources, e.g. `{ TPU: 1 }`; `TPU`, `HPU` and `neuron_cores` only in whole numbers (as in Ray). */
  resources?: Record<string, number>;
  /** Cap on the linear memory in MiB; growing past it fails with `OutOfMemoryError`. */
  maxMemoryMb?: number;
  /**
   * Device memory in bytes the task may hold on each of its GPUs through
   * tsray:accel (default: its share of the device, `numGpus` x device memory).
   */
  acceleratorMemory?: number;
  /**
   * Which node runs it on a cluster: `'DEFAULT'` (locality, then load with a
   * random top-k pick), `'SPREAD'` (round-robin), or a node `{ nodeId, soft }`
   * (hard: fail if that node cannot run it; soft: fall back to DEFAULT).
   */
  schedulingStrategy?: SchedulingStrategy;
  /**
   * WASI capabilities granted to the component (see `host/engine/wasi/capabilities.ts`):
   * `'wasi:clocks'`, `'wasi:random'`, `'wasi:cli/stdout'`, `'wasi:cli/stderr'`. A component
   * that imports what it is not granted is refused when submitted; files, sockets, HTTP and the
   * environment cannot be granted.
   */
  capabilities?: string[];
}

export interface TaskOptions extends ResourceOptions {
  /** CPUs the task holds while it runs (default 1; fractions allowed). */
  numCpus?: number;
  /**
   * Number of return objects; above 1 the WIT result must be a tuple of that
   * size. `'streaming'` (Ray's generators): `remote()` returns an
   * `ObjectRefGenerator` that yields a ref for each value the guest emits.
   */
  numReturns?: number | 'streaming';
  /** How many times to re-run the task if its worker dies (default 3; -1: forever); with `retryExceptions`, also after its own errors. */
  maxRetries?: number;
  /**
   * Also retry the task's own errors, within `maxRetries` (default false, as in Ray).
   * `true` retries a `TaskError` (a trap, a thrown error, an `err` result); a list
   * retries the errors it names: tsray error names (`'TaskError'`, `'OutOfMemoryError'`,
   * `'TaskTimeoutError'`), or the case of an `err` result whose error type is a WIT
   * enum or variant (`result<T, my-error>` returning `err(my-error.busy)`: `'busy'`).
   */
  retryExceptions?: boolean | string[];
  /** Stop the task after this many milliseconds of running (`TaskTimeoutError`). */
  timeoutMs?: number;
}

export interface NormalizedOptions {
  /**
   * The options as given, which normalize to these: what travels to another
   * process, which normalizes them again by the same rules (one schema, and
   * nothing the sender computed is trusted).
   */
  given: TaskOptions;
  request: ResourceSet;
  /** `shapeKey(request)`: tasks with equal shapes can share a worker lease. */
  shape: string;
  numGpus: number;
  numReturns: number;
  /** `numReturns: 'streaming'`: values come as the guest emits them (numReturns is then 1: the task's completion). */
  streaming?: true;
  maxRetries: number;
  /** Absent when the task's own errors are not retried. */
  retryExceptions?: true | string[];
  timeoutMs?: number;
  maxMemoryMb?: number;
  acceleratorMemory?: number;
  /** Absent for DEFAULT. */
  strategy?: SchedulingStrategy;
  /** Granted WASI capabilities, sorted; absent when none. */
  capabilities?: string[];
}

const KNOWN = new Set(['capabilities', 'numCpus', 'numGpus', 'memory', 'objectStoreMemory', 'acceleratorType', 'resources', 'numReturns', 'maxRetries', 'retryExceptions', 'timeoutMs', 'maxMemoryMb', 'acceleratorMemory', 'schedulingStrategy']);

function strategyOf(v: unknown): SchedulingStrategy | undefined {
  if (v === undefined || v === 'DEFAULT') return undefined;
  if (v === 'SPREAD') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { nodeId?: unknown }).nodeId === 'string') {
    const soft = (v as { soft?: unknown }).soft;
    if (soft !== undefined && typeof soft !== 'boolean') throw new InvalidArgumentError('schedulingStrategy.soft must be a boolean');
    return { nodeId: (v as { nodeId: string }).nodeId, soft: soft === true };
  }
  throw new InvalidArgumentError(`schedulingStrategy must be 'DEFAULT', 'SPREAD' or { nodeId, soft }, got ${JSON.stringify(v)}`);
}

function num(name: string, v: unknown, min: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    throw new InvalidArgumentError(`option ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(v)}`);
  }
  return v;
}

function retryRule(v: unknown): true | string[] | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return true;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0)) return v.length > 0 ? [...v] : undefined;
  throw new InvalidArgumentError(`option retryExceptions must be true, false or a list of error names such as ['TaskError'], got ${Array.isArray(v) ? 'a list with an entry that is not a non-empty string' : String(v)}`);
}

function grants(v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new InvalidArgumentError(`option capabilities must be a list such as ['wasi:clocks'], got ${typeof v}`);
  const c = [...new Set(checkGrants(v))].sort();
  return c.length ? c : undefined;
}

export function mergeOptions<T extends { resources?: Record<string, number> }>(base: T, extra: T): T {
  const out: T = { ...base, ...extra };
  if (base.resources || extra.resources) out.resources = { ...base.resources, ...extra.resources };
  return out;
}

export function normalizeOptions(o: TaskOptions): NormalizedOptions {
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new InvalidArgumentError(`unknown task option '${k}'; known: ${[...KNOWN].join(', ')}`);
  const numCpus = o.numCpus === undefined ? 1 : num('numCpus', o.numCpus, 0);
  const numGpus = o.numGpus === undefined ? 0 : num('numGpus', o.numGpus, 0);
  if (numGpus > 1 && !Number.isInteger(numGpus)) throw new InvalidArgumentError(`numGpus above 1 must be a whole number, got ${numGpus}`);
  const request: ResourceSet = { CPU: numCpus, GPU: numGpus };
  if (o.memory !== undefined) request.memory = num('memory', o.memory, 0);
  if (o.objectStoreMemory !== undefined) request.object_store_memory = num('objectStoreMemory', o.objectStoreMemory, 0);
  if (o.acceleratorType !== undefined) {
    if (typeof o.acceleratorType !== 'string' || !/^[\w.-]+$/.test(o.acceleratorType)) throw new InvalidArgumentError(`acceleratorType must be a name such as 'H100', got ${String(o.acceleratorType)}`);
    request[`accelerator_type:${o.acceleratorType}`] = 0.001;
  }
  for (const [k, v] of Object.entries(o.resources ?? {})) {
    const own: Record<string, string> = { CPU: 'numCpus', GPU: 'numGpus', memory: 'memory', object_store_memory: 'objectStoreMemory' };
    if (own[k]) throw new InvalidArgumentError(`use the ${own[k]} option, not resources.${k}`);
    request[k] = num(`resources.${k}`, v, 0);
    if (WHOLE_ONLY.has(k) && !Number.isInteger(request[k])) {
      throw new InvalidArgumentError(`resources.${k} must be a whole number: ${k} devices cannot be shared by fractions (as in Ray), got ${request[k]}`);
    }
    if ((ACCELERATORS as readonly string[]).includes(k) && request[k]! > 1 && !Number.isInteger(request[k])) {
      throw new InvalidArgumentError(`resources.${k} above 1 must be a whole number (an accelerator), got ${request[k]}`);
    }
  }
  const out: NormalizedOptions = {
    given: { ...o, ...(o.resources ? { resources: { ...o.resources } } : {}) },
    request,
    shape: shapeKey(request),
    numGpus,
    numReturns: o.numReturns === undefined || o.numReturns === 'streaming' ? 1 : num('numReturns', o.numReturns, 1, true),
    maxRetries: o.maxRetries === undefined ? 3 : o.maxRetries === -1 ? Infinity : num('maxRetries', o.maxRetries, 0, true),
  };
  if (o.numReturns === 'streaming') out.streaming = true;
  const retry = retryRule(o.retryExceptions);
  if (retry) out.retryExceptions = retry;
  if (o.timeoutMs !== undefined) out.timeoutMs = num('timeoutMs', o.timeoutMs, 1);
  const strategy = strategyOf(o.schedulingStrategy);
  if (strategy) out.strategy = strategy;
  const caps = grants(o.capabilities);
  if (caps) out.capabilities = caps;
  if (o.maxMemoryMb !== undefined) {
    out.maxMemoryMb = num('maxMemoryMb', o.maxMemoryMb, 1);
    if (out.maxMemoryMb > 4096) throw new InvalidArgumentError('maxMemoryMb cannot exceed 4096 (wasm32 memories stop at 4 GiB)');
  }
  if (o.acceleratorMemory !== undefined) {
    out.acceleratorMemory = num('acceleratorMemory', o.acceleratorMemory, 1, true);
    if (numGpus === 0) throw new InvalidArgumentError('acceleratorMemory needs numGpus: it is a budget on the GPUs the task holds');
  }
  return out;
}

/**
 * Task options as they arrive from another process: the options as given
 * there, normalized here again by `normalizeOptions` (an
 * `InvalidArgumentError` for anything it would refuse).
 */
export function normalizeWireOptions(wire: unknown): NormalizedOptions {
  const given = (wire as { given?: unknown } | null)?.given;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new InvalidArgumentError('task options must carry the options as given');
  return normalizeOptions(given as TaskOptions);
}

/** Checks `numReturns` against the WIT result of `func`: above 1 it must be a tuple of that size. */
export function checkNumReturns(func: FuncDef, numReturns: number): void {
  if (!Number.isSafeInteger(numReturns) || numReturns < 1) throw new InvalidArgumentError(`numReturns must be a whole number >= 1, got ${numReturns}`);
  const r = func.result;
  if (numReturns > 1 && (!r || r.kind !== 'tuple' || r.types.length !== numReturns)) {
    throw new InvalidArgumentError(`${func.name}: numReturns is ${numReturns}, but its result is ${r ? describeType(r) : 'nothing'}; it must be a tuple of ${numReturns}`);
  }
}

/** The longest actor name. */
export const MAX_ACTOR_NAME = 256;

/** Actor options (`mod.actor(name, {...})`). */
export interface ActorOptions extends ResourceOptions {
  /** CPUs the actor holds for its whole life (default 0: actors do not hold a CPU, as in Ray). */
  numCpus?: number;
  /** How many times the actor is rebuilt after a trap or a lost worker (default 0; -1: forever). */
  maxRestarts?: number;
  /**
   * How many times a call that was sent to the actor when it died is sent again to
   * the restarted actor (default 0, as in Ray: such calls fail with `ActorDiedError`;
   * -1: forever). Needs `maxRestarts`. A retried call may run twice: make it idempotent.
   */
  maxTaskRetries?: number;
  /** A unique name: `tsray.getActor(name)` finds the actor. A named actor lives until killed. */
  name?: string;
  /**
   * `'detached'`: the actor lives until killed, even with no handle left.
   * Default `'non_detached'`: it ends once its last handle is gone (see `ActorHandle.release`).
   */
  lifetime?: 'detached' | 'non_detached';
  /** Each method call is stopped after this many milliseconds; the actor then restarts or dies. */
  timeoutMs?: number;
}

export interface NormalizedActorOptions {
  request: ResourceSet;
  maxRestarts: number;
  maxTaskRetries: number;
  detached: boolean;
  strategy?: SchedulingStrategy;
  name?: string;
  timeoutMs?: number;
  maxMemoryMb?: number;
  acceleratorMemory?: number;
  capabilities?: string[];
}

export function normalizeActorOptions(o: ActorOptions): NormalizedActorOptions {
  const { maxRestarts, maxTaskRetries, name, lifetime, ...rest } = o;
  if ('retryExceptions' in rest) throw new InvalidArgumentError('retryExceptions is a task option; an actor retries calls lost with a restart through maxTaskRetries');
  const base = normalizeOptions({ ...rest, numCpus: rest.numCpus ?? 0 } as TaskOptions);
  const count = (key: string, v: number | undefined): number => v === undefined ? 0 : v === -1 ? Infinity : num(key, v, 0, true);
  const out: NormalizedActorOptions = {
    request: base.request,
    maxRestarts: count('maxRestarts', maxRestarts),
    maxTaskRetries: count('maxTaskRetries', maxTaskRetries),
    detached: lifetime === 'detached',
  };
  if (lifetime !== undefined && lifetime !== 'detached' && lifetime !== 'non_detached') {
    throw new InvalidArgumentError(`actor lifetime must be 'detached' or 'non_detached', got ${String(lifetime)}`);
  }
  if (name !== undefined) {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ACTOR_NAME) throw new InvalidArgumentError(`actor name must be a non-empty string of at most ${MAX_ACTOR_NAME} characters`);
    out.name = name;
  }
  if (base.timeoutMs !== undefined) out.timeoutMs = base.timeoutMs;
  if (base.maxMemoryMb !== undefined) out.maxMemoryMb = base.maxMemoryMb;
  if (base.acceleratorMemory !== undefined) out.acceleratorMemory = base.acceleratorMemory;
  if (base.strategy) out.strategy = base.strategy;
  if (base.capabilities) out.capabilities = base.capabilities;
  return out;
}
