/**
 * Jobs, as Ray's job submission: a driver program the head runs on its own
 * machine against the cluster, with its output kept. Each job gets a
 * private directory (mode 0700) under the head's cluster directory: its
 * working directory (the files `tsray job submit --working-dir` sent, and
 * `node_modules/tsray` linked to this installation so `import 'tsray'`
 * works) and `output.log`. The program runs without a shell, with
 * TSRAY_ADDRESS, TSRAY_TOKEN and TSRAY_JOB_ID set: its `tsray.init()`
 * joins the cluster, and the ids it draws start with the job id, so its
 * tasks, actors and objects are attributed to it (core/state-views.ts's
 * `withJobs`).
 *
 * Each program runs under `job-runner.ts`, in a process group of its own,
 * which writes its exit status beside its output: a job outlives a head
 * killed with `kill -9`, and the head started again from its tables (the
 * `jobs` table: each job's info, directory and process) follows it on and
 * learns how it ended.
 *
 * Submitting needs the cluster token, as every frame does (Ray's
 * unauthenticated job API was CVE-2023-48022); a node may not submit.
 * Bounds: `MAX_FILES` files and `MAX_FILES_BYTES` in a working directory,
 * paths inside it only; `MAX_JOBS` jobs kept (the oldest finished ones go);
 * `LOGS_CHUNK` bytes of output per read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, fstatSync, rmSync, symlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../../errors.js';
import { isJobId } from '../../../store/object-ref.js';
import { running } from '../../util/process-alive.js';
import type { TableStore } from './tables/table-store.js';
import type { JobExit } from './job-runner.js';

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'STOPPED';

export interface JobInfo {
  /** 8 hex digits; the ids its driver draws start with them. */
  jobId: string;
  status: JobStatus;
  /** The command, as given. */
  entrypoint: string;
  /** Milliseconds since the epoch. */
  startTime: number;
  endTime?: number;
  exitCode?: number;
  /** Why it failed or stopped, when the program did not say. */
  message?: string;
}

export const MAX_FILES = 10_000;
export const MAX_FILES_BYTES = 32 * 2 ** 20;
export const MAX_JOBS = 1000;
export const LOGS_CHUNK = 2 ** 20;
/** A stopped job gets SIGTERM, then SIGKILL after this long. */
export const STOP_GRACE_MS = 3000;

/** This installation's package root (dist/host/cluster/head -> four up). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface Job { info: JobInfo; dir: string; child?: ChildProcess; pid?: number; stopping?: boolean }

/** A job as the head's tables keep it. */
interface JobRow { info: JobInfo; dir: string; pid?: number }

/** The runner that records a job's exit status (compiled next to this file). */
const RUNNER = fileURLToPath(new URL('./job-runner.js', import.meta.url));
/** How often a job a restarted head did not start is checked for its end. */
const WATCH_MS = 500;

/** A working-directory path as sent: relative, inside, no NUL; normalized. */
function safePath(p: string): string {
  const n = normalize(p);
  if (p.length === 0 || p.length > 4096 || p.includes('\0') || isAbsolute(p) || n === '..' || n.startsWith(`..${sep}`) || n.split(sep).includes('..')) {
    throw new InvalidArgumentError(`working directory path '${p.slice(0, 200)}' must be relative and stay inside it`);
  }
  return n;
}

export class Jobs {
  private readonly jobs = new Map<string, Job>();

  /** `dir`: where job directories go; `env`: what each job's program is given to join the cluster. */
  private readonly watch: NodeJS.Timeout;

  /** `dir`: where job directories go; `env`: what each job's program is given to join the cluster; `tables`: where jobs outlive the head. */
  constructor(private readonly dir: string, private readonly env: { address: string; token: string }, private readonly tables?: TableStore) {
    // Jobs a restarted head took over are not its children: it looks for their end.
    this.watch = setInterval(() => {
      for (const j of this.jobs.values()) if (!j.child && j.pid !== undefined && j.info.endTime === undefined && !running(j.pid)) this.finished(j);
    }, WATCH_MS);
    this.watch.unref();
  }

