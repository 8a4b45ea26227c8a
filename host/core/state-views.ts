/**
 * What `tsray list`, `summary`, `get` and `timeline` show, derived from the
 * state events each process kept (state-events.ts): one row per task or
 * actor in its latest state, per-function summaries, `key=value` filters,
 * and a Chrome trace (one row per worker thread, loadable in Perfetto);
 * objects and worker threads come from the processes' memory reports.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ActorEvent, ActorState, StateEvent, TaskEvent, TaskState } from './state-events.js';
import type { NodeMemory } from '../../store/report.js';

/** One process's events, as it reports them (a node, an embedded node or a driver). */
export interface ProcessState {
  nodeId: string;
  /** The address other machines reach it at. */
  address: string;
  pid: number;
  events: StateEvent[];
  /** Events it dropped for room. */
  dropped: number;
}

export interface TaskRow {
  taskId: string;
  name: string;
  state: TaskState;
  nodeId: string;
  attempt: number;
  workerId?: number;
  actorId?: string;
  /** When it was submitted, started running and ended (ms since the epoch), as far as its events say. */
  submittedAt?: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  errorCode?: string;
  resources?: Record<string, number>;
}

export interface ActorRow {
  actorId: string;
  className: string;
  state: ActorState;
  nodeId: string;
  name?: string;
  workerId?: number;
  restarts: number;
  death?: string;
}

/** Every task in its latest state (a retried task shows its last attempt). */
export function taskRows(processes: readonly ProcessState[]): TaskRow[] {
  const rows = new Map<string, TaskRow>();
  for (const p of processes) {
    for (const e of p.events) {
      if (e.kind !== 'task') continue;
      let r = rows.get(e.taskId);
      if (!r) rows.set(e.taskId, (r = { taskId: e.taskId, name: e.name, state: e.state, nodeId: p.nodeId, attempt: e.attempt }));
      apply(r, e, p.nodeId);
    }
  }
  return [...rows.values()];
}

function apply(r: TaskRow, e: TaskEvent, nodeId: string): void {
  if (e.attempt < r.attempt) return;
  r.attempt = e.attempt;
  if (e.state === 'PENDING_ARGS_AVAIL') r.submittedAt ??= e.time;
  if (e.state === 'RUNNING') { r.startedAt = e.time; r.nodeId = nodeId; r.endedAt = undefined; }
  if (e.state === 'FINISHED' || e.state === 'FAILED') r.endedAt = e.time;
  // A later state wins; an end is never undone by a late RUNNING of the same attempt.
  if (!(isEnd(r.state) && !isEnd(e.state) && e.attempt === r.attempt && r.endedAt !== undefined && e.time <= r.endedAt)) r.state = e.state;
  if (e.workerId !== undefined) r.workerId = e.workerId;
  if (e.actorId !== undefined) r.actorId = e.actorId;
  if (e.resources) r.resources = e.resources;
  if (e.error !== undefined) { r.error = e.error; r.errorCode = e.errorCode; }
}

const isEnd = (s: TaskState): boolean => s === 'FINISHED' || s === 'FAILED';

/** Every actor in its latest state. */
export function actorRows(processes: readonly ProcessState[]): ActorRow[] {
  const rows = new Map<string, { row: ActorRow; time: number }>();
  for (const p of processes) {
    for (const e of p.events) {
      if (e.kind !== 'actor') continue;
      const had = rows.get(e.actorId);
      if (had && had.time > e.time) continue;
      rows.set(e.actorId, { row: actorRow(e, p.nodeId, had?.row), time: e.time });
    }
  }
  return [...rows.values()].map((x) => x.row);
}

function actorRow(e: ActorEvent, nodeId: string, had: ActorRow | undefined): ActorRow {
  return {
    actorId: e.actorId, className: e.className, state: e.state, nodeId, restarts: e.restarts,
    ...(e.name ?? had?.name ? { name: e.name ?? had!.name! } : {}),
    ...(e.workerId ?? had?.workerId) !== undefined ? { workerId: (e.workerId ?? had!.workerId)! } : {},
    ...(e.death !== undefined ? { death: e.death } : {}),
  };
}

/** A `--filter`: `key=value` or `key!=value` on a row's field. */
export interface Filter { key: string; op: '=' | '!='; value: string }

