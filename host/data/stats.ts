/**
 * What each stage of a Dataset did, printed in the format Ray Datasets'
 * `ds.stats()` uses:
 *
 *   Stage 1 map_batches(square): 8/8 blocks executed in 0.12s
 *   * Remote wall time: 1.02ms min, 9.8ms max, 4.1ms mean, 32.8ms total
 *   * Remote cpu time: 0.51ms min, 3.2ms max, 1.4ms mean, 11.2ms total
 *   * Output num rows: 125 min, 125 max, 125 mean, 1000 total
 *
 * Wall time is from a block's task being submitted to its result being
 * ready, as the driver sees it. Cpu time is how long the task's functions
 * ran on their worker thread (Node has no per-thread CPU clock; a guest is
 * single-threaded, so this is its CPU time but for what it spent blocked in
 * a host call such as `sleep` or `get`); every node reports it, a cluster's
 * nodes in their task results (ResultFrame.ms). Blocks larger than
 * `DataContext.targetMaxBlockSize` (a single row or a transform's output
 * that could not be cut) get a line of their own.
 */
import { DataContext } from './context.js';

/** One stage's record; `wallMs` and `rows` get an entry as each block is done. */
export interface StageStats {
  name: string;
  /** Blocks it has started (submitted, or begun in this process). */
  submitted: number;
  /** Whether its input has ended, so `submitted` is all it will do. */
  inputDone: boolean;
  startedAt: number;
  endedAt?: number;
  wallMs: number[];
  /** How long each block's task ran on its worker thread (where the backend reports it). */
  runMs: number[];
  rows: number[];
  /** Blocks whose task failed (the failure shows to whoever consumes them). */
  failed: number;
  /** Blocks over `targetMaxBlockSize`, and the largest one's bytes. */
  oversized: number;
  largest: number;
}

export function newStage(name: string): StageStats {
  return { name, submitted: 0, inputDone: false, startedAt: performance.now(), wallMs: [], runMs: [], rows: [], failed: 0, oversized: 0, largest: 0 };
}

/** A block of `s` is done: it took `ms` and holds `rows` rows in `bytes` bytes. */
export function blockDone(s: StageStats, ms: number, rows: number, bytes: number): void {
  s.wallMs.push(ms);
  s.rows.push(rows);
  if (bytes > DataContext.targetMaxBlockSize) { s.oversized++; s.largest = Math.max(s.largest, bytes); }
  stageMaybeDone(s);
}

/** A block of `s` failed. */
export function blockFailed(s: StageStats): void {
  s.failed++;
  stageMaybeDone(s);
}

/** A block went through `s` as it was (a limit it did not cut, a union). */
export function passedOn(s: StageStats, rows: number): void {
  s.submitted++;
  blockDone(s, 0, rows, 0);
}

/** The input of `s` has ended: nothing more will start. */
export function inputDone(s: StageStats): void {
  s.inputDone = true;
  stageMaybeDone(s);
}

function stageMaybeDone(s: StageStats): void {
  if (s.inputDone && s.rows.length + s.failed === s.submitted) s.endedAt ??= performance.now();
}

const time = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(2)}ms`);
const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
const size = (n: number): string => (n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

function line(label: string, xs: number[], fmt: (n: number) => string): string {
  if (xs.length === 0) return `* ${label}: none yet`;
  const total = xs.reduce((a, b) => a + b, 0);
  return `* ${label}: ${fmt(Math.min(...xs))} min, ${fmt(Math.max(...xs))} max, ${fmt(total / xs.length)} mean, ${fmt(total)} total`;
}

export function formatStats(stages: readonly StageStats[]): string {
  return stages.map((s, i) => [
    `Stage ${i} ${s.name}: ${s.rows.length}/${s.submitted} blocks executed in ${time((s.endedAt ?? performance.now()) - s.startedAt)}`,
    line('Remote wall time', s.wallMs, time),
    ...(s.runMs.length ? [line('Remote cpu time', s.runMs, time)] : []),
    line('Output num rows', s.rows, num),
    ...(s.failed ? [`* Failed blocks: ${s.failed}`] : []),
    ...(s.oversized ? [`* Blocks over targetMaxBlockSize (${size(DataContext.targetMaxBlockSize)}): ${s.oversized}, the largest ${size(s.largest)} (a single row or batch that could not be cut)`] : []),
  ].join('\n')).join('\n\n');
}
