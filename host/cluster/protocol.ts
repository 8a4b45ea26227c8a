/**
 * The cluster wire protocol: CBOR frames over WebSockets. Every connection
 * opens with `hello` (protocol version, role, cluster token) and is answered
 * with `welcome` or closed with a code below. A frame that is not CBOR (or
 * uses CBOR features `cbor-scan.ts` refuses), not a map with a string `t`,
 * not of its type's shape, or larger than the limit closes that connection
 * only. Requests carry an `id` the answer repeats.
 */
import type { JobInfo } from './head/jobs.js';
import type { AcceleratorDevice } from '../accel/accelerator-device.js';
import { encode, decode } from 'cbor-x';
import { cborProblem } from './cbor-scan.js';
import type { SchedulingStrategy } from '../core/placement.js';
import type { NormalizedOptions } from '../core/options.js';
import type { Each } from '../core/specs.js';
import { isFilePart, type FilePart } from '../files/part.js';
import type { WireError } from '../core/error-codec.js';
import type { RemoteLocation } from '../../store/object-store.js';
import type { NodeMemory } from '../../store/report.js';
import type { NodeRow, ProcessState } from '../core/state-views.js';
import type { NodeLogs } from '../node/log-ring.js';
import type { LogFilter, LogLevel } from '../engine/guest-log.js';
import type { ActorRouteFrame, LeaseFrame, LeaseGrant, LeaseReplyFrame, LeaseRequestFrame, LeaseReturnFrame, OwnerGoneFrame } from './lease-protocol.js';

export const PROTOCOL_VERSION = 1;

/** WebSocket close codes (4000-4999 are the application's). */
export const CLOSE = {
  NORMAL: 1000,
  /** Missing or wrong cluster token. */
  AUTH: 4001,
  /** The peer speaks another protocol version. */
  VERSION: 4002,
  /** A frame that does not decode, or a message out of place. */
  MALFORMED: 4003,
  /** No hello in time. */
  HANDSHAKE_TIMEOUT: 4004,
  /** The head is shutting down. */
  SHUTDOWN: 4005,
  /** Too many connections are waiting for their hello; try again later. */
  BUSY: 4007,
  /** A frame passed its checks but its handler failed on it (a bug: this connection ends, nothing else). */
  INTERNAL: 1011,
  /** A node hello with the id of a node that is alive on another connection. */
  DUPLICATE_NODE: 4006,
} as const;

/** Control frames stay small; object data moves in chunks well under this. */
export const MAX_FRAME_BYTES = 64 * 2 ** 20;

/** How long a new connection has to say hello. */
export const HANDSHAKE_MS = 5000;

/** Bytes a connection may send before its hello is accepted (a hello needs a few hundred). */
export const PRE_HELLO_BYTES = 64 * 2 ** 10;

/** Connections that may wait for their hello at once, per server; more are refused with CLOSE.BUSY. */
export const MAX_PENDING_CONNECTIONS = 64;

export type Role = 'node' | 'driver' | 'cli' | 'peer';

export interface Hello {
  t: 'hello';
  v: number;
  role: Role;
  token: string;
  /** For nodes: what the node offers and where it is. */
  node?: NodeInfo;
  /** For drivers: the id of its object store and its object server, which nodes may pull from. */
  objects?: { storeId: string; address: string };
  /** A node or driver coming back after its head connection ended: what it still has (see head-link.ts). */
  resume?: Resume;
}

/**
 * What a peer that lost its head tells the head it reconnects to, so a head
 * started again from its tables can take up where the old one was. A node
 * says what work it runs and which actors it hosts; a driver, which of its
 * results it holds on nodes (the head frees them when it lets them go).
 */
