/**
 * The shape of every frame type, checked on arrival before any handler sees
 * the frame: a frame whose fields have the wrong types closes its
 * connection (CLOSE.MALFORMED) instead of reaching code that trusts them.
 * Semantic checks (who may send what, known ids, options by the public
 * API's rules) stay with the handlers. Frames of a type not listed here
 * reach the handler, which refuses what it does not expect.
 */
import { MAX_RESUME_IDS, type Frame, type NodeInfo, type Resume } from './protocol.js';
import { MAX_DEVICES_PER_NODE } from '../accel/accelerator-device.js';
import { MAX_WIRE_REFS, isWireRef } from './wire-refs.js';
import { LOG_TEXT_CHARS, LOG_WHO_CHARS, isLogFilter, isLogLevel } from '../engine/guest-log.js';

type Check = (v: unknown) => boolean;

const str: Check = (v) => typeof v === 'string';
/** A string of at most `max` characters. */
const text = (max: number): Check => (v) => typeof v === 'string' && v.length <= max;
const bool: Check = (v) => typeof v === 'boolean';
const count: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const num: Check = (v) => typeof v === 'number' && !Number.isNaN(v);
const duration: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const bytes: Check = (v) => v instanceof Uint8Array;
const record: Check = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
const list = (item?: Check): Check => (v) => Array.isArray(v) && (!item || v.every(item));
/** Resource amounts: names to finite numbers >= 0. */
const amounts: Check = (v) => record(v) && Object.values(v as object).every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
const optional = (c: Check): Check => (v) => v === undefined || c(v);
/** A list of at most `max` items that pass `item`. */
const bounded = (max: number, item: Check): Check => (v) => Array.isArray(v) && v.length <= max && v.every(item);

/** A map of field checks: the value must be a record whose fields pass them. */
const shape = (fields: Record<string, Check>): Check => (v) =>
  record(v) && Object.entries(fields).every(([k, c]) => c((v as Record<string, unknown>)[k]));

const location = shape({ nodeId: str, address: str, objectId: str, size: count });
/** A copy's location as a holder hands it out (fanout.ts): bounded, with its key. */
const holder = shape({ nodeId: text(64), address: text(512), objectId: text(128), size: count, key: optional(text(128)) });
const wireError = shape({ name: str, code: str, message: str, fields: optional(record) });
const wireRefs = optional(bounded(MAX_WIRE_REFS, isWireRef));
const returnValue: Check = (v) => record(v) && ('object' in (v as object) ? location((v as { object: unknown }).object) : 'value' in (v as object) && wireRefs((v as { refs?: unknown }).refs));
const task = shape({ taskId: str, attempt: optional(count), hash: str, name: str, fn: str, args: list(), opts: record, log: optional(isLogFilter), refs: wireRefs });
const device = shape({
  nodeId: text(64), id: count, backend: (v) => v === 'webgpu' || v === 'cpu', vendor: text(256), architecture: text(256), description: text(256),
  shaderF16: bool, memoryBytes: count, usedBytes: count,
});
const nodeInfo = shape({ nodeId: str, name: str, pid: count, resources: amounts, objectAddress: str, devices: optional(bounded(MAX_DEVICES_PER_NODE, device)), leaseKey: optional(text(128)) });
const lease = shape({ leaseId: text(64), nodeId: text(64), address: text(512), owner: text(128), ownerAddress: text(512), shape: text(4096), request: amounts, actorId: optional(text(64)), ticket: text(64), pid: optional(count) });

const member = shape({ nodeId: text(64), address: text(512) });
/** The most nodes one `members` frame lists. */
const MAX_MEMBERS = 100_000;

/** Whether a node's hello describes it fully (the hello itself is checked by the handshake). */
export const isNodeInfo = (v: unknown): v is NodeInfo => nodeInfo(v);

const ids = bounded(MAX_RESUME_IDS, str);
/** The most leases one resume may list. */
const MAX_RESUME_LEASES = 100_000;
const resume = shape({ key: optional(text(128)), running: optional(ids), actors: optional(ids), holds: optional((v) => record(v) && Object.values(v as object).every(ids)), leases: optional(bounded(MAX_RESUME_LEASES, lease)) });

/** Whether a hello's `resume` is well-formed. */
export const isResume = (v: unknown): v is Resume => resume(v);

