/**
 * The host side of `tsray:runtime/host`: the only functions a guest can call.
 * Implementations take and return plain JavaScript values; the engines do the
 * canonical-ABI work around them.
 */
import { ABORT_MESSAGE_CHARS } from './limits.js';
import { logLine } from './log-line.js';
import { systemNow, type WasiIo } from './wasi/index.js';
import type { LogLevel } from './guest-log.js';

export type { LogLevel };

/** What a task sees through `task-context`. */
export interface TaskInfo {
  taskId: string;
  nodeId: string;
  attempt: number;
  /** Accelerator device ids assigned to the task: its GPUs', else those of the first other accelerator kind it holds. */
  acceleratorIds: Uint32Array;
  /** The ids of every accelerator kind it holds, e.g. `{ GPU: [1], TPU: [0, 1] }`. */
  accelerators?: Partial<Record<string, number[]>>;
}

/** Per-instance hooks the embedder supplies; every field has a default. */
export interface HostEnv {
  /**
   * Receives guest log lines as the guest wrote them (default: none are
   * printed below `warn`; `warn`+ go to stderr, escaped and cut to one line each, see log-line.ts).
   */
  log?: (level: LogLevel, message: string) => void;
  /** The task context the guest sees. */
  taskInfo?: () => TaskInfo;
  /** Runs at the start of every host call; throwing stops the guest there (how cancellation lands). */
  checkpoint?: () => void;
  /** Replaces the blocking sleep, e.g. with one a cancel can interrupt. */
  sleep?: (ms: number) => void;
  /** WASI capabilities granted to an instance of a component that imports WASI (see `engine/wasi/capabilities.ts`). */
  capabilities?: readonly string[];
  /** Imports served beside tsray:runtime (tsray:accel), by interface as `HostImports` holds them. */
  extraImports?: HostImports;
  /** The Ray API inside guests (`tsray:runtime/actors`, `objects`, `tasks`); absent where no runtime is running. */
  runtime?: GuestRuntime;
}

/** An `object-ref` as the guest holds it. */
export interface GuestRef { objectId: string }

/** A failed runtime call, as the guest sees it (`failure` in tsray:runtime/objects). */
export interface Failure { code: string; message: string }

/** A WIT `result<T, failure>`. */
export type Res<T> = { tag: 'ok'; val: T } | { tag: 'err'; val: Failure };

/** What a worker serves behind `tsray:runtime/actors`, `objects` and `tasks` (see worker/runtime-client.ts). */
export interface GuestRuntime {
  callActor(actor: string, method: string, args: Uint8Array): { tag: 'ok'; val: Uint8Array } | { tag: 'err'; val: string };
  createActor(resource: string, args: Uint8Array, options: Uint8Array): { tag: 'ok'; val: { id: string } } | { tag: 'err'; val: string };
  killActor(actor: string, noRestart: boolean): { tag: 'ok'; val: undefined } | { tag: 'err'; val: string };
  put(value: Uint8Array): Res<GuestRef>;
  get(ref: GuestRef, timeoutMs: number | undefined): Res<Uint8Array>;
  wait(refs: GuestRef[], numReturns: number, timeoutMs: number | undefined): Res<Uint32Array>;
  cancel(ref: GuestRef, force: boolean, recursive: boolean): Res<undefined>;
  release(ref: GuestRef): void;
  submit(fn: string, args: Uint8Array, options: Uint8Array): Res<GuestRef[]>;
  emit(value: Uint8Array): Res<undefined>;
}

const OUTSIDE = 'only tasks run by tsray.init() can use the runtime';
const refused = <T>(): Res<T> => ({ tag: 'err', val: { code: 'ERR_RUNTIME_STATE', message: OUTSIDE } });

/** The runtime of an instance run outside tsray (a bare engine in a test): every call is refused. */
const NO_RUNTIME: GuestRuntime = {
  callActor: () => ({ tag: 'err', val: 'actors can only be called from tasks run by tsray.init()' }),
  createActor: () => ({ tag: 'err', val: 'actors can only be created from tasks run by tsray.init()' }),
  killActor: () => ({ tag: 'err', val: 'actors can only be killed from tasks run by tsray.init()' }),
  put: refused, get: refused, wait: refused, cancel: refused, submit: refused, emit: refused,
  release: () => undefined,
};

/**
 * A host-defined resource, as a class: static functions and methods by their
 * camelCased WIT names, and `[DISPOSE]()` run when the guest drops its handle
 * (the shape jco's glue takes for imported resources).
 */