export interface Resume {
  /** The `resumeKey` the head welcomed this peer with. */
  key?: string;
  /** Node: ids of the tasks, actor creations and calls it runs now. */
  running?: string[];
  /** Node: the actors it hosts. */
  actors?: string[];
  /** Driver: objects it holds on nodes, by node id. */
  holds?: Record<string, string[]>;
  /** Driver: the worker leases it holds (lease-protocol.ts), which a restarted head holds again. */
  leases?: LeaseGrant[];
}

/** A peer the head took back has sent again all the work it had in flight. */
export interface ResumeDone { t: 'resume-done' }

/** The most ids one resume may list. */
export const MAX_RESUME_IDS = 1_000_000;

export interface NodeInfo {
  nodeId: string;
  /** A label for humans: host name and process id. */
  name: string;
  pid: number;
  resources: Record<string, number>;
  /** The node's object server, where other nodes and drivers pull its objects. */
  objectAddress: string;
  /** Its GPUs as tsray:accel drives them (absent: none). */
  devices?: AcceleratorDevice[];
  /** The secret the head signs this node's worker leases with (lease-protocol.ts); absent: it takes no leased work. */
  leaseKey?: string;
}

/**
 * `resumed`: the head knew the peer that said `resume` and takes it back as it was (else it is a new peer).
 * `resumeKey`: to a node or driver that joins, the secret it says `resume` with (no other peer can come back as it).
 */
export interface Welcome { t: 'welcome'; v: number; clusterId: string; headPid: number; resumed?: boolean; resumeKey?: string }

/** A node's periodic report: alive, and what it has free. */
export interface Heartbeat {
  t: 'heartbeat';
  available: Record<string, number>;
  /** Device memory held by tasks now, in the order of `NodeInfo.devices`. */
  deviceUsed?: number[];
}

/** Asks the head for the cluster tables (`tsray status`). */
export interface StatusRequest { t: 'status'; id: number }

export interface NodeStatus {
  nodeId: string;
  name: string;
  pid: number;
  /** Its object server. */
  objectAddress: string;
  state: 'ALIVE' | 'DEAD';
  resources: Record<string, number>;
  available: Record<string, number>;
  /** Milliseconds since the last heartbeat. */
  lastSeenMs: number;
  /** Why it is dead, when it is; for a live node a restarted head restored, that it is not back yet. */
  cause?: string;
  devices?: AcceleratorDevice[];
}

export interface StatusReply {
  t: 'status-reply';
  id: number;
  clusterId: string;
  nodes: NodeStatus[];
  drivers: number;
  /** Resource requests that no live node can satisfy now. */
  demands: { shape: Record<string, number>; count: number }[];
  /** Worker leases drivers hold now, and the tasks and actor calls the head itself routed since it started (leased tasks and calls on actor routes pass it by). */
  leases?: number;
  routedTasks?: number;
  routedCalls?: number;
}

export interface ErrorFrame { t: 'error'; code: string; message: string; id?: number }

/** The nodes of a status reply as `tsray list nodes` shows them. */
export function nodeRowsOf(s: StatusReply): NodeRow[] {
  return s.nodes.map((n) => {
    let address = n.objectAddress;
    try { address = new URL(n.objectAddress).hostname; } catch { /* shown as given */ }
    return { nodeId: n.nodeId, address, state: n.state, pid: n.pid, resources: n.resources, available: n.available, ...(n.cause ? { cause: n.cause } : {}) };
  });
}

