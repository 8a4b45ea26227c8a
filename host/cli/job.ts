/**
 * `tsray job`, as Ray's `ray job`: submit a driver program for the head to
 * run on its machine against the cluster, then follow, list, stop it or
 * read its output. Every request carries the cluster token (the head
 * refuses connections without it). Following a job on a terminal draws a
 * bar of its tasks under its output.
 */
import type { Command } from 'commander';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { InvalidArgumentError, TsrayError } from '../errors.js';
import cliProgress from 'cli-progress';
import type { JobReply, JobRequest, StateReply } from '../cluster/protocol.js';
import { checkedProcesses, taskRows, withJobs } from '../core/state-views.js';
import type { JobInfo } from '../cluster/head/jobs.js';
import { MAX_FILES, MAX_FILES_BYTES } from '../cluster/head/jobs.js';
import type { Peer } from '../cluster/peer.js';
import { headOptions, withHead, type HeadOptions } from './head-connection.js';
import { textTable } from '../util/text-table.js';
import { safeLine } from '../util/safe-line.js';

const ADDRESS = "the cluster's head (default: the head started on this machine)";
/** How often a follow asks for more output, and (on a terminal) for the job's tasks. */
const FOLLOW_MS = 300;
const TASKS_MS = 1000;
/** Folders a working directory is sent without. */
const SKIPPED = new Set(['node_modules', '.git']);

async function ask(peer: Peer, req: Omit<JobRequest, 't' | 'id'>): Promise<JobReply> {
  const r = await peer.request<JobReply | { t: 'error'; code: string; message: string }>({ t: 'job', id: 0, ...req });
  if (r.t === 'error') throw new TsrayError(r.code, r.message);
  if (!r.ok) throw new TsrayError(r.code ?? 'ERR_INTERNAL', r.error ?? 'the head refused');
  return r;
}

/** The files under `dir` by path relative to it (no links, no node_modules or .git), within the head's bounds. */
export function readWorkingDir(dir: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  let count = 0;
  let bytes = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) { if (!SKIPPED.has(name)) walk(p); continue; }
      if (!st.isFile()) continue;
      if (++count > MAX_FILES) throw new InvalidArgumentError(`--working-dir ${dir} holds more than ${MAX_FILES} files`);
      bytes += st.size;
      if (bytes > MAX_FILES_BYTES) throw new InvalidArgumentError(`--working-dir ${dir} holds more than ${MAX_FILES_BYTES} bytes (node_modules and .git are left out)`);
      files[relative(dir, p).split(sep).join('/')] = new Uint8Array(readFileSync(p));
    }
  };
  walk(dir);
  return files;
}

/**
 * On a terminal, a bar of the job's tasks (finished of submitted, from the
 * cluster's state events every `TASKS_MS`), with the job's output printed
 * above it; elsewhere nothing, and output goes straight to stdout.
 */
function taskBar(peer: Peer, jobId: string): { print(text: string): void; end(): void } {
  if (!process.stderr.isTTY || !process.stdout.isTTY) return { print: (text) => { process.stdout.write(text); }, end: () => undefined };
  const bars = new cliProgress.MultiBar({ format: `job ${jobId} tasks [{bar}] {value}/{total} finished`, stream: process.stderr, hideCursor: true, clearOnComplete: false, fps: 4 });
  const bar = bars.create(1, 0);
  let pending = '';
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    void peer.request<StateReply>({ t: 'state', id: 0 }).then((r) => {
      const mine = withJobs(taskRows(checkedProcesses(r.processes)), (x) => x.taskId, new Set([jobId])).filter((x) => x.jobId === jobId);
      bar.setTotal(Math.max(1, mine.length));
      bar.update(mine.filter((x) => x.state === 'FINISHED' || x.state === 'FAILED').length);
    }, () => undefined).finally(() => { polling = false; });
  }, TASKS_MS);
  return {
    // MultiBar prints whole lines above the bar.
    print: (text) => {
      pending += text;
      const nl = pending.lastIndexOf('\n');
      if (nl >= 0) { bars.log(pending.slice(0, nl + 1)); pending = pending.slice(nl + 1); }
    },
    end: () => { clearInterval(timer); if (pending) bars.log(`${pending}\n`); bars.stop(); },
  };
}

/** Prints the job's output from `from` until it ends; resolves with its final state. */
async function follow(peer: Peer, jobId: string, from = 0): Promise<JobInfo> {
  const out = taskBar(peer, jobId);
  try {
    for (let at = from; ;) {
      const { logs } = await ask(peer, { op: 'logs', jobId, from: at });
      if (logs!.text) out.print(logs!.text);
      at = logs!.next;
      if (logs!.done) return (await ask(peer, { op: 'status', jobId })).job!;
      if (!logs!.text) await new Promise((r) => setTimeout(r, FOLLOW_MS));
    }
  } finally {
    out.end();
  }
}

