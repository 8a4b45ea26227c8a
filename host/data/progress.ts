/**
 * Progress of a running plan: a bar per stage on stderr when it is a
 * terminal (cli-progress's multi-bar), or a callback given in
 * `DataContext.progressBars`. Drawn from the stages' stats, sampled, so the
 * stages know nothing of it; a terminal bar shows only for a plan still
 * running after `AUTO_AFTER_MS`, as the API's own waits do.
 */
import cliProgress from 'cli-progress';
import { AUTO_AFTER_MS, onTerminal } from '../api/progress.js';
import type { StageStats } from './stats.js';
import type { ProgressBars, StageProgress } from './context.js';

export type { ProgressBars, StageProgress };

const SAMPLE_MS = 100;

const finished = (stages: readonly StageStats[]): boolean => stages.every((s) => s.endedAt !== undefined);
const snapshot = (stages: readonly StageStats[]): StageProgress[] => stages.map((s, i) => ({ stage: `Stage ${i} ${s.name}`, done: s.rows.length, total: s.submitted }));

/**
 * Reports `stages` (filled in as the plan runs) until every one has ended,
 * or the plan was stopped early; the returned function says it stopped
 * (`drained`: its consumer took every block, so only what still runs is left).
 */
export function showProgress(stages: readonly StageStats[], opt: ProgressBars): (drained: boolean) => void {
  let stopped = false;
  if (opt === false || (opt === true && !onTerminal())) return () => undefined;
  const draw = typeof opt === 'function' ? opt : terminalBars();
  const startedAt = performance.now();
  const timer = setInterval(() => {
    if (typeof opt === 'function' || performance.now() - startedAt >= AUTO_AFTER_MS) draw(snapshot(stages));
    if (stopped || (stages.length > 0 && finished(stages))) {
      clearInterval(timer);
      (draw as { end?: () => void }).end?.();
    }
  }, SAMPLE_MS);
  timer.unref();
  return (drained) => { if (!drained) stopped = true; };
}

/** A drawer of one bar per stage on stderr. */
function terminalBars(): ((p: StageProgress[]) => void) & { end(): void } {
  let multi: cliProgress.MultiBar | undefined;
  const bars: cliProgress.SingleBar[] = [];
  const draw = (ps: StageProgress[]): void => {
    multi ??= new cliProgress.MultiBar({ format: '{stage} [{bar}] {value}/{total} blocks', stream: process.stderr, hideCursor: true, clearOnComplete: false, fps: 10 }, cliProgress.Presets.shades_classic);
    ps.forEach((p, i) => {
      bars[i] ??= multi!.create(Math.max(1, p.total), 0, { stage: p.stage });
      bars[i]!.setTotal(Math.max(1, p.total));
      bars[i]!.update(p.done, { stage: p.stage });
    });
  };
  return Object.assign(draw, { end: () => multi?.stop() });
}