  /** Takes over the jobs a killed head's tables list: running ones are followed on, ended ones listed. */
  restore(rows: Map<string, unknown>): void {
    for (const [id, row] of rows) {
      const r = row as JobRow;
      if (!isJobId(id) || typeof r?.dir !== 'string' || r.info?.jobId !== id) continue;
      const job: Job = { info: r.info, dir: r.dir, ...(typeof r.pid === 'number' ? { pid: r.pid } : {}) };
      this.jobs.set(id, job);
      if (job.info.endTime === undefined && (job.pid === undefined || !running(job.pid))) this.finished(job);
    }
  }

  private persist(job: Job): void {
    this.tables?.set('jobs', job.info.jobId, { info: job.info, dir: job.dir, ...(job.pid !== undefined ? { pid: job.pid } : {}) } satisfies JobRow);
  }

  submit(entrypoint: string[], files: Record<string, Uint8Array> | undefined): JobInfo {
    if (!Array.isArray(entrypoint) || entrypoint.length === 0 || entrypoint.length > 1000 || !entrypoint.every((a) => typeof a === 'string' && !a.includes('\0'))) {
      throw new InvalidArgumentError('a job needs an entrypoint: a command and its arguments, as strings');
    }
    const entries = Object.entries(files ?? {});
    if (entries.length > MAX_FILES) throw new InvalidArgumentError(`a working directory may hold at most ${MAX_FILES} files, got ${entries.length}`);
    let total = 0;
    const checked = entries.map(([p, b]) => {
      if (!(b instanceof Uint8Array)) throw new InvalidArgumentError(`working directory file '${p.slice(0, 200)}' must be bytes`);
      total += b.length;
      return [safePath(p), b] as const;
    });
    if (total > MAX_FILES_BYTES) throw new InvalidArgumentError(`a working directory may hold at most ${MAX_FILES_BYTES} bytes, got ${total}`);
    this.forgetOld();
    let jobId: string;
    do jobId = randomBytes(4).toString('hex'); while (this.jobs.has(jobId));
    const dir = join(this.dir, jobId);
    const work = join(dir, 'work');
    mkdirSync(work, { recursive: true, mode: 0o700 });
    try {
      for (const [p, b] of checked) {
        mkdirSync(dirname(join(work, p)), { recursive: true, mode: 0o700 });
        writeFileSync(join(work, p), b, { mode: 0o600, flag: 'wx' });
      }
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw new InvalidArgumentError(`the working directory could not be written: ${(e as Error).message}`);
    }
    const link = join(work, 'node_modules', 'tsray');
    if (!existsSync(link)) {
      mkdirSync(dirname(link), { recursive: true, mode: 0o700 });
      symlinkSync(PACKAGE_ROOT, link, 'dir');
    }
    const job: Job = { info: { jobId, status: 'PENDING', entrypoint: entrypoint.join(' '), startTime: Date.now() }, dir };
    this.jobs.set(jobId, job);
    const out = openSync(join(dir, 'output.log'), 'a', 0o600);
    const { TSRAY_ADDRESS: _a, TSRAY_TOKEN: _t, TSRAY_JOB_ID: _j, ...env } = process.env;
    const child = spawn(process.execPath, [RUNNER, dir, ...entrypoint], {
      cwd: work, stdio: ['ignore', out, out], detached: true,
      env: { ...env, TSRAY_ADDRESS: this.env.address, TSRAY_TOKEN: this.env.token, TSRAY_JOB_ID: jobId },
    });
    closeSync(out);
    job.child = child;
    job.pid = child.pid;
    this.persist(job);
    child.on('spawn', () => { if (job.info.status === 'PENDING') { job.info.status = 'RUNNING'; this.persist(job); } });
    child.on('error', (e) => this.ended(job, undefined, `it could not start: ${e.message}`));
    child.on('exit', () => this.finished(job));
    child.unref();
    return { ...job.info };
  }

