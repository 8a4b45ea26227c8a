/**
 * Messages between a node's scheduler (main thread) and its worker threads.
 * Data travels over a MessagePort in batches; a SharedArrayBuffer control
 * block carries the wake-ups and the cancel flag, so an idle worker is woken
 * in microseconds and a running guest can see a cancel at its next host call.
 */
import type { WireError } from '../core/error-codec.js';
import type { DeviceIds } from '../core/resources.js';
import type { Each } from '../core/specs.js';
import type { FilePart } from '../files/part.js';
import type { AccelGrant } from '../accel/protocol.js';
import type { LinkEnd } from '../accel/protocol.js';
import type { FuncDef, ResolvedWorld } from '../wit/types.js';
import type { MessagePort } from 'node:worker_threads';
import type { Variant } from './module-variants.js';
import type { GuestLog, LogFilter, LogTarget } from '../engine/guest-log.js';

/** Int32 slots of the control block. */
export const CTL = {
  /** Bumped by the scheduler after posting a batch. */
  DOORBELL: 0,
  /** Set to a running task's number to cancel it at its next host call (0: none). */
  CANCEL: 1,
  /** Bumped by the worker after posting results. */
  RESULTS: 2,
  /** Non-zero asks the worker loop to exit. */
  STOP: 3,
  /** The worker's JS heap in use, in KiB (updated as it reports results), for `tsray memory`. */
  HEAP_KB: 4,
  /** Guest linear memory held by the worker's instances, in KiB. */
  GUEST_KB: 5,
  SIZE: 6,
} as const;

/** A component variant for the worker to hold (see module-variants.ts): its world travels by structured clone. */
export type ModuleMsg = Variant & { t: 'module'; world: ResolvedWorld };

export interface RunMsg {
  t: 'run';
  /** The scheduler's task number (never 0). */
  n: number;
  key: string;
  /** `iface#name` or a world-level name. */
  fn: string;
  args: unknown[];
  /** The task's id, attempt and accelerator ids, for `task-context`. */
  id: string;
  attempt: number;
  devices: DeviceIds;
  /** What it may use through tsray:accel (absent: no GPU). */
  accel?: AccelGrant;
  /** Its guest log's level and route (absent: the worker's `logLevel`, no route). */
  log?: LogTarget;
  /** Granted WASI capabilities (absent: none). */
  caps?: string[];
  /** Run it inside the blocked guest call that waits for it (see runtime-client.ts), not after the items queued before it. */
  inline?: true;
  /** Its one result's id, when the waiting guest may take the value from here (no refs in it): saves a round trip. */
  answers?: string;
  /** Functions run after `fn` on its value, in order (a fused task: `TaskSpec.then`). */
  then?: { key: string; fn: string; args: unknown[]; each?: Each }[];
  /** How `fn` takes its block (`TaskSpec.each`). */
  each?: Each;
  /** A file read task's part (`TaskSpec.read`): read into its value instead of calling `fn`. */
  read?: FilePart;
}

/** Run queued task `n` now, inside the blocked guest call that waits for it. */
export interface PromoteMsg { t: 'promote'; n: number }

export interface CancelMsg { t: 'cancel'; n: number }

/** Creates actor `aid`: a fresh instance of `key` and the resource built by its constructor. */
export interface ActorNewMsg {
  t: 'actor-new';
  aid: number;
  /** The actor's public id (hex). */
  id: string;
  key: string;
  /** The resource (actor class) and the interface exporting it. */
  resource: string;
  owner: string;
  args: unknown[];
  devices: DeviceIds;
  accel?: AccelGrant;
  /** How many times the worker may rebuild the actor after a trap. */
  restarts: number;
  /** Its guest log's level and route, for its constructor and every call (absent: the worker's `logLevel`). */
  log?: LogTarget;
  /** Granted WASI capabilities (absent: none). */
  caps?: string[];
}

/**
 * Runs a method call `n` on actor `aid`, after everything sent before it.
 * `direct`: a guest's call that came over a direct link (see
 * direct-links.ts): it is answered on that link, not to the node (`n` is 0).
 */
export interface ActorCallMsg { t: 'actor-call'; n: number; aid: number; method: string; args: unknown[]; id: string; direct?: { slot: number; cid: number } }

/**
 * Opens a direct link (see direct-links.ts). To the caller's worker: calls
 * to `actor` may go over `port`; `ctl` and `mail` are the actor worker's
 * control block and mail flags, `slot` its flag for this link. To the actor's
 * worker: `port` carries calls to actor `aid` in `slot`; `ctl` is the
 * caller worker's control block (its doorbell is rung with each answer);
 * `className` and `methods`: the actor's, to check the calls against.
 */