export function parseFilter(s: string): Filter {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*(!=|=)\s*(.*)$/.exec(s);
  if (!m) throw new InvalidArgumentError(`--filter takes key=value or key!=value (for example state=RUNNING), got '${s}'`);
  return { key: m[1]!, op: m[2] as '=' | '!=', value: m[3]! };
}

/** The rows that pass every filter (values compared as text, case-insensitive, as Ray's). */
export function filterRows<R extends object>(rows: readonly R[], filters: readonly Filter[]): R[] {
  return rows.filter((r) => filters.every((f) => {
    const v = (r as Record<string, unknown>)[f.key];
    const same = v !== undefined && String(v).toLowerCase() === f.value.toLowerCase();
    return f.op === '=' ? same : !same;
  }));
}

/** Rows counted by `key`, each group's rows counted by state: the largest group first. */
function countBy<R extends { state: S }, S extends string>(rows: readonly R[], key: (r: R) => string): { key: string; total: number; states: Partial<Record<S, number>> }[] {
  const by = new Map<string, { key: string; total: number; states: Partial<Record<S, number>> }>();
  for (const r of rows) {
    const k = key(r);
    let s = by.get(k);
    if (!s) by.set(k, (s = { key: k, total: 0, states: {} }));
    s.total++;
    s.states[r.state] = (s.states[r.state] ?? 0) + 1;
  }
  return [...by.values()].sort((a, b) => b.total - a.total || a.key.localeCompare(b.key));
}

/** Per function: how many of its tasks are in each state (Ray's `summary tasks`). */
export function summarizeTasks(rows: readonly TaskRow[]): { name: string; total: number; states: Partial<Record<TaskState, number>> }[] {
  return countBy<TaskRow, TaskState>(rows, (r) => r.name).map(({ key, ...c }) => ({ name: key, ...c }));
}

/** Per class: how many of its actors are in each state (Ray's `summary actors`). */
export function summarizeActors(rows: readonly ActorRow[]): { className: string; total: number; states: Partial<Record<ActorState, number>> }[] {
  return countBy<ActorRow, ActorState>(rows, (r) => r.className).map(({ key, ...c }) => ({ className: key, ...c }));
}

/** A Chrome trace event (the "X" complete-event and "M" metadata forms). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/**
 * The tasks that ran as a Chrome trace: one process row per node, one
 * thread row per worker, a slice per task from start to end (microseconds).
 */
export function chromeTrace(processes: readonly ProcessState[]): TraceEvent[] {
  const out: TraceEvent[] = [];
  const rows = taskRows(processes).filter((r) => r.startedAt !== undefined && r.endedAt !== undefined);
  const pidOf = new Map<string, number>();
  processes.forEach((p, i) => {
    pidOf.set(p.nodeId, i + 1);
    out.push({ name: 'process_name', ph: 'M', pid: i + 1, tid: 0, args: { name: `node ${p.nodeId} (${p.address}, pid ${p.pid})` } });
  });
  const threads = new Set<string>();
  for (const r of rows) {
    const pid = pidOf.get(r.nodeId) ?? 0;
    const tid = r.workerId ?? 0;
    const key = `${pid}:${tid}`;
    if (!threads.has(key)) {
      threads.add(key);
      out.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: `worker ${tid}` } });
    }
    out.push({
      name: r.name, ph: 'X', cat: r.actorId ? 'actor_task' : 'task', pid, tid,
      ts: Math.round(r.startedAt! * 1000), dur: Math.max(1, Math.round((r.endedAt! - r.startedAt!) * 1000)),
      args: { taskId: r.taskId, state: r.state, attempt: r.attempt, ...(r.error ? { error: r.error } : {}) },
    });
  }
  return out;
}

