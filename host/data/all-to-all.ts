/**
 * All-to-all stages: every output block may take rows of every input block,
 * so each waits for its whole input. `randomShuffle`, `sort` and `groupBy`
 * run as an exchange: each input block is cut into one piece per output
 * (put into the store, so an exchange over more data than the store spills
 * like any object), then each output is made of its pieces. `sort` and
 * `groupBy` cut by key ranges drawn from a sample of every block, so equal
 * keys meet in one output and the outputs come in key order, as in Ray.
 * They run in this process, reading one block at a time.
 */
import { get, getView, put } from '../api/api.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { InvalidArgumentError } from '../errors.js';
import { concatBlocks, numRows, pickRows, sliceBlock, type Block, type Value } from '../abi/block.js';
import { compare, keyColumn, sortedRows } from './order.js';
import type { HostOp } from './stages.js';
import { inputDone, type StageStats } from './stats.js';
import { drop, measure, putBlock, take, type BlockStream, type Flowing } from './stream.js';
import { seeded } from './random.js';
import { wholeNumber } from './checks.js';
import { groupRows, type AggregateFn } from './aggregate-fns.js';

export interface SortOptions {
  /** Largest first. */
  descending?: boolean;
}

export type Exchange =
  | { kind: 'shuffle'; seed?: number }
  | { kind: 'sort'; key: string; descending: boolean }
  | { kind: 'group'; key: string; aggs: readonly AggregateFn[] };

const opName = (e: Exchange): string =>
  e.kind === 'shuffle' ? 'random_shuffle' : e.kind === 'sort' ? `sort(${e.key})` : `aggregate(${e.key}: ${e.aggs.map((a) => a.name).join(', ')})`;

export function exchangeOp(e: Exchange): HostOp {
  if (e.kind === 'shuffle' && e.seed !== undefined && !Number.isSafeInteger(e.seed)) throw new InvalidArgumentError(`seed must be a whole number, got ${e.seed}`);
  if (e.kind !== 'shuffle' && (typeof e.key !== 'string' || !e.key)) throw new InvalidArgumentError(`${e.kind === 'sort' ? 'sort' : 'groupBy'} needs a column name`);
  return { kind: 'host', name: opName(e), run: (input, stage) => exchange(input, stage, e) };
}

const SAMPLES_PER_BLOCK = 32;

/** `n` - 1 keys cutting the rows of `ins` into `n` ranges of about equal rows, from a sample of each block read in place. */
async function rangeBounds(ins: Flowing[], key: string, n: number): Promise<Value[]> {
  const sample: Value[] = [];
  for (const x of ins) {
    const view = await getView(x.ref);
    try {
      if (numRows(view.value) === 0) continue;
      const c = keyColumn(view.value, key);
      const k = Math.min(c.length, SAMPLES_PER_BLOCK);
      for (let i = 0; i < k; i++) sample.push(c[Math.floor(((i + 0.5) * c.length) / k)]!);
    } finally {
      view.release();
    }
  }
  sample.sort(compare);
  return Array.from({ length: n - 1 }, (_, i) => sample[Math.floor(((i + 1) * sample.length) / n)]!).filter((v) => v !== undefined);
}

/** The range of `v` among `bounds`: how many bounds are <= it. */
function rangeOf(bounds: readonly Value[], v: Value): number {
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(bounds[mid]!, v) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

async function* exchange(input: BlockStream, stage: StageStats, e: Exchange): BlockStream {
  const ins: Flowing[] = [];
  const pieces: ObjectRef<Block>[][] = [];
  try {
    for await (const x of input) ins.push(x);
    const n = Math.max(1, ins.length);
    const bounds = e.kind === 'shuffle' ? [] : await rangeBounds(ins, e.key, n);
    const seed = e.kind === 'shuffle' ? (e.seed ?? Math.floor(Math.random() * 2 ** 31)) : 0;
    for (let j = 0; j < n; j++) pieces.push([]);
    // Map side: each block cut into a piece per output.
    for (let i = 0; ins.length; i++) {
      const b = await take(ins.shift()!);
      const rows = numRows(b);
      if (rows === 0) continue;
      const part = new Int32Array(rows);
      if (e.kind === 'shuffle') {
        const rand = seeded(seed, i);
        for (let r = 0; r < rows; r++) part[r] = Math.floor(rand() * n);
      } else {
        const c = keyColumn(b, e.key);
        for (let r = 0; r < rows; r++) {
          const p = rangeOf(bounds, c[r]!);
          part[r] = e.kind === 'sort' && e.descending ? n - 1 - p : p;
        }
      }
      const members: number[][] = Array.from({ length: n }, () => []);
      for (let r = 0; r < rows; r++) members[part[r]!]!.push(r);
      members.forEach((m, j) => { if (m.length) pieces[j]!.push(put(m.length === rows ? b : pickRows(b, m))); });
    }
    // Reduce side: each output made of its pieces, in order.
    for (let j = 0; j < n; j++) {
      const t0 = performance.now();
      const got = pieces[j]!.length ? ((await get(pieces[j]!)) as Block[]) : [];
      pieces[j]!.forEach((r) => r.release());
      pieces[j] = [];
      if (!got.length) continue;
      let b = concatBlocks(got);
      if (e.kind === 'shuffle') b = pickRows(b, shuffled(numRows(b), seeded(seed, n + j)));
      else if (e.kind === 'sort') b = pickRows(b, sortedRows(b, e.key, e.descending));
      else b = groupRows(b, e.key, e.aggs);
      yield putBlock(b, stage, t0);
    }
    inputDone(stage);
  } finally {
    ins.forEach(drop);
    pieces.flat().forEach((r) => r.release());
  }
}

/** 0 .. n-1 in a random order (Fisher-Yates). */
function shuffled(n: number, rand: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = idx[i]!; idx[i] = idx[j]!; idx[j] = t;
  }
  return idx;
}

/** The same rows in `n` blocks of nearly equal rows, in order (Ray's `repartition(n, shuffle=False)`). */
export function repartitionOp(n: number): HostOp {
  wholeNumber(n, 1, 'the blocks of a repartition');
  return {
    kind: 'host',
    name: `repartition(${n})`,
    async *run(input, stage) {
      const ins: Flowing[] = [];
      try {
        for await (const x of input) ins.push(x);
        const rows = await Promise.all(ins.map(async (x) => (await measure(x.ref)).rows));
        const total = rows.reduce((a, b) => a + b, 0);
        let out: Block[] = [];
        let have = 0;
        let j = 0;
        let t0 = performance.now();
        const quota = (k: number) => Math.floor(((k + 1) * total) / n) - Math.floor((k * total) / n);
        let template: Block = {};
        while (ins.length) {
          const b = await take(ins.shift()!);
          const len = numRows(b);
          template = sliceBlock(b, 0, 0);
          let at = 0;
          while (at < len) {
            if (quota(j) === 0) { yield putBlock(template, stage, t0); j++; continue; }
            const take = Math.min(len - at, quota(j) - have);
            out.push(sliceBlock(b, at, at + take));
            at += take;
            have += take;
            if (have === quota(j)) { yield putBlock(concatBlocks(out), stage, t0); out = []; have = 0; j++; t0 = performance.now(); }
          }
        }
        // Outputs with no rows (more blocks asked than rows): empty blocks of the same columns.
        for (; j < n; j++) yield putBlock(template, stage, t0);
        inputDone(stage);
      } finally {
        ins.forEach(drop);
      }
    },
  };
}
