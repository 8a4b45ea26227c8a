/**
 * Errors a tsray user can catch. Every error carries a stable `code` string so
 * callers can branch on it without matching messages.
 */
import { safeLine } from './util/safe-line.js';

/** Base class of every tsray error. */
export class TsrayError extends Error {
  /** Stable machine-readable code, e.g. `ERR_COMPONENT`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bad component, bad WIT, a build failure, or values that do not match a WIT signature. */
export class ComponentError extends TsrayError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'ERR_COMPONENT', message, options);
  }
}

/** WIT text that does not parse or resolve; `file`, `line` and `column` locate it. */
export class WitError extends ComponentError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(file: string, line: number, column: number, message: string) {
    super(`${file}:${line}:${column}: ${message}`, { code: 'ERR_WIT' });
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** An AssemblyScript source that does not compile or does not match its WIT world. */
export class BuildError extends ComponentError {
  /** Every diagnostic, each already formatted as `file:line:col: message`. */
  readonly diagnostics: string[];
  constructor(diagnostics: string[]) {
    super(`build failed:\n${diagnostics.join('\n')}`, { code: 'ERR_BUILD' });
    this.diagnostics = diagnostics;
  }
}

/** A value passed to a component function does not match the WIT type. */
export class ArgumentTypeError extends ComponentError {
  constructor(message: string) {
    super(message, { code: 'ERR_ARGUMENT_TYPE' });
  }
}

/**
 * A guest trap, a guest exception (AssemblyScript `throw`/`abort`), or an
 * `err` returned by a function whose WIT result is a `result`.
 */
export class TaskError extends TsrayError {
  /** The WIT name of the function that failed. */
  readonly functionName: string;
  /** The guest's own message (abort text, trap reason), when known, as the guest wrote it (`message` shows it escaped). */
  readonly guestMessage: string;
  /** For a `result` err: the lifted error payload. */
  readonly payload?: unknown;
  /** The guest's wasm frames at the trap, innermost first, when the component carries names. */
  readonly guestStack?: string;
  constructor(functionName: string, guestMessage: string, options?: { cause?: unknown; payload?: unknown; guestStack?: string }) {
    // Guest text in the message is one escaped line: a printed error cannot forge lines or move the cursor.
    super('ERR_TASK', `task '${functionName}' failed: ${safeLine(guestMessage)}`, options);
    this.functionName = functionName;
    this.guestMessage = guestMessage;
    if (options && 'payload' in options) this.payload = options.payload;
    if (options?.guestStack) this.guestStack = options.guestStack;
  }
}

/** A task ran past its `timeoutMs` and was stopped. */
export class TaskTimeoutError extends TsrayError {
  constructor(readonly functionName: string, readonly timeoutMs: number) {
    super('ERR_TASK_TIMEOUT', `task '${functionName}' ran past its timeout of ${timeoutMs} ms and was stopped; raise timeoutMs if it needs longer`);
  }
}

/** `get` waited past its `timeoutMs`; the object may still be computed later. */
export class GetTimeoutError extends TsrayError {
  constructor(timeoutMs: number, pending: number) {
    super('ERR_GET_TIMEOUT', `get timed out after ${timeoutMs} ms with ${pending} object${pending === 1 ? '' : 's'} still pending; call get again to keep waiting`);
  }
}

/** The task was cancelled (or depended on a cancelled task). */
export class TaskCancelledError extends TsrayError {
  constructor(readonly functionName: string, why = 'it was cancelled') {
    super('ERR_TASK_CANCELLED', `task '${functionName}' did not complete: ${why}`);
  }
}

/** The worker running a task died and retries were exhausted (see `maxRetries`). */
export class WorkerCrashedError extends TsrayError {
  /** `what` it lost: its worker, or on a cluster its node. */
  constructor(readonly functionName: string, attempts: number, why: string, what: 'worker' | 'node' = 'worker') {
    super('ERR_WORKER_CRASHED', `task '${functionName}' lost its ${what} ${attempts} time${attempts === 1 ? '' : 's'} (${why}); raise maxRetries to retry more`);
  }
}

/** The runtime is not in a state for this call: `init` twice, use before `init` or after `shutdown`. */
export class RuntimeStateError extends TsrayError {
  constructor(message: string) {
    super('ERR_RUNTIME_STATE', message);
  }
}

/** A task asks for resources that no node has; it stays pending until one can run it. */
export class InfeasibleTaskError extends TsrayError {
  constructor(message: string) {
    super('ERR_INFEASIBLE', message);
  }
}

/** A guest needed more linear memory than its cap (`maxMemoryMb`, or wasm32's 4 GiB) allows. */
export class OutOfMemoryError extends TsrayError {
  constructor(readonly functionName: string, message: string, options?: { cause?: unknown }) {
    super('ERR_OUT_OF_MEMORY', message, options);
  }
}

/** A call was made with arguments that make no sense (duplicate refs, bad options, unknown refs). */
export class InvalidArgumentError extends TsrayError {
  constructor(message: string) {
    super('ERR_INVALID_ARGUMENT', message);
  }
}

/** The actor is dead (its constructor failed, it was killed, or it ran out of restarts); `cause` says why. */
export class ActorDiedError extends TsrayError {
  constructor(readonly actorId: string, why: string, options?: { cause?: unknown }) {
    super('ERR_ACTOR_DIED', `actor ${actorId} is dead: ${why}`, options);
  }
}

/**
 * A put (or a task's result) does not fit in the object store even after
 * spilling everything that may be spilled. The message names the capacity
 * and the largest objects being held, and why they are held.
 */
export class ObjectStoreFullError extends TsrayError {
  constructor(message: string) {
    super('ERR_OBJECT_STORE_FULL', message);
  }
}

/**
 * An object's bytes are gone: its spill file is missing or corrupt, or the
 * node that held its only copy died and its task could not run again to make
 * it (`why` says which). Other objects are unaffected.
 */
export class ObjectLostError extends TsrayError {
  constructor(readonly objectId: string, readonly why: string) {
    super('ERR_OBJECT_LOST', `object ${objectId} was lost: ${why}; recreate it (put it again or rerun the task that made it)`);
  }
}

/** The spill directory's disk is full (or past `localFsCapacityThreshold`), so nothing more can be spilled. */
export class OutOfDiskError extends TsrayError {
  constructor(message: string) {
    super('ERR_OUT_OF_DISK', message);
  }
}

/**
 * A directory tsray keeps private files in (spill files, the cluster token,
 * admin sockets) is owned by another user, is open to other users, or is not
 * a directory: using it could hand this user's data to someone else.
 */
export class InsecurePathError extends TsrayError {
  constructor(readonly path: string, message: string) {
    super('ERR_INSECURE_PATH', message);
  }
}

/** A cluster connection was refused: a missing or wrong cluster token, or an unsupported protocol version. */
export class AuthError extends TsrayError {
  constructor(message: string) {
    super('ERR_AUTH', message);
  }
}

/** The cluster cannot be reached, or a connection to it was lost. */
export class ConnectionError extends TsrayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONNECTION', message, options);
  }
}

/** A task or actor pinned to a node (hard node affinity) that cannot run there: the node is gone or can never hold it. */
export class UnschedulableError extends TsrayError {
  constructor(message: string) {
    super('ERR_UNSCHEDULABLE', message);
  }
}

/**
 * A handle or object id its user was never given: an actor id that was not
 * passed to this task, actor or driver, or an object another driver owns.
 * Ids are capabilities; the actor or object is not reached.
 */
export class NotGivenError extends TsrayError {
  constructor(message: string) {
    super('ERR_NOT_GIVEN', message);
  }
}

/** The head's persistent tables (a local file, or Redis with `--redis-address`) cannot be read or written. */
export class StorageError extends TsrayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_STORAGE', message, options);
  }
}