const TASK_STATES = new Set(['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'RUNNING', 'FINISHED', 'FAILED']);
const ACTOR_STATES = new Set(['PENDING_CREATION', 'ALIVE', 'RESTARTING', 'DEAD']);
const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function isEvent(v: unknown): v is StateEvent {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  if (!num(e.time)) return false;
  if (e.kind === 'task') return str(e.taskId) && str(e.name) && TASK_STATES.has(e.state as string) && num(e.attempt);
  if (e.kind === 'actor') return str(e.actorId) && str(e.className) && ACTOR_STATES.has(e.state as string) && num(e.restarts);
  return false;
}

/**
 * The well-formed part of process reports another process sent: reports
 * without a node id are dropped, and so are malformed events, so a lying
 * peer cannot make the views throw.
 */
export function checkedProcesses(v: unknown): ProcessState[] {
  if (!Array.isArray(v)) return [];
  const out: ProcessState[] = [];
  for (const p of v) {
    if (p === null || typeof p !== 'object') continue;
    const r = p as Record<string, unknown>;
    if (!str(r.nodeId) || !Array.isArray(r.events)) continue;
    out.push({ nodeId: r.nodeId, address: str(r.address) ? r.address : '?', pid: num(r.pid) ? r.pid : 0, events: r.events.filter(isEvent), dropped: num(r.dropped) ? r.dropped : 0 });
  }
  return out;
}

/** One object in one process's store, with every reference to it there (from `tsray memory` reports). */
export interface ObjectRow {
  objectId: string;
  nodeId: string;
  address: string;
  /** Bytes; undefined while pending. */
  size?: number;
  /** Where its bytes are in that process: inline, memory, disk, memory+disk, remote, none. */
  where?: string;
  /** Its references there, e.g. `LOCAL_REFERENCE x2`. */
  references: string[];
  callSite: string;
}

/** One thread of a tsray process: a driver's or node's main thread, or a worker. */
export interface WorkerRow {
  nodeId: string;
  address: string;
  pid: number;
  threadId?: number;
  type: string;
  heapBytes: number;
  guestBytes: number;
}

/** Every object of the reports, once per process that holds it. */
export function objectRows(reports: readonly NodeMemory[]): ObjectRow[] {
  const out: ObjectRow[] = [];
  for (const n of reports) {
    const by = new Map<string, ObjectRow>();
    for (const r of n.references) {
      let o = by.get(r.objectRef);
      if (!o) {
        by.set(r.objectRef, (o = { objectId: r.objectRef, nodeId: n.nodeId, address: n.address, references: [], callSite: r.callSite, ...(r.size !== undefined ? { size: r.size } : {}), ...(r.where ? { where: r.where } : {}) }));
        out.push(o);
      }
      o.references.push(r.count > 1 ? `${r.referenceType} x${r.count}` : r.referenceType);
    }
  }
  return out;
}

/** Every thread of the reports. */
export function workerRows(reports: readonly NodeMemory[]): WorkerRow[] {
  return reports.flatMap((n) => n.threads.map((t) => ({
    nodeId: n.nodeId, address: n.address, pid: t.pid, type: t.type, heapBytes: t.heapBytes, guestBytes: t.guestBytes, ...(t.threadId !== undefined ? { threadId: t.threadId } : {}),
  })));
}

/** Per place an object's bytes are: how many objects and bytes (Ray's `summary objects`). */
export function summarizeObjects(rows: readonly ObjectRow[]): { where: string; objects: number; bytes: number }[] {
  const by = new Map<string, { where: string; objects: number; bytes: number }>();
  for (const r of rows) {
    const k = r.where ?? 'unknown';
    let s = by.get(k);
    if (!s) by.set(k, (s = { where: k, objects: 0, bytes: 0 }));
    s.objects++;
    s.bytes += r.size ?? 0;
  }
  return [...by.values()].sort((a, b) => b.bytes - a.bytes);
}

/** A node of the cluster (or the embedded node), as `tsray list nodes` shows it. */
export interface NodeRow {
  nodeId: string;
  /** The address other machines reach it at. */
  address: string;
  state: 'ALIVE' | 'DEAD';
  pid: number;
  resources?: Record<string, number>;
  available?: Record<string, number>;
  /** Why it is dead. */
  cause?: string;
}

/**
 * Rows with the job that made each (`jobId`), where the id `idOf` gives
 * starts with one of `jobs`: a job's driver draws its ids with its job id
 * first (store/object-ref.ts), as Ray's ids carry their job.
 */
export function withJobs<R extends object>(rows: readonly R[], idOf: (r: R) => string, jobs: ReadonlySet<string>): (R & { jobId?: string })[] {
  if (jobs.size === 0) return rows as R[];
  return rows.map((r) => {
    const p = idOf(r).slice(0, 8);
    return jobs.has(p) ? { ...r, jobId: p } : r;
  });
}