/** CLI -> head, and head -> each node and driver: `tsray memory` reports (`store/report.ts`'s `NodeMemory`). */
export interface MemoryRequest { t: 'memory'; id: number }
/** The reports; from the head, also who did not answer in time. */
export interface MemoryReply { t: 'memory-reply'; id: number; nodes: NodeMemory[]; missing?: string[] }
/** CLI or driver -> head, and head -> each node: task and actor state events (`tsray list`, core/state-views.ts). */
export interface StateRequest { t: 'state'; id: number }
export interface StateReply { t: 'state-reply'; id: number; processes: ProcessState[]; missing?: string[] }
/** CLI or driver -> head, and head -> each node: recent guest log lines (`tsray logs`, node/log-ring.ts). */
/** CLI or driver -> head: `tsray job` (head/jobs.ts). */
export interface JobRequest {
  t: 'job';
  id: number;
  op: 'submit' | 'status' | 'logs' | 'stop' | 'list';
  jobId?: string;
  /** submit: the command and its arguments, and the working directory's files by relative path. */
  entrypoint?: string[];
  files?: Record<string, Uint8Array>;
  /** logs: the byte offset to read from. */
  from?: number;
}
/** The answer: a refusal carries `code` and `error`. */
export interface JobReply {
  t: 'job-reply';
  id: number;
  ok: boolean;
  job?: JobInfo;
  jobs?: JobInfo[];
  logs?: { text: string; next: number; done: boolean };
  stopped?: boolean;
  code?: string;
  error?: string;
}
export interface LogsRequest { t: 'logs'; id: number }
export interface LogsReply { t: 'logs-reply'; id: number; nodes: NodeLogs[]; missing?: string[] }

/** A task as it travels: driver -> head (`submit`) -> node (`run`). Arguments are values (refs resolved by the driver). */
export interface TaskFrame {
  taskId: string;
  /** Attempts before this one (set by the head when it retries a task from a dead node). */
  attempt?: number;
  /** Content hash of the component; nodes fetch the bytes once (`need-component`). */
  hash: string;
  name: string;
  fn: string;
  args: unknown[];
  /** The task's options, as the driver normalized them. */
  opts: NormalizedOptions;
  /** The driver's guest log level: lines below it are dropped on the node (absent: `'info'`). */
  log?: LogFilter;
  /** Refs passed at `object-ref` positions of `args`, by the sender's id (see wire-refs.ts). */
  refs?: WireRef[];
  /** Functions run after `fn` in the same task, on its value (a fused task: `TaskSpec.then`). */
  then?: WireChainStep[];
  /** How `fn` takes its block (`TaskSpec.each`). */
  each?: Each;
  /** A file read task's part (`TaskSpec.read`), read on the node under its data roots. */
  read?: FilePart;
}

/** One function of a fused task as it travels: its component by hash, plain arguments after the value. */
export interface WireChainStep {
  hash: string;
  name: string;
  fn: string;
  args: unknown[];
  each?: Each;
}

/** The most functions one fused task may chain (a bound on what a peer's frame may ask a node to load). */
export const MAX_CHAIN = 64;

/** Whether `e` is a well-formed `Each`. */
export function isEach(e: unknown): e is Each {
  if (e === null || typeof e !== 'object') return false;
  const o = e as Record<string, unknown>;
  return Object.keys(o).length === 1 && (Number.isSafeInteger(o.batch) && (o.batch as number) >= 1 || o.rows === 'map' || o.rows === 'flat');
}

/** Whether a task frame's chain fields (and file part) are well-formed (absent is). */
export function chainWellFormed(task: Pick<TaskFrame, 'then' | 'each' | 'read'>): boolean {
  if (task.each !== undefined && !isEach(task.each)) return false;
  if (task.read !== undefined && !isFilePart(task.read)) return false;
  if (task.then === undefined) return true;
  return Array.isArray(task.then) && task.then.length <= MAX_CHAIN && task.then.every((s) => s !== null && typeof s === 'object'
    && typeof s.hash === 'string' && typeof s.name === 'string' && typeof s.fn === 'string' && Array.isArray(s.args) && (s.each === undefined || isEach(s.each)));
}

/** An error as it travels; the driver rebuilds the typed error. */
export type { WireError };

/** A ref crossing nodes as a value (see wire-refs.ts): where its block is, its value, or why it failed; `id` is the sender's. */
export type WireRef = ({ at: RemoteLocation } | { value: unknown } | { error: WireError }) & { id?: string };

/**
 * What a task returned: a value (with the refs its marks stand for, see
 * wire-refs.ts), or a sealed object left on the node that made it.
 */
