/**
 * Progress of long work a program waits for (a `get` of many refs): a bar on
 * stderr when it is a terminal (cli-progress, a well-kept bar library, so
 * the terminal handling is not ours to get wrong), nothing when it is not,
 * or a callback the program gives.
 */
import cliProgress from 'cli-progress';

/** How a long wait reports: `true` a bar on a terminal, `false` nothing, a function each step. */
export type ProgressOption = boolean | ((p: { done: number; total: number }) => void);

/** Shown automatically only for waits this long (ms) over at least this many objects. */
export const AUTO_AFTER_MS = 1000;
export const AUTO_MIN_ITEMS = 1000;

export interface ProgressSink {
  step(done: number): void;
  end(): void;
}

/** Whether a bar can be drawn here: stderr is a terminal. */
export function onTerminal(): boolean {
  return !!process.stderr.isTTY;
}

/** A bar titled `label` for `total` items, drawn on stderr. */
function bar(label: string, total: number): ProgressSink {
  const b = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} ({percentage}%) {duration_formatted}`,
    stream: process.stderr, hideCursor: true, clearOnComplete: false, fps: 10,
  }, cliProgress.Presets.shades_classic);
  b.start(total, 0);
  return { step: (done) => b.update(done), end: () => b.stop() };
}

/**
 * Where progress of `total` items goes for option `opt` (undefined: the
 * automatic bar, started only if the wait is still going after
 * `AUTO_AFTER_MS` over at least `AUTO_MIN_ITEMS`); undefined when nowhere.
 */
export function progressSink(label: string, total: number, opt: ProgressOption | undefined): ProgressSink | undefined {
  if (opt === false) return undefined;
  if (typeof opt === 'function') return { step: (done) => opt({ done, total }), end: () => undefined };
  if (!onTerminal()) return undefined;
  if (opt === true) return bar(label, total);
  if (total < AUTO_MIN_ITEMS) return undefined;
  // Deferred: most waits end before anyone would want a bar.
  let b: ProgressSink | undefined;
  let last = 0;
  const timer = setTimeout(() => { b = bar(label, total); b.step(last); }, AUTO_AFTER_MS);
  timer.unref();
  return {
    step: (done) => { last = done; b?.step(done); },
    end: () => { clearTimeout(timer); b?.end(); },
  };
}