export type LinkMsg =
  | { t: 'link'; side: 'caller'; actor: string; port: MessagePort; ctl: SharedArrayBuffer; mail: SharedArrayBuffer; slot: number }
  | { t: 'link'; side: 'actor'; aid: number; port: MessagePort; ctl: SharedArrayBuffer; slot: number; className: string; methods: FuncDef[] };

/** Closes a link: to the caller (the actor is gone, saying `why`) or to the actor's worker (the caller is gone). */
export type UnlinkMsg =
  | { t: 'unlink'; side: 'caller'; actor: string; why: string }
  | { t: 'unlink'; side: 'actor'; slot: number };

/** A call over a direct link, answered by a `ReplyMsg` with the same `cid` on the same link. */
export interface DirectCall { cid: number; method: string; args: unknown[] }

/** An actor's worker ran a call that came over a direct link: the node records it afterwards (times in ms since the epoch). */
export interface DirectNote { ev: 'direct'; aid: number; dn: number; method: string; start: number; end: number; error?: WireError }

/** The answer to a `GuestRequest`: its value, or an error with its stable code. */
export interface ReplyMsg { t: 'reply'; cid: number; ok: boolean; value?: unknown; error?: string; code?: string }

export type ToWorker = ModuleMsg | RunMsg | PromoteMsg | CancelMsg | ActorNewMsg | ActorCallMsg | ReplyMsg | LinkMsg | UnlinkMsg;

/** Work a worker runs in order. */
export type WorkItem = RunMsg | ActorNewMsg | ActorCallMsg;

/** How a task ended, as the worker reports it. */
export type Outcome =
  | { n: number; ok: true; value: unknown; ms?: number }
  | { n: number; ok: false; error: WireError };

/** A change in an actor's life, reported by the worker hosting it. */
export interface ActorEvent {
  ev: 'actor-ready' | 'actor-restarted' | 'actor-died';
  aid: number;
  error?: WireError;
}

/** What a guest asks of the runtime (tsray:runtime/actors, objects, tasks); values travel as CBOR. */
export type GuestOp =
  | { op: 'call'; actor: string; method: string; args: unknown[] }
  | { op: 'put'; value: Uint8Array }
  | { op: 'get'; id: string; timeoutMs?: number }
  | { op: 'wait'; ids: string[]; num: number; timeoutMs?: number }
  | { op: 'cancel'; id: string; force: boolean; recursive: boolean }
  | { op: 'release'; id: string }
  | { op: 'submit'; fn: string; args: Uint8Array; options: Uint8Array; ids: string[]; local?: { claim: number; taskId: string } }
  | { op: 'emit'; value: Uint8Array }
  | { op: 'create'; resource: string; args: Uint8Array; options: Uint8Array }
  | { op: 'kill'; actor: string; noRestart: boolean };

/**
 * A guest's request, answered by a `ReplyMsg` with the same `cid` (a
 * `release` has cid 0 and no answer). `n`: the number of the item that asks
 * (a task's; an actor's calls all share the actor's references).
 */
export interface GuestRequest { ev: 'rt'; cid: number; n: number; req: GuestOp }

export type FromWorker = Outcome | ActorEvent | GuestRequest | DirectNote;

/**
 * A guest log line that passed its filter and budget, for the node to print
 * or send on (see engine/guest-log.ts). Posted on its own, not in a batch:
 * the worker never returns to its event loop, so its own `process.stdout`
 * would hold the text until the thread ends.
 */
/** A guest log record: `route` is where its driver reads it; `taskId` / `actorId` whose it is (for `tsray logs`). */
export interface LogMsg { log: GuestLog; route?: string; taskId?: string; actorId?: string }

export type { WireError };

export interface WorkerInit {
  ctl: SharedArrayBuffer;
  /** Its claim table (see claims.ts). */
  claims: SharedArrayBuffer;
  /** Its mail flags: one per direct link into it, set by the caller with each call (see direct-links.ts). */
  mail: SharedArrayBuffer;
  nodeId: string;
  /** How long an idle worker spins before sleeping, in microseconds. */
  spinUs: number;
  /** The node's object-store arenas: arguments stored there are read in place. */
  arenas: WebAssembly.Memory[];
  /** The guest log level of work that brings none (`RunMsg.log`). */
  logLevel: LogFilter;
  /** Its link to the node's device thread (absent: the node has no devices). */
  accel?: LinkEnd;
  /** Where file read tasks may read (absent: anywhere; see files/part.ts `openUnder`). */
  dataRoots?: string[];
}