export type HostResourceClass = (new (...args: never[]) => object) & Record<string, unknown>;

/**
 * Host functions by unversioned interface name, then WIT function name;
 * resources by `[resource]name` (their functions are the class's).
 */
export type HostImports = Record<string, Record<string, ((...args: never[]) => unknown) | HostResourceClass>>;

/** What jco's glue calls when a guest drops a handle to a host object. */
export const DISPOSE: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('dispose');

/** Identifies a resource type across the interfaces of a world. */
export function resourceKey(r: { owner: string; name: string }): string {
  return `${r.owner.split('@')[0]}#${r.name}`;
}

/**
 * Marks an error thrown from a host call to stop the guest on purpose (a
 * cancel). Such an unwind leaves the instance usable, unlike a trap.
 */
export const INTERRUPT = Symbol.for('tsray.interrupt');

const sleeper = new Int32Array(new SharedArrayBuffer(4));

const DEFAULT_INFO: TaskInfo = { taskId: 'local', nodeId: 'local', attempt: 0, acceleratorIds: new Uint32Array(0) };

function defaultLog(level: LogLevel, message: string): void {
  if (level === 'warn' || level === 'error') process.stderr.write(logLine('guest', level, message));
}

/**
 * Builds the `tsray:runtime/host` implementation for one instance. `onFatal`
 * receives a guest's abort message so the engine can attach it to the trap.
 */
/** The blocking sleep used when the embedder supplies none. */
function defaultSleep(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * The hooks the WASI host runs on, from the same environment as tsray's own
 * imports: stdout becomes `info` log lines and stderr `error` ones, and
 * sleeps and cancels go through the same hooks.
 */
export function wasiIoFrom(env: HostEnv): WasiIo {
  const log = env.log ?? defaultLog;
  return {
    write: (stream, line) => log(stream === 'stdout' ? 'info' : 'error', line),
    sleep: env.sleep ?? defaultSleep,
    checkpoint: env.checkpoint ?? (() => undefined),
    now: systemNow,
  };
}

export function runtimeHost(env: HostEnv, onFatal: (message: string) => void): HostImports {
  const log = env.log ?? defaultLog;
  const check = env.checkpoint ?? (() => {});
  const sleep = env.sleep ?? defaultSleep;
  const rt = env.runtime ?? NO_RUNTIME;
  return {
    ...env.extraImports,
    'tsray:runtime/host': {
      log: (level: LogLevel, message: string) => {
        if (level === 'fatal') onFatal(message.length > ABORT_MESSAGE_CHARS ? `${message.slice(0, ABORT_MESSAGE_CHARS)} ... [cut]` : message);
        else check();
        log(level, message);
      },
      now: () => { check(); return Date.now(); },
      sleep: (ms: number) => { check(); sleep(ms); check(); },
      'task-context': () => {
        check();
        const { taskId, nodeId, attempt, acceleratorIds, accelerators = {} } = (env.taskInfo ?? (() => DEFAULT_INFO))();
        const kinds = Object.entries(accelerators).filter((e): e is [string, number[]] => !!e[1]?.length).map(([kind, ids]) => ({ kind, ids: Uint32Array.from(ids) }));
        return { taskId, nodeId, attempt, acceleratorIds, accelerators: kinds };
      },
    },
    'tsray:runtime/actors': {
      call: (actor: { id: string }, method: string, args: Uint8Array) => { check(); return rt.callActor(actor.id, method, args); },
      create: (resource: string, args: Uint8Array, options: Uint8Array) => { check(); return rt.createActor(resource, args, options); },
      kill: (actor: { id: string }, noRestart: boolean) => { check(); return rt.killActor(actor.id, noRestart); },
    },
    'tsray:runtime/objects': {
      put: (value: Uint8Array) => { check(); return rt.put(value); },
      get: (ref: GuestRef, timeoutMs: number | undefined) => { check(); return rt.get(ref, timeoutMs); },
      wait: (refs: GuestRef[], numReturns: number, timeoutMs: number | undefined) => { check(); return rt.wait(refs, numReturns, timeoutMs); },
      cancel: (ref: GuestRef, force: boolean, recursive: boolean) => { check(); return rt.cancel(ref, force, recursive); },
      release: (ref: GuestRef) => rt.release(ref),
    },
    'tsray:runtime/tasks': {
      submit: (fn: string, args: Uint8Array, options: Uint8Array) => { check(); return rt.submit(fn, args, options); },
      emit: (value: Uint8Array) => { check(); return rt.emit(value); },
    },
  };
}