export type ReturnValue = { value: unknown; refs?: WireRef[] } | { object: { nodeId: string; address: string; objectId: string; size: number } };

/** Puller -> object server: send me this sealed block (`key`: the one in its location, which proves it was passed to the puller). */
export interface PullFrame {
  t: 'pull'; id: number; objectId: string; key?: string;
  /** Served here whatever the load: a holder it was sent to failed. */
  direct?: boolean;
  /** The puller keeps the object a while to send it on (it may be sent to a holder, fanout.ts). */
  share?: boolean;
}
/** Object server -> puller: its size (data frames follow), or why not. */
export interface PullReply {
  t: 'pull-reply'; id: number; size?: number; error?: string;
  /** Pull it from this node instead, which holds a copy (fanout.ts). */
  redirect?: { nodeId: string; address: string; objectId: string; size: number; key?: string };
}
/** Puller -> object server it was given the object by (`key` proves it): a copy is at `at` now, pulled `via` a holder or from here. */
export interface HoldingFrame { t: 'holding'; objectId: string; key?: string; at: { nodeId: string; address: string; objectId: string; size: number; key?: string }; via?: string }
/** Puller -> that server: its copy at `address` is gone. */
export interface DroppedFrame { t: 'dropped'; objectId: string; key?: string; address: string }
/** Driver -> head -> node: create actor `actorId` (its creation's result carries `createId`). */
export interface ActorCreateFrame {
  t: 'actor-create';
  createId: string;
  actor: {
    actorId: string;
    hash: string;
    resource: string;
    args: unknown[];
    /** The actor options as the driver gave them (without the name), for the node's own checks. */
    options: Record<string, unknown>;
    request: Record<string, number>;
    shape: string;
    maxRestarts: number;
    /** How many times a call in flight when its node died is sent to the restarted actor (absent: 0). */
    maxTaskRetries?: number;
    strategy?: SchedulingStrategy;
    /** The driver's guest log level, for the actor's whole life (absent: `'info'`). */
    log?: LogFilter;
    /** Its name, unique in the cluster: any driver finds it (`tsray.findActor`). The node never sees it. */
    name?: string;
  };
}

/** Driver -> head: the actor named `name`, anywhere in the cluster. Finding it grants this driver its calls. */
export interface ActorLookupFrame { t: 'actor-lookup'; id: number; name: string }
/** Head -> driver: the actor's id, component, resource and its creator's maxTaskRetries (absent: 0); or `error` when there is none by that name. */
export interface ActorLookupReply { t: 'actor-lookup-reply'; id: number; actorId?: string; hash?: string; resource?: string; maxTaskRetries?: number; error?: string }
/** Driver -> head -> node, or driver -> node on an actor route (`lease`, lease-protocol.ts): a method call, sent in the order the driver made it (`attempt`: tries it lost on a route already). */
export interface ActorCallFrame { t: 'actor-call'; actorId: string; callId: string; method: string; args: unknown[]; numReturns: number; lease?: string; attempt?: number }
/** Driver -> head -> node. */
export interface ActorKillFrame { t: 'actor-kill'; actorId: string; noRestart: boolean }

/** A node tells the head that an actor it hosts restarted (a trap, a kill with restart): one restart of its budget is spent. */
export interface ActorRestartedFrame { t: 'actor-restarted'; actorId: string }

/** Several frames sent in one turn of the event loop, in order. */
export interface BatchFrame { t: 'batch'; frames: Frame[] }