const when = (t?: number): string => (t === undefined ? '' : new Date(t).toISOString());

/** Jobs as `tsray job list` and `tsray list jobs` print them. */
export function jobTable(jobs: readonly JobInfo[]): string {
  return textTable([['JOB_ID', 'STATUS', 'START_TIME', 'END_TIME', 'EXIT_CODE', 'ENTRYPOINT'],
    ...jobs.map((j) => [j.jobId, j.status, when(j.startTime), when(j.endTime), j.exitCode === undefined ? '' : String(j.exitCode), j.entrypoint])]);
}

function ended(job: JobInfo): void {
  process.stderr.write(`Job '${job.jobId}' ${job.status.toLowerCase()}${job.exitCode !== undefined ? ` (exit code ${job.exitCode})` : ''}${job.message ? `: ${safeLine(job.message)}` : ''}\n`);
  if (job.status !== 'SUCCEEDED') process.exitCode = 1;
}

export function registerJob(program: Command): void {
  const job = program.command('job').description('submit a driver program to run on the head\'s machine, and follow, list or stop jobs (as `ray job`)');

  headOptions(job.command('submit')
    .description('run `-- COMMAND [ARGS...]` on the head\'s machine against the cluster (TSRAY_ADDRESS, TSRAY_TOKEN and TSRAY_JOB_ID set); follows its output until it ends unless --no-wait')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--working-dir <dir>', `a directory sent to the head to run it in (at most ${MAX_FILES} files and ${MAX_FILES_BYTES / 2 ** 20} MiB; node_modules and .git are left out; 'tsray' is importable there)`)
    .option('--no-wait', 'print the job id and return at once'), ADDRESS)
    .action(async (command: string[], o: HeadOptions & { workingDir?: string; wait: boolean }) => {
      const files = o.workingDir ? readWorkingDir(o.workingDir) : undefined;
      await withHead(o, async (peer) => {
        const { job: j } = await ask(peer, { op: 'submit', entrypoint: command, ...(files ? { files } : {}) });
        process.stderr.write(`Job '${j!.jobId}' submitted: ${safeLine(j!.entrypoint)}\n`);
        if (!o.wait) { process.stdout.write(`${j!.jobId}\n`); return; }
        ended(await follow(peer, j!.jobId));
      });
    });

  headOptions(job.command('status')
    .description('a job\'s state: PENDING, RUNNING, SUCCEEDED, FAILED or STOPPED')
    .argument('<job-id>')
    .option('--json', 'print it as JSON'), ADDRESS)
    .action(async (jobId: string, o: HeadOptions & { json?: boolean }) => {
      const { job: j } = await withHead(o, (peer) => ask(peer, { op: 'status', jobId }));
      process.stdout.write(o.json ? `${JSON.stringify(j, null, 2)}\n` : `${j!.jobId} ${j!.status}${j!.exitCode !== undefined ? ` (exit code ${j!.exitCode})` : ''}${j!.message ? `: ${safeLine(j!.message)}` : ''}\n`);
    });

  headOptions(job.command('logs')
    .description('a job\'s output (stdout and stderr), kept by the head')
    .argument('<job-id>')
    .option('--follow', 'keep printing until the job ends'), ADDRESS)
    .action(async (jobId: string, o: HeadOptions & { follow?: boolean }) => {
      await withHead(o, async (peer) => {
        if (o.follow) { ended(await follow(peer, jobId)); return; }
        for (let at = 0; ;) {
          const { logs } = await ask(peer, { op: 'logs', jobId, from: at });
          process.stdout.write(logs!.text);
          if (logs!.next === at || logs!.done) return;
          at = logs!.next;
        }
      });
    });

  headOptions(job.command('stop')
    .description('stop a running job (SIGTERM, then SIGKILL after 3 s)')
    .argument('<job-id>'), ADDRESS)
    .action(async (jobId: string, o: HeadOptions) => {
      const { stopped } = await withHead(o, (peer) => ask(peer, { op: 'stop', jobId }));
      process.stdout.write(stopped ? `Job '${jobId}' is stopping\n` : `Job '${jobId}' had already ended\n`);
    });

  headOptions(job.command('list')
    .description('every job the head knows, oldest first')
    .option('--json', 'print the jobs as JSON'), ADDRESS)
    .action(async (o: HeadOptions & { json?: boolean }) => {
      const { jobs } = await withHead(o, (peer) => ask(peer, { op: 'list' }));
      process.stdout.write(o.json ? `${JSON.stringify(jobs, null, 2)}\n` : `${jobTable(jobs!)}\n`);
    });
}
