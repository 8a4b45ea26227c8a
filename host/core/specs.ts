/**
 * What a task and an actor are, independent of where they run: the embedded
 * node's scheduler and actor manager, the cluster driver and the node agent
 * all take these.
 */
import type { LoadedComponent } from '../component/loaded.js';
import type { FuncDef, ResourceDef } from '../wit/types.js';
import { ComponentError, InvalidArgumentError } from '../errors.js';
import { validateArgs } from '../engine/validate.js';
import { describeFunc } from '../wit/describe.js';
import { nameMatches } from '../abi/names.js';
import { normalizeActorOptions, type ActorOptions, type NormalizedOptions, type SchedulingStrategy } from './options.js';
import type { ResourceSet } from './resources.js';
import { checkImports } from '../engine/wasi/index.js';
import type { LogTarget } from '../engine/guest-log.js';
import type { ObjectRef } from '../../store/object-ref.js';
import type { FilePart } from '../files/part.js';

/** A task to run: one exported function of a component with its arguments. */
export interface TaskSpec {
  component: LoadedComponent;
  /** WIT name of the function (for errors). */
  name: string;
  /** Export key the worker resolves (`iface#name` or a world-level name). */
  fn: string;
  args: unknown[];
  opts: NormalizedOptions;
  /** Attempts made elsewhere before (a cluster retrying a task from a dead node). */
  attempt?: number;
  /** Its guest log's level and route (absent: the node's own level); a cluster node sets it from the driver's. */
  log?: LogTarget;
  /** Refs passed as `object-ref` values (see core/ref-values.ts): held until it ends. */
  borrowed?: readonly ObjectRef[];
  /** The guest scope that submitted it (a nested task), for ownership and recursive cancel. */
  parent?: string;
  /** Where its emitted values go (`numReturns: 'streaming'`). */
  stream?: StreamSink;
  /** Ids its submitter drew for its results (a nested task: see `ObjectStore.create`). */
  returnIds?: readonly string[];
  /** Its task id, when its submitter drew it (a nested task its parent's worker may run itself). */
  taskId?: string;
  /**
   * Functions run after this one in the same task, each on the value before
   * it and its own plain arguments: a fused stage (tsray.data). Only a
   * backend with `fusesChains` runs them.
   */
  then?: readonly ChainStep[];
  /** How its function takes its first argument, a block (tsray.data's `map`, `flatMap`, `batchSize`); absent: whole. */
  each?: Each;
  /** Told how long its functions ran on their worker thread, when it succeeds there (tsray.data's stats). */
  ran?: (ms: number) => void;
  /**
   * A file read task: its worker reads this part into a block (host/files/),
   * which is its value, instead of calling its function; `then` runs on it.
   */
  read?: FilePart;
}

/**
 * How a function is called on a block (host/abi/block.ts) given as its first
 * argument: on slices of `batch` rows, the results joined; or on each row
 * (`rows: 'map'`: a row back; `'flat'`: a list of rows back), the results
 * made into a block. Only a backend with `fusesChains` runs it.
 */
export type Each = { batch: number } | { rows: 'map' | 'flat' };

/** One function of a fused task (see `TaskSpec.then`). */
export interface ChainStep {
  component: LoadedComponent;
  name: string;
  fn: string;
  /** Arguments after the value it is given (plain values, no refs). */
  args: unknown[];
  each?: Each;
}

/** Receives a streaming task's values, in the order its guest emits them (see api/object-ref-generator.ts). */
export interface StreamSink {
  /** The `index`-th value (from 0); a retry emits again from 0, and the sink drops what it already has. */
  push(index: number, ref: ObjectRef): void;
}

/** An actor to create: one exported resource of a component, its constructor arguments and options. */
export interface ActorSpec {
  component: LoadedComponent;
  resource: ResourceDef;
  /** Constructor and methods of the resource. */
  ctor: FuncDef;
  methods: FuncDef[];
  args: unknown[];
  request: ResourceSet;
  maxRestarts: number;
  /** How many times a call lost with the actor's worker is sent again after a restart. */
  maxTaskRetries: number;
  /** Lives until killed, even with no handle left. */
  detached?: boolean;
  /** Its id when its creator drew one (a cluster's actor id on the node that hosts it); absent: the node draws one. */
  id?: string;
  /** The options the actor class was given (a cluster sends them to the node that hosts it). */
  options?: Record<string, unknown>;
  strategy?: SchedulingStrategy;
  name?: string;
  timeoutMs?: number;
  maxMemoryMb?: number;
  /** Device memory it may hold per GPU through tsray:accel (bytes). */
  acceleratorMemory?: number;
  /** Granted WASI capabilities (sorted). */
  capabilities?: string[];
  /** Its guest log's level and route, as for a task. */
  log?: LogTarget;
}

/**
 * Refuses to run `component` unless `granted` covers every WASI import that
 * needs a grant (`ERR_CAPABILITY`, one line per import).
 */
export function checkCapabilities(component: LoadedComponent, what: string, granted: readonly string[] | undefined): void {
  if (component.wasiImports.length) checkImports(what, component.wasiImports, granted ?? []);
}

/** The method `name` (its WIT name or camelCase) among `methods`. */
export function findMethod(methods: readonly FuncDef[], name: string): FuncDef | undefined {
  return methods.find((m) => nameMatches(m.shortName, name));
}

/** The method of actor class `className` a guest's call names, its arguments checked (typed errors otherwise). */
export function guestMethod(className: string, methods: readonly FuncDef[], name: string, args: readonly unknown[]): FuncDef {
  const method = findMethod(methods, name);
  if (!method) throw new InvalidArgumentError(`actor ${className} has no method '${String(name).slice(0, 200)}'`);
  validateArgs(method.name, () => describeFunc(method), method.params.slice(1), args);
  return method;
}

/** The spec of an actor of `resource` (whose functions are `funcs`) created with `opts` and constructor `args`. */
export function actorSpec(component: LoadedComponent, resource: ResourceDef, funcs: readonly FuncDef[], opts: ActorOptions, args: unknown[]): ActorSpec {
  const ctor = funcs.find((f) => f.kind === 'constructor');
  if (!ctor) throw new ComponentError(`resource ${resource.name} has no constructor, so it cannot be an actor`);
  const o = normalizeActorOptions(opts);
  checkCapabilities(component, `actor '${resource.name}'`, o.capabilities);
  return {
    component, resource, ctor, methods: funcs.filter((f) => f.kind === 'method'), args,
    request: o.request, maxRestarts: o.maxRestarts, maxTaskRetries: o.maxTaskRetries, detached: o.detached, options: { ...opts },
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o.maxMemoryMb === undefined ? {} : { maxMemoryMb: o.maxMemoryMb }),
    ...(o.acceleratorMemory === undefined ? {} : { acceleratorMemory: o.acceleratorMemory }),
    ...(o.strategy ? { strategy: o.strategy } : {}),
    ...(o.capabilities ? { capabilities: o.capabilities } : {}),
  };
}