  /** The job's runner is gone: how the program ended is in its `exit.json` (absent: the runner itself was killed). */
  private finished(job: Job): void {
    let exit: JobExit = {};
    try { exit = JSON.parse(readFileSync(join(job.dir, 'exit.json'), 'utf8')) as JobExit; } catch { /* killed with its runner */ }
    if (exit.error !== undefined) this.ended(job, undefined, `it could not start: ${exit.error}`);
    else if (exit.code === undefined && exit.signal === undefined) this.ended(job, undefined, job.stopping ? undefined : 'it ended without an exit status (killed with its runner)');
    else this.ended(job, exit.code, exit.signal ? `it ended on ${exit.signal}` : undefined);
  }

  private ended(job: Job, code: number | undefined, why: string | undefined): void {
    if (job.info.endTime !== undefined) return;
    job.child = undefined;
    job.info.endTime = Date.now();
    if (code !== undefined) job.info.exitCode = code;
    job.info.status = job.stopping ? 'STOPPED' : code === 0 ? 'SUCCEEDED' : 'FAILED';
    if (why && job.info.status !== 'SUCCEEDED') job.info.message = why;
    this.persist(job);
  }

  private get(jobId: string): Job {
    const job = isJobId(jobId) ? this.jobs.get(jobId) : undefined;
    if (!job) throw new InvalidArgumentError(`no job '${String(jobId).slice(0, 40)}' on this cluster`);
    return job;
  }

  status(jobId: string): JobInfo {
    return { ...this.get(jobId).info };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }));
  }

  /** Output from byte `from`, at most `LOGS_CHUNK`; `next`: where the following read starts; `done`: the job ended and this is all. */
  logs(jobId: string, from: number): { text: string; next: number; done: boolean } {
    const job = this.get(jobId);
    if (!Number.isSafeInteger(from) || from < 0) throw new InvalidArgumentError(`logs: from must be a byte offset >= 0, got ${from}`);
    const fd = openSync(join(job.dir, 'output.log'), 'r');
    try {
      const size = fstatSync(fd).size;
      const n = Math.max(0, Math.min(LOGS_CHUNK, size - from));
      const buf = Buffer.alloc(n);
      const got = n > 0 ? readSync(fd, buf, 0, n, from) : 0;
      return { text: buf.subarray(0, got).toString('utf8'), next: from + got, done: job.info.endTime !== undefined && from + got >= size };
    } finally {
      closeSync(fd);
    }
  }

  /** Stops a running job (SIGTERM to its process group, SIGKILL after `STOP_GRACE_MS`); false when it had ended. */
  stop(jobId: string): boolean {
    const job = this.get(jobId);
    const pid = job.pid;
    if (pid === undefined || job.info.endTime !== undefined) return false;
    job.stopping = true;
    const signal = (s: NodeJS.Signals): void => { try { process.kill(-pid, s); } catch { /* already gone */ } };
    signal('SIGTERM');
    setTimeout(() => { if (job.info.endTime === undefined) signal('SIGKILL'); }, STOP_GRACE_MS).unref();
    return true;
  }

  /** Stops every running job (the head is going). */
  close(): void {
    clearInterval(this.watch);
    for (const j of this.jobs.values()) if (j.info.endTime === undefined && j.pid !== undefined) this.stop(j.info.jobId);
  }

  private forgetOld(): void {
    if (this.jobs.size < MAX_JOBS) return;
    for (const [id, j] of this.jobs) {
      if (j.info.endTime === undefined) continue;
      this.jobs.delete(id);
      this.tables?.delete('jobs', id);
      rmSync(j.dir, { recursive: true, force: true });
      if (this.jobs.size < MAX_JOBS) return;
    }
    throw new InvalidArgumentError(`${MAX_JOBS} jobs are running; stop one first`);
  }
}
