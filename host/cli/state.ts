/**
 * `tsray list`, `summary`, `get` and `timeline`: the state API from the
 * command line, as Ray's. Without `--address` they read the tsray processes
 * on this machine; with it, every node of that cluster through its head.
 */
import { writeFileSync } from 'node:fs';
import { Argument, type Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { queryNodes } from '../node/admin.js';
import { nodeRowsOf, type JobReply, type MemoryReply, type StateReply, type StatusReply } from '../cluster/protocol.js';
import type { JobInfo } from '../cluster/head/jobs.js';
import { records } from '../cluster/process-records.js';
import {
  actorRows, checkedProcesses, chromeTrace, objectRows, parseFilter, summarizeActors, summarizeObjects, summarizeTasks, taskRows, workerRows, withJobs,
  type NodeRow, type ProcessState,
} from '../core/state-views.js';
import { isNodeMemory, type NodeMemory } from '../../store/report.js';
import { select, DEFAULT_LIMIT } from '../api/state.js';
import { headOptions, withHead, type HeadOptions } from './head-connection.js';
import { textTable } from '../util/text-table.js';
import { jobTable } from './job.js';

const ADDRESS = 'a cluster\'s head: every node of that cluster (default: the tsray processes on this machine)';

/** The memory reports objects and workers are listed from. */
async function reports(o: HeadOptions): Promise<{ reports: NodeMemory[]; missing: string[] }> {
  if (o.address === undefined) return { reports: (await queryNodes('memory')).filter(isNodeMemory), missing: [] };
  const r = await withHead(o, (peer) => peer.request<MemoryReply>({ t: 'memory', id: 0 }));
  return { reports: r.nodes.filter(isNodeMemory), missing: r.missing ?? [] };
}

/** The nodes: a cluster's from its head; without --address, this machine's processes that run tasks (not cluster drivers). */
async function nodes(o: HeadOptions): Promise<{ rows: NodeRow[]; missing: string[] }> {
  if (o.address !== undefined) return { rows: nodeRowsOf(await withHead(o, (peer) => peer.request<StatusReply>({ t: 'status', id: 0 }))), missing: [] };
  const got = await reports(o);
  return { rows: got.reports.filter((r) => !r.nodeId.startsWith('driver-')).map((r) => ({ nodeId: r.nodeId, address: r.address, state: 'ALIVE' as const, pid: r.threads[0]?.pid ?? 0 })), missing: got.missing };
}

/** The jobs of the cluster `o.address` names (none without one), by id. */
async function jobs(o: HeadOptions): Promise<JobInfo[]> {
  if (o.address === undefined) return [];
  const r = await withHead(o, (peer) => peer.request<JobReply>({ t: 'job', id: 0, op: 'list' }));
  return r.ok ? r.jobs ?? [] : [];
}

async function jobIds(o: HeadOptions): Promise<Set<string>> {
  return new Set((await jobs(o)).map((j) => j.jobId));
}

async function processes(o: HeadOptions): Promise<{ processes: ProcessState[]; missing: string[] }> {
  if (o.address === undefined) return { processes: checkedProcesses(await queryNodes('state')), missing: [] };
  const r = await withHead(o, (peer) => peer.request<StateReply>({ t: 'state', id: 0 }));
  return { processes: checkedProcesses(r.processes), missing: r.missing ?? [] };
}


const ms = (a?: number, b?: number): string => (a !== undefined && b !== undefined ? `${(b - a).toFixed(1)}` : '');

function print(value: unknown, text: () => string, json: boolean | undefined, missing: string[]): void {
  process.stdout.write(`${json ? JSON.stringify(value, null, 2) : text()}\n`);
  if (missing.length) process.stderr.write(`not in this answer (no reply in time): ${missing.join(', ')}\n`);
}

const collect = (v: string, all: string[]): string[] => [...all, v];

export function registerState(program: Command): void {
  headOptions(program.command('list')
    .description('list tasks or actors in their latest state, objects, worker threads, nodes or jobs (as `ray list`); with --address, rows a job made name it (JOB_ID)')
    .addArgument(new Argument('<kind>', 'what to list').choices(['tasks', 'actors', 'objects', 'workers', 'nodes', 'jobs'])), ADDRESS)
    .option('--filter <key=value>', 'keep rows whose field matches (key!=value: does not); repeatable', collect, [] as string[])
    .option('--limit <n>', `at most this many rows (default ${DEFAULT_LIMIT})`)
    .option('--json', 'print the rows as JSON')
    .action(async (kind: 'tasks' | 'actors' | 'objects' | 'workers' | 'nodes' | 'jobs', o: HeadOptions & { filter: string[]; limit?: string; json?: boolean }) => {
      const limit = o.limit === undefined ? DEFAULT_LIMIT : Number(o.limit);
      if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError(`--limit takes a whole number >= 0, got '${o.limit}'`);
      const filters = o.filter.map(parseFilter);
      if (kind === 'jobs') {
        const rows = select(await jobs({ ...o, address: o.address ?? records().find((r) => r.role === 'head')?.address }), { filters, limit });
        print(rows, () => jobTable(rows), o.json, []);
        return;
      }
      const ids = await jobIds(o);
      const job = (r: { jobId?: string }): string[] => (ids.size ? [r.jobId ?? ''] : []);
      const JOB = ids.size ? ['JOB_ID'] : [];
      if (kind === 'objects' || kind === 'workers') {
        const got = await reports(o);
        if (kind === 'objects') {
          const rows = select(withJobs(objectRows(got.reports), (r) => r.objectId, ids), { filters, limit });
          print(rows, () => textTable([['OBJECT_ID', ...JOB, 'SIZE', 'WHERE', 'NODE_ID', 'ADDRESS', 'REFERENCES', 'CALL_SITE'],
            ...rows.map((r) => [r.objectId, ...job(r), r.size === undefined ? '?' : String(r.size), r.where ?? '', r.nodeId, r.address, r.references.join(', '), r.callSite])]), o.json, got.missing);
        } else {
          const rows = select(workerRows(got.reports), { filters, limit });
          print(rows, () => textTable([['NODE_ID', 'ADDRESS', 'PID', 'THREAD', 'TYPE', 'JS_HEAP', 'GUEST_MEMORY'],
            ...rows.map((r) => [r.nodeId, r.address, String(r.pid), r.threadId === undefined ? 'main' : String(r.threadId), r.type, String(r.heapBytes), String(r.guestBytes)])]), o.json, got.missing);
        }
        return;
      }
      if (kind === 'nodes') {
        const got = await nodes(o);
        const rows = select(got.rows, { filters, limit });
        const res = (x?: Record<string, number>): string => (x ? Object.entries(x).map(([k, v]) => `${k}: ${v}`).join(', ') : '');
        print(rows, () => textTable([['NODE_ID', 'ADDRESS', 'STATE', 'PID', 'RESOURCES', 'AVAILABLE'],
          ...rows.map((r) => [r.nodeId, r.address, r.state, String(r.pid), res(r.resources), res(r.available)])]), o.json, got.missing);
        return;
      }
      const got = await processes(o);
      if (kind === 'tasks') {
        const rows = select(withJobs(taskRows(got.processes), (r) => r.taskId, ids), { filters, limit });
        print(rows, () => textTable([['TASK_ID', ...JOB, 'NAME', 'STATE', 'NODE_ID', 'WORKER', 'ATTEMPT', 'RUN_MS', 'ERROR'],
          ...rows.map((r) => [r.taskId, ...job(r), r.name, r.state, r.nodeId, r.workerId === undefined ? '' : String(r.workerId), String(r.attempt), ms(r.startedAt, r.endedAt), r.errorCode ?? ''])]), o.json, got.missing);
      } else {
        const rows = select(withJobs(actorRows(got.processes), (r) => r.actorId, ids), { filters, limit });
        print(rows, () => textTable([['ACTOR_ID', ...JOB, 'CLASS_NAME', 'NAME', 'STATE', 'NODE_ID', 'RESTARTS', 'DEATH'],
          ...rows.map((r) => [r.actorId, ...job(r), r.className, r.name ?? '', r.state, r.nodeId, String(r.restarts), r.death ?? ''])]), o.json, got.missing);
      }
    });

  headOptions(program.command('summary')
    .description('count tasks per function or actors per class by state, or objects by where their bytes are (as `ray summary`)')
    .addArgument(new Argument('<kind>', 'what to summarize').choices(['tasks', 'actors', 'objects'])), ADDRESS)
    .option('--json', 'print the summary as JSON')
    .action(async (kind: 'tasks' | 'actors' | 'objects', o: HeadOptions & { json?: boolean }) => {
      if (kind === 'objects') {
        const mem = await reports(o);
        const s = summarizeObjects(objectRows(mem.reports));
        print(s, () => ['======== Objects Summary ========', textTable([['WHERE', 'OBJECTS', 'BYTES'], ...s.map((x) => [x.where, String(x.objects), String(x.bytes)])])].join('\n'), o.json, mem.missing);
        return;
      }
      const got = await processes(o);
      const lines = kind === 'tasks'
        ? summarizeTasks(taskRows(got.processes)).map((s) => ({ key: s.name, total: s.total, states: s.states as Record<string, number> }))
        : summarizeActors(actorRows(got.processes)).map((s) => ({ key: s.className, total: s.total, states: s.states as Record<string, number> }));
      const dropped = got.processes.reduce((n, p) => n + p.dropped, 0);
      print(lines, () => [
        `======== ${kind === 'tasks' ? 'Tasks' : 'Actors'} Summary ========`,
        textTable([[kind === 'tasks' ? 'FUNC_OR_METHOD_NAME' : 'CLASS_NAME', 'TOTAL', 'STATE_COUNTS'],
          ...lines.map((l) => [l.key, String(l.total), Object.entries(l.states).map(([k, v]) => `${k}: ${v}`).join(', ')])]),
        ...(dropped ? [`(${dropped} older events were dropped for room; counts cover the ones kept)`] : []),
      ].join('\n'), o.json, got.missing);
    });

  headOptions(program.command('get')
    .description('show one task or actor by id (as `ray get`)')
    .addArgument(new Argument('<kind>', 'what to show').choices(['task', 'actor']))
    .argument('<id>', 'its id (from tsray list)'), ADDRESS)
    .action(async (kind: 'task' | 'actor', id: string, o: HeadOptions) => {
      const got = await processes(o);
      const row = kind === 'task' ? taskRows(got.processes).find((r) => r.taskId === id) : actorRows(got.processes).find((r) => r.actorId === id);
      if (!row) throw new InvalidArgumentError(`no ${kind} ${id} in the state events kept (it may be older than what the nodes keep)`);
      print(row, () => '', true, got.missing);
    });

  headOptions(program.command('timeline')
    .description('write what ran where as a Chrome trace (open it in Perfetto or chrome://tracing)'), ADDRESS)
    .option('-o, --output <file>', 'where to write it', 'trace.json')
    .action(async (o: HeadOptions & { output: string }) => {
      const got = await processes(o);
      const events = chromeTrace(got.processes);
      writeFileSync(o.output, JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' }));
      const slices = events.filter((e) => e.ph === 'X').length;
      process.stdout.write(`wrote ${slices} task slice${slices === 1 ? '' : 's'} from ${got.processes.length} process${got.processes.length === 1 ? '' : 'es'} to ${o.output}\n`);
      if (got.missing.length) process.stderr.write(`not in this trace (no reply in time): ${got.missing.join(', ')}\n`);
    });
}