const FRAMES: Record<string, Check> = {
  welcome: shape({ v: num, clusterId: str, headPid: count, resumed: optional(bool), resumeKey: optional(text(128)) }),
  heartbeat: shape({ available: amounts, deviceUsed: optional(bounded(MAX_DEVICES_PER_NODE, count)) }),
  status: shape({ id: count }),
  memory: shape({ id: count }),
  job: shape({ id: count, op: text(16), jobId: optional(text(64)), entrypoint: optional(bounded(1000, text(65536))), files: optional(record), from: optional(count) }),
  'memory-reply': shape({ id: count, nodes: list(record), missing: optional(list(str)) }),
  state: shape({ id: count }),
  'state-reply': shape({ id: count, processes: list(record), missing: optional(list(str)) }),
  logs: shape({ id: count }),
  'logs-reply': shape({ id: count, nodes: list(record), missing: optional(list(str)) }),
  'status-reply': shape({ id: count, clusterId: str, nodes: list(record), drivers: count, demands: list(record), leases: optional(count), routedTasks: optional(count), routedCalls: optional(count) }),
  error: shape({ code: str, message: str, id: optional(count) }),
  component: shape({ hash: str, bytes }),
  submit: shape({ task }),
  run: shape({ task, lease: optional(text(64)) }),
  'lease-request': shape({ id: count, request: amounts, near: optional(text(64)) }),
  'lease-reply': shape({ id: count, lease: optional(lease), busy: optional(str) }),
  'lease-return': shape({ leaseId: text(64) }),
  'actor-route': shape({ id: count, actorId: text(64) }),
  lease: shape({ lease }),
  'owner-gone': shape({ owner: text(128) }),
  cancel: shape({ taskId: str, force: optional(bool), recursive: optional(bool) }),
  result: shape({ taskId: str, ok: bool, returns: optional(list(returnValue)), error: optional(wireError), ms: optional(duration) }),
  emit: shape({ taskId: str, index: count, value: returnValue }),
  'need-component': shape({ id: count, hash: str }),
  'component-reply': shape({ id: count, hash: str, bytes: optional(bytes) }),
  pull: shape({ id: count, objectId: str, key: optional(str), direct: optional(bool), share: optional(bool) }),
  'pull-reply': shape({ id: count, size: optional(count), error: optional(str), redirect: optional(holder) }),
  holding: shape({ objectId: str, key: optional(str), at: holder, via: optional(text(512)) }),
  dropped: shape({ objectId: str, key: optional(str), address: text(512) }),
  chunk: shape({ id: count, offset: count, length: count }),
  free: shape({ nodeId: str, objectIds: list(str) }),
  'node-dead': shape({ nodeId: str, cause: str }),
  members: shape({ nodes: bounded(MAX_MEMBERS, member) }),
  'node-joined': member,
  'actor-create': shape({
    createId: str,
    actor: shape({ actorId: str, hash: str, resource: str, args: list(), options: record, request: amounts, shape: str, maxRestarts: num, maxTaskRetries: optional(count), log: optional(isLogFilter), name: optional(text(256)) }),
  }),
  'actor-lookup': shape({ id: count, name: text(256) }),
  'actor-lookup-reply': shape({ id: count, actorId: optional(str), hash: optional(str), resource: optional(str), maxTaskRetries: optional(count), error: optional(str) }),
  'actor-call': shape({ actorId: str, callId: str, method: str, args: list(), numReturns: count, lease: optional(text(64)), attempt: optional(count) }),
  'actor-kill': shape({ actorId: str, noRestart: optional(bool) }),
  'actor-restarted': shape({ actorId: str }),
  // Bounded here, so a node cannot send the head (or through it a driver) a line longer than a worker ever cuts one to.
  log: shape({ route: text(64), level: isLogLevel, who: text(LOG_WHO_CHARS), text: text(LOG_TEXT_CHARS), node: optional(text(64)), pid: optional(count) }),
};

/** Why `f` does not have the shape of its type, or undefined when it does (or its type is not listed). */
export function frameProblem(f: Frame): string | undefined {
  const check = Object.hasOwn(FRAMES, f.t) ? FRAMES[f.t] : undefined;
  return check && !check(f) ? `a malformed '${f.t}' frame` : undefined;
}
