/**
 * What the dashboard shows, as one document built from a `DashboardSource`
 * (the head's gathers on a cluster, the node's own reports when embedded)
 * and pushed to every open page. Sizes are bounded: the page gets the latest
 * rows, never a whole event history.
 */
import { actorRows, chromeTrace, objectRows, summarizeActors, summarizeObjects, summarizeTasks, taskRows, workerRows, checkedProcesses,
  withJobs, type ActorRow, type ObjectRow, type ProcessState, type TaskRow, type TraceEvent, type WorkerRow } from '../core/state-views.js';
import { checkedLogs, type LogLine, type NodeLogs } from '../node/log-ring.js';
import { formatMemory, isNodeMemory, type NodeMemory } from '../../store/report.js';
import type { ClusterStatusJson } from '../cluster/status-json.js';
import type { JobInfo } from '../cluster/head/jobs.js';

/** Where the dashboard reads the cluster (each call gathers afresh; `missing`: who did not answer in time). */
export interface DashboardSource {
  status(): Promise<ClusterStatusJson>;
  state(): Promise<{ items: ProcessState[]; missing: string[] }>;
  memory(): Promise<{ items: NodeMemory[]; missing: string[] }>;
  logs(): Promise<{ items: NodeLogs[]; missing: string[] }>;
  /** The jobs submitted to the cluster (absent: none can be). */
  jobs?(): Promise<JobInfo[]>;
}

/** Rows of each kind a snapshot carries at most (the latest). */
export const SNAPSHOT_ROWS = 500;
/** Timeline slices a snapshot carries at most (the latest), over at most this window. */
export const TIMELINE_SLICES = 2000;
export const TIMELINE_WINDOW_MS = 60_000;
/** Log lines a snapshot carries at most (the latest, over every node). */
export const LOG_LINES = 300;

export interface Snapshot {
  schema: 'tsray.dashboard/1';
  /** Milliseconds since the epoch. */
  time: number;
  status: ClusterStatusJson;
  tasks: { total: number; byState: Record<string, number>; byFunction: ReturnType<typeof summarizeTasks>; latest: TaskRow[] };
  actors: { total: number; byClass: ReturnType<typeof summarizeActors>; latest: ActorRow[] };
  objects: { total: number; byPlace: ReturnType<typeof summarizeObjects>; largest: ObjectRow[]; workers: WorkerRow[]; memoryText: string };
  /** Slices of the last `TIMELINE_WINDOW_MS` (Chrome trace "X" events, times in microseconds) and the row names. */
  timeline: { slices: TraceEvent[]; rows: TraceEvent[] };
  logs: (LogLine & { nodeId: string })[];
  jobs: JobInfo[];
  /** Parts no one answered for in time, or that failed. */
  missing: string[];
}

const latest = <T>(rows: T[], n: number): T[] => (rows.length > n ? rows.slice(rows.length - n) : rows);

/** Gathers everything once; a part that fails is named in `missing`, never fails the whole. */
export async function snapshot(source: DashboardSource, now = Date.now()): Promise<Snapshot> {
  const missing: string[] = [];
  const part = async <T>(name: string, p: () => Promise<{ items: T[]; missing: string[] }>): Promise<T[]> => {
    try {
      const r = await p();
      missing.push(...r.missing);
      return r.items;
    } catch (e) {
      missing.push(`${name}: ${(e as Error).message}`);
      return [];
    }
  };
  const [status, processes, reports, logs, jobs] = await Promise.all([
    source.status(),
    part('state', () => source.state()).then(checkedProcesses),
    part('memory', () => source.memory()).then((r) => r.filter(isNodeMemory)),
    part('logs', () => source.logs()).then(checkedLogs),
    source.jobs ? source.jobs().catch((e: Error) => { missing.push(`jobs: ${e.message}`); return []; }) : Promise.resolve([]),
  ]);
  // Rows a job's driver made carry its id.
  const ids = new Set(jobs.map((j) => j.jobId));
  const tasks = withJobs(taskRows(processes), (r) => r.taskId, ids);
  const byState: Record<string, number> = {};
  for (const r of tasks) byState[r.state] = (byState[r.state] ?? 0) + 1;
  const actors = withJobs(actorRows(processes), (r) => r.actorId, ids);
  const objects = withJobs(objectRows(reports), (r) => r.objectId, ids);
  const trace = chromeTrace(processes);
  const since = (now - TIMELINE_WINDOW_MS) * 1000;
  const slices = latest(trace.filter((e) => e.ph === 'X' && (e.ts ?? 0) + (e.dur ?? 0) >= since), TIMELINE_SLICES);
  const lines = logs.flatMap((n) => n.lines.map((l) => ({ ...l, nodeId: n.nodeId }))).sort((a, b) => a.time - b.time);
  return {
    schema: 'tsray.dashboard/1',
    time: now,
    status,
    tasks: { total: tasks.length, byState, byFunction: summarizeTasks(tasks), latest: latest(tasks, SNAPSHOT_ROWS) },
    actors: { total: actors.length, byClass: summarizeActors(actors), latest: latest(actors, SNAPSHOT_ROWS) },
    objects: {
      total: objects.length, byPlace: summarizeObjects(objects),
      largest: [...objects].sort((a, b) => (b.size ?? 0) - (a.size ?? 0)).slice(0, SNAPSHOT_ROWS), workers: workerRows(reports),
      memoryText: formatMemory({ time: new Date(now).toISOString(), nodes: reports }, { numEntries: 200 }),
    },
    timeline: { slices, rows: trace.filter((e) => e.ph === 'M') },
    logs: latest(lines, LOG_LINES),
    jobs,
    missing,
  };
}
