/**
 * What each stage of a Dataset did, printed in the format Ray Datasets'
 * `ds.stats()` uses:
 *
 *   Stage 1 map_batches(square): 8/8 blocks executed in 0.12s
 *   * Remote wall time: 1.02ms min, 9.8ms max, 4.1ms mean, 32.8ms total
 *   * Output num rows: 125 min, 125 max, 125 mean, 1000 total
 *
 * Wall time is from a block's task being submitted to its result being
 * ready, as the driver sees it.
 */

/** One stage's record; `wallMs` and `rows` get an entry as each block is done. */
export interface StageStats {
  name: string;
  blocks: number;
  startedAt: number;
  endedAt?: number;
  wallMs: number[];
  rows: number[];
}

export function newStage(name: string, blocks: number): StageStats {
  return { name, blocks, startedAt: performance.now(), wallMs: [], rows: [] };
}

/** Block `ms` and `rows` of `s` are done. */
export function blockDone(s: StageStats, ms: number, rows: number): void {
  s.wallMs.push(ms);
  s.rows.push(rows);
  if (s.rows.length === s.blocks) s.endedAt = performance.now();
}

const time = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(2)}ms`);
const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function line(label: string, xs: number[], fmt: (n: number) => string): string {
  if (xs.length === 0) return `* ${label}: none yet`;
  const total = xs.reduce((a, b) => a + b, 0);
  return `* ${label}: ${fmt(Math.min(...xs))} min, ${fmt(Math.max(...xs))} max, ${fmt(total / xs.length)} mean, ${fmt(total)} total`;
}

export function formatStats(stages: readonly StageStats[]): string {
  return stages.map((s, i) => [
    `Stage ${i} ${s.name}: ${s.rows.length}/${s.blocks} blocks executed in ${time((s.endedAt ?? performance.now()) - s.startedAt)}`,
    line('Remote wall time', s.wallMs, time),
    line('Output num rows', s.rows, num),
  ].join('\n')).join('\n\n');
}