/** Object server -> puller: the next binary message is `length` raw bytes of pull `id` at `offset`. */
export interface ChunkFrame { t: 'chunk'; id: number; offset: number; length: number }
/** Driver -> head -> owner node: these objects have no holder left there. */
export interface FreeFrame { t: 'free'; nodeId: string; objectIds: string[] }
/** Head -> drivers: a node died; its objects are gone. */
export interface NodeDeadFrame { t: 'node-dead'; nodeId: string; cause: string }
/** A node's object server, as the head vouches for it. */
export interface Member { nodeId: string; address: string }
/** Head -> node or driver, after its welcome: the nodes alive now; then `node-joined` and `node-dead` as they come and go (members.ts). */
export interface MembersFrame { t: 'members'; nodes: Member[] }
export interface NodeJoinedFrame { t: 'node-joined'; nodeId: string; address: string }

/** Driver -> head: a component's bytes, sent once before its first task. */
export interface ComponentFrame { t: 'component'; hash: string; bytes: Uint8Array }
/** Driver -> head. */
export interface SubmitFrame { t: 'submit'; task: TaskFrame }
/** Head -> node; or driver -> node on a worker lease it holds there (`lease`, lease-protocol.ts). */
export interface RunFrame { t: 'run'; task: TaskFrame; lease?: string }
/** Driver -> head -> node. */
export interface CancelFrame { t: 'cancel'; taskId: string; force: boolean; /** Also the tasks it submitted (absent: true, as Ray's default). */ recursive?: boolean }
/** Node -> head -> submitter: the `index`-th value a streaming task emitted (`numReturns: 'streaming'`), in order, before its result. */
export interface EmitFrame { t: 'emit'; taskId: string; index: number; value: ReturnValue }
/** Node -> head -> driver: how a task ended. */
/** `ms`: how long a task that succeeded ran on its worker thread (tsray.data's remote cpu time). */
export interface ResultFrame { t: 'result'; taskId: string; ok: boolean; returns?: ReturnValue[]; error?: WireError; ms?: number }
/** Node -> head: send me this component. */
export interface NeedComponent { t: 'need-component'; id: number; hash: string }
export interface ComponentReply { t: 'component-reply'; id: number; hash: string; bytes?: Uint8Array }

/**
 * Node -> head -> driver: a guest log line of work the driver submitted,
 * unescaped (the driver escapes it as it prints). `route` is the task's id
 * or the actor's; the head adds the node and its pid from its own table.
 */
export interface LogFrame { t: 'log'; route: string; level: LogLevel; who: string; text: string; node?: string; pid?: number }

export type Frame =
  | Hello | Welcome | Heartbeat | StatusRequest | StatusReply | ErrorFrame | MemoryRequest | MemoryReply | StateRequest | StateReply | LogsRequest | LogsReply | JobRequest | JobReply
  | ComponentFrame | SubmitFrame | RunFrame | CancelFrame | ResultFrame | EmitFrame | NeedComponent | ComponentReply
  | PullFrame | PullReply | ChunkFrame | FreeFrame | NodeDeadFrame | MembersFrame | NodeJoinedFrame | ActorCreateFrame | ActorCallFrame | ActorKillFrame | ActorRestartedFrame | LogFrame | BatchFrame | ResumeDone | ActorLookupFrame | ActorLookupReply | HoldingFrame | DroppedFrame
  | LeaseRequestFrame | LeaseReplyFrame | LeaseReturnFrame | LeaseFrame | OwnerGoneFrame | ActorRouteFrame;

export class MalformedFrameError extends Error {}

export function encodeFrame(f: Frame): Uint8Array {
  return encode(f);
}

/**
 * Decodes one frame; throws `MalformedFrameError` for anything but a CBOR map
 * with a string `t`, and for CBOR that `cborProblem` refuses (self-reference,
 * shared or packed values, excessive depth).
 */
export function decodeFrame(data: Uint8Array): Frame {
  const problem = cborProblem(data);
  if (problem) throw new MalformedFrameError(problem);
  let v: unknown;
  try {
    v = decode(data);
  } catch (e) {
    throw new MalformedFrameError(`not CBOR: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as { t?: unknown }).t !== 'string') {
    throw new MalformedFrameError('a frame must be a CBOR map with a string field t');
  }
  return v as Frame;
}
