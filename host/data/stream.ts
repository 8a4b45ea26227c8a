/**
 * Blocks flowing through a running plan: each stage is an async iterable of
 * refs, pulled by the stage after it, so a plan runs as fast as its consumer
 * takes blocks (backpressure), and a ref a stage owns is released as soon as
 * the next stage has used it (Ray's block move semantics).
 */
import { get, getView, put, wait } from '../api/api.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { blockBytes, numRows, type Block } from '../abi/block.js';
import { DataContext } from './context.js';
import { blockDone, blockFailed, type StageStats } from './stats.js';

/** A block on its way; `own`: whoever takes it releases it once used (a Dataset that keeps its blocks hands them out unowned). */
export interface Flowing {
  ref: ObjectRef<Block>;
  own: boolean;
}

export type BlockStream = AsyncIterable<Flowing>;

/** Done with `x`: released if it was handed over. */
export function drop(x: Flowing): void {
  if (x.own && !x.ref.released) x.ref.release();
}

/** Blocks a Dataset keeps, handed out without ownership. */
export async function* kept(refs: Promise<ObjectRef<Block>[]>): BlockStream {
  for (const ref of await refs) yield { ref, own: false };
}

/**
 * `s`, pulling up to `window` blocks ahead of the one handed on (so the
 * tasks making them run meanwhile), each handed on once it is ready.
 * Stopping early releases what was pulled ahead.
 */
export async function* windowed(s: BlockStream, window = DataContext.maxBlocksInFlight): BlockStream {
  const it = s[Symbol.asyncIterator]();
  const ahead: Flowing[] = [];
  let ended = false;
  try {
    for (;;) {
      while (!ended && ahead.length < Math.max(1, window)) {
        const n = await it.next();
        if (n.done) ended = true;
        else ahead.push(n.value);
      }
      const x = ahead.shift();
      if (!x) return;
      await wait([x.ref]);
      yield x;
    }
  } finally {
    ahead.forEach(drop);
    if (!ended) await it.return?.();
  }
}

/** The block `x` holds, copied out of the store; `x` is dropped. */
export async function take(x: Flowing): Promise<Block> {
  try {
    const b = (await get(x.ref)) as Block;
    numRows(b, 'a block');
    return b;
  } finally {
    drop(x);
  }
}

/** A block made in this process, put into the store for stage `stage` (timed from `t0`). */
export function putBlock(b: Block, stage: StageStats, t0 = performance.now()): Flowing {
  stage.submitted++;
  const ref = put(b);
  blockDone(stage, performance.now() - t0, numRows(b), blockBytes(b));
  return { ref, own: true };
}

/** Rows and bytes of block `r`, read in place in the store (a view, released at once: no copy). */
export async function measure(r: ObjectRef<Block>): Promise<{ rows: number; bytes: number }> {
  const view = await getView(r);
  try {
    return { rows: numRows(view.value, 'a block'), bytes: blockBytes(view.value) };
  } finally {
    view.release();
  }
}

/** Records block `r` of `stage` in its stats once ready (a failure shows to whoever consumes it). */
export function observe(stage: StageStats, r: ObjectRef<Block>, t0: number): void {
  stage.submitted++;
  measure(r).then((m) => blockDone(stage, performance.now() - t0, m.rows, m.bytes), () => blockFailed(stage));
}

/** The first `n` rows of `rows` (all of them by default); stops pulling once it has them. */
export async function firstRows<R>(rows: AsyncIterable<R>, n = Infinity): Promise<R[]> {
  const out: R[] = [];
  if (n <= 0) return out;
  for await (const r of rows) {
    out.push(r);
    if (out.length >= n) break;
  }
  return out;
}
