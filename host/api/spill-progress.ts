/**
 * Progress of spilling to disk on the embedded node: while the store spills
 * a backlog, a status bar on stderr when it is a terminal ("spilling to
 * disk: 1.2 GiB in 830 objects, 640 MiB/s", cli-progress as `get`'s bar),
 * nothing when it is not, or a callback the program gives. The store's
 * counters are read every `POLL_MS` (cheap: no walk over the objects); an
 * episode ends after `QUIET_MS` without spilling.
 */
import cliProgress from 'cli-progress';
import type { SpillStats } from '../../store/spill.js';
import { formatBytes } from '../../store/bytes.js';
import { onTerminal } from './progress.js';

/** What a spill callback gets: totals since the node started, and the rate of the episode so far. */
export interface SpillProgress {
  spilledBytes: number;
  spilledObjects: number;
  bytesPerSecond: number;
}

/** `true` (default): a status bar on a terminal once an episode passes `SHOW_AFTER_BYTES`; `false` nothing; a function each poll that saw spilling. */
export type SpillProgressOption = boolean | ((p: SpillProgress) => void);

export const POLL_MS = 250;
export const QUIET_MS = 1500;
/** The bar shows once an episode has spilled this much. */
export const SHOW_AFTER_BYTES = 64 * 2 ** 20;

/** Watches `read()`'s counters; returns a stop function. */
export function watchSpilling(read: () => Readonly<SpillStats>, opt: SpillProgressOption = true): () => void {
  if (opt === false || (opt === true && !onTerminal())) return () => undefined;
  let last = { ...read() };
  let episode: { bytes0: number; objects0: number; since: number; quietSince: number } | undefined;
  let bar: cliProgress.SingleBar | undefined;
  const end = (): void => {
    bar?.stop();
    bar = undefined;
    episode = undefined;
  };
  const timer = setInterval(() => {
    const now = performance.now();
    const s = read();
    const grew = s.spilledBytes > last.spilledBytes;
    if (!grew) {
      if (episode && now - episode.quietSince > QUIET_MS) end();
      return;
    }
    episode ??= { bytes0: last.spilledBytes, objects0: last.spilledObjects, since: now - POLL_MS, quietSince: now };
    episode.quietSince = now;
    last = { ...s };
    const bytes = s.spilledBytes - episode.bytes0;
    const p: SpillProgress = { spilledBytes: s.spilledBytes, spilledObjects: s.spilledObjects, bytesPerSecond: bytes / ((now - episode.since) / 1000) };
    if (typeof opt === 'function') { opt(p); return; }
    if (!bar && bytes < SHOW_AFTER_BYTES) return;
    const payload = { spilled: formatBytes(bytes), objects: s.spilledObjects - episode.objects0, rate: `${formatBytes(p.bytesPerSecond)}/s` };
    if (!bar) {
      bar = new cliProgress.SingleBar({ format: 'spilling to disk: {spilled} in {objects} objects, {rate}', stream: process.stderr, hideCursor: true, clearOnComplete: false, fps: 4 });
      bar.start(1, 0, payload);
    } else bar.update(0, payload);
  }, POLL_MS);
  timer.unref();
  return () => { clearInterval(timer); end(); };
}
