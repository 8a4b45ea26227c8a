/**
 * Transforms that keep the order of rows and run in this process over the
 * blocks flowing by: column selection, `addColumn` (its column made by a
 * component task per block), `limit`, `union` and `zip`.
 */
import { get } from '../api/api.js';
import type { RemoteFunction } from '../api/remote-function.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { InvalidArgumentError, TaskError } from '../errors.js';
import { concatBlocks, numRows, sliceBlock, type Block, type Column } from '../abi/block.js';
import { DataContext } from './context.js';
import { wholeNumber } from './checks.js';
import type { HostOp, MapOptions } from './stages.js';
import { inputDone, passedOn, type StageStats } from './stats.js';
import { drop, measure, putBlock, take, type BlockStream, type Flowing } from './stream.js';

/** A host op that makes a new block of each block, in order. */
function eachBlock(name: string, f: (b: Block) => Block): HostOp {
  return {
    kind: 'host',
    name,
    async *run(input, stage) {
      for await (const x of input) {
        const t0 = performance.now();
        yield putBlock(f(await take(x)), stage, t0);
      }
      inputDone(stage);
    },
  };
}

export function selectOp(names: readonly string[]): HostOp {
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) throw new InvalidArgumentError('select takes a list of column names');
  return eachBlock(`select(${names.join(',')})`, (b) => {
    const out: Block = {};
    for (const n of names) {
      const c = b[n];
      if (c === undefined) throw new InvalidArgumentError(`select: there is no column '${n}' (columns: ${Object.keys(b).join(', ')})`);
      out[n] = c;
    }
    return out;
  });
}

/** Rows `skip` .. `skip + n` - 1; it stops pulling blocks once it has them. */
export function limitOp(n: number, skip = 0): HostOp {
  wholeNumber(n, 0, 'limit');
  return {
    kind: 'host',
    name: `limit(${n})`,
    async *run(input, stage) {
      let at = 0;
      const end = skip + n;
      for await (const x of input) {
        if (at >= end) { drop(x); break; }
        const t0 = performance.now();
        const { rows } = await measure(x.ref);
        const from = Math.max(0, skip - at);
        const to = Math.min(rows, end - at);
        at += rows;
        if (from === 0 && to === rows) { passedOn(stage, rows); yield x; continue; }
        if (to <= from) { drop(x); continue; }
        yield putBlock(sliceBlock(await take(x), from, to), stage, t0);
      }
      inputDone(stage);
    },
  };
}

/**
 * Column `name` made by `fn` (a task per block, returning the column), set
 * on each block here. Tasks run up to `DataContext.maxBlocksInFlight` ahead.
 */
export function addColumnOp(name: string, fn: RemoteFunction, opts: MapOptions): HostOp {
  if (typeof name !== 'string' || !name) throw new InvalidArgumentError('addColumn needs a column name');
  if (typeof (fn as { remote?: unknown })?.remote !== 'function') throw new InvalidArgumentError('addColumn takes a component function: mod.fn("name")');
  const { fnArgs = [], ...taskOpts } = opts;
  const f = Object.keys(taskOpts).length ? fn.options(taskOpts) : fn;
  return {
    kind: 'host',
    name: `add_column(${name})`,
    async *run(input, stage) {
      const ahead: { x: Flowing; col: ObjectRef; t0: number }[] = [];
      const finish = async (a: (typeof ahead)[number]) => {
        try {
          const col = await get(a.col);
          const b = await take(a.x);
          if (!isColumnOf(col, numRows(b))) throw new TaskError(fn.name, `addColumn: ${fn.name} must return a list of ${numRows(b)} values (one per row), got ${describe(col)}`);
          return putBlock({ ...b, [name]: col }, stage, a.t0);
        } finally {
          a.col.release();
        }
      };
      try {
        for await (const x of input) {
          ahead.push({ x, col: f.remote(x.ref, ...fnArgs) as ObjectRef, t0: performance.now() });
          if (ahead.length >= DataContext.maxBlocksInFlight) yield await finish(ahead.shift()!);
        }
        while (ahead.length) yield await finish(ahead.shift()!);
        inputDone(stage);
      } finally {
        for (const a of ahead) { drop(a.x); a.col.release(); }
      }
    },
  };
}

function isColumnOf(c: unknown, rows: number): c is Column {
  try { return numRows({ c } as Block, 'a column') === rows; } catch { return false; }
}

const describe = (c: unknown): string =>
  Array.isArray(c) || ArrayBuffer.isView(c) ? `${(c as ArrayLike<unknown>).length} values` : typeof c;

/** The streams one after another. */
export async function* unionStream(streams: BlockStream[], stage: StageStats): BlockStream {
  for (const s of streams) {
    for await (const x of s) {
      passedOn(stage, (await measure(x.ref)).rows);
      yield x;
    }
  }
  inputDone(stage);
}

/** Each block of `left` with as many rows of `right` beside it. */
export async function* zipStream(left: BlockStream, right: () => AsyncIterable<Block>, stage: StageStats): BlockStream {
  const it = right()[Symbol.asyncIterator]();
  let spare: Block | undefined;
  let spareRows = 0;
  try {
    for await (const x of left) {
      const t0 = performance.now();
      const l = await take(x);
      const want = numRows(l);
      const parts: Block[] = spare ? [spare] : [];
      let have = spareRows;
      while (have < want) {
        const n = await it.next();
        if (n.done) throw new InvalidArgumentError(`zip: the other Dataset has fewer rows (${have} left for a block of ${want})`);
        parts.push(n.value);
        have += numRows(n.value);
      }
      const r = parts.length ? concatBlocks(parts) : {};
      spare = have > want ? sliceBlock(r, want, have) : undefined;
      spareRows = have - want;
      const out: Block = { ...l };
      for (const [k, c] of Object.entries(have ? sliceBlock(r, 0, want) : {})) out[k in l ? `${k}_1` : k] = c;
      yield putBlock(out, stage, t0);
    }
    if (spareRows || !(await it.next()).done) throw new InvalidArgumentError('zip: the other Dataset has more rows');
    inputDone(stage);
  } finally {
    await it.return?.();
  }
}
