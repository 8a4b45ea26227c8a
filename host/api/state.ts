/**
 * The state API, as Ray's `ray.util.state`: the tasks and actors of the
 * runtime (the embedded node, or every node of the cluster a driver is
 * connected to) in their latest state, summaries per function and class,
 * and a Chrome trace of what ran where. `tsray list`, `summary`, `get` and
 * `timeline` print the same from the command line.
 */
import { InvalidArgumentError } from '../errors.js';
import { requireNode } from './current.js';
import {
  actorRows, checkedProcesses, chromeTrace, filterRows, objectRows, parseFilter, summarizeActors as byClass, summarizeObjects as byPlace,
  summarizeTasks as byFunction, taskRows, workerRows,
  type ActorRow, type Filter, type NodeRow, type ObjectRow, type ProcessState, type TaskRow, type TraceEvent, type WorkerRow,
} from '../core/state-views.js';
import { isNodeMemory, type NodeMemory } from '../../store/report.js';

export type { ActorRow, TaskRow, TraceEvent, Filter, NodeRow, ObjectRow, WorkerRow };

/** Rows shown when no `limit` is given (Ray's default). */
export const DEFAULT_LIMIT = 100;

export interface ListOptions {
  /** `key=value` or `key!=value` on a row's fields (for example `state=RUNNING`, `name=fib`); all must hold. */
  filters?: (string | Filter)[];
  /** At most this many rows (default 100). */
  limit?: number;
}

async function processes(): Promise<ProcessState[]> {
  const node = requireNode();
  if (!node.stateReports) return [];
  return checkedProcesses((await node.stateReports()).processes);
}

async function reports(): Promise<NodeMemory[]> {
  const node = requireNode();
  if (!node.memoryReports) return [];
  return (await node.memoryReports()).reports.filter(isNodeMemory);
}

/** Applies `o`'s filters and limit to `rows`. */
export function select<R extends object>(rows: R[], o: ListOptions = {}): R[] {
  const limit = o.limit ?? DEFAULT_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError(`limit must be a whole number >= 0, got ${limit}`);
  const filters = (o.filters ?? []).map((f) => (typeof f === 'string' ? parseFilter(f) : f));
  return filterRows(rows, filters).slice(0, limit);
}

/** Tasks (and actor calls) in their latest state, oldest first. */
export async function listTasks(o: ListOptions = {}): Promise<TaskRow[]> {
  return select(taskRows(await processes()), o);
}

/** Actors in their latest state. */
export async function listActors(o: ListOptions = {}): Promise<ActorRow[]> {
  return select(actorRows(await processes()), o);
}

/** One task by id (undefined when no node remembers it). */
export async function getTask(taskId: string): Promise<TaskRow | undefined> {
  return taskRows(await processes()).find((r) => r.taskId === taskId);
}

/** One actor by id. */
export async function getActor(actorId: string): Promise<ActorRow | undefined> {
  return actorRows(await processes()).find((r) => r.actorId === actorId);
}

/** Per function: its tasks counted by state. */
export async function summarizeTasks(): Promise<ReturnType<typeof byFunction>> {
  return byFunction(taskRows(await processes()));
}

/** Per class: its actors counted by state. */
export async function summarizeActors(): Promise<ReturnType<typeof byClass>> {
  return byClass(actorRows(await processes()));
}

/** Objects in every process's store, with their references there. */
export async function listObjects(o: ListOptions = {}): Promise<ObjectRow[]> {
  return select(objectRows(await reports()), o);
}

/** Per place their bytes are (inline, memory, disk, remote, ...): how many objects and bytes. */
export async function summarizeObjects(): Promise<ReturnType<typeof byPlace>> {
  return byPlace(objectRows(await reports()));
}

/** Every thread of every process: drivers', nodes' and workers', with their heap and guest memory. */
export async function listWorkers(o: ListOptions = {}): Promise<WorkerRow[]> {
  return select(workerRows(await reports()), o);
}

/** The nodes (the embedded node alone, or a cluster's, alive and dead). */
export async function listNodes(o: ListOptions = {}): Promise<NodeRow[]> {
  const node = requireNode();
  return select(node.nodeRows ? await node.nodeRows() : [], o);
}

/** What ran where, as Chrome trace events (write them as JSON and open in Perfetto or chrome://tracing). */
export async function timeline(): Promise<TraceEvent[]> {
  return chromeTrace(await processes());
}
