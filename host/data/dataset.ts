/**
 * A Dataset: blocks (host/data/block.ts) in the object store, transformed
 * by component functions run as tasks, one task per block. Eager by default,
 * as Ray Datasets were: each transform submits its tasks at once and the new
 * Dataset holds their result refs. After `lazy()`, transforms only extend a
 * plan that runs when the Dataset is consumed (`take`, `iterBatches`,
 * `materialize`, ...), and the blocks between stages are released as soon as
 * the next stage's tasks hold them (Ray's block move semantics).
 */
import { get, getView, put, wait } from '../api/api.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { fusesChains, type RemoteFunction } from '../api/remote-function.js';
import type { TaskOptions } from '../core/options.js';
import { InvalidArgumentError } from '../errors.js';
import { concatBlocks, numRows, rowOf, schemaOf, sliceBlock, type Block, type Row } from './block.js';
import { blockDone, formatStats, newStage, type StageStats } from './stats.js';

/** Options of a map-like transform: the task options of its function's tasks, and arguments after the block (Ray's `fn_args`). */
export type MapOptions = Pick<TaskOptions, 'numCpus' | 'numGpus' | 'resources' | 'memory' | 'maxRetries'> & { fnArgs?: unknown[] };

interface MapOp { name: string; fn: RemoteFunction; opts: MapOptions }

/** Settings of every Dataset in this process (Ray's `DatasetContext`). */
export const DataContext = {
  /** Lazy plans run consecutive transforms with the same task options as one task per block. */
  optimizeFuseStages: true,
};

export class Dataset {
  private constructor(
    /** The blocks, when executed (they may still be computing); undefined while a lazy plan is pending. */
    private blocks: ObjectRef<Block>[] | undefined,
    /** Lazy: the Dataset the plan starts from, and the transforms to run on it. */
    private readonly base: Dataset | undefined,
    private readonly ops: readonly MapOp[],
    /** Whether transforms on it are lazy. */
    readonly isLazy: boolean,
    /** What the stages that made it did, in order. */
    private readonly history: StageStats[],
  ) {}

  /** A Dataset of blocks already in the store (a source). */
  static fromRefs(blocks: ObjectRef<Block>[], stage: StageStats): Dataset {
    return new Dataset(blocks, undefined, [], false, [stage]);
  }

  /** The same data, with later transforms lazy. */
  lazy(): Dataset {
    return new Dataset(this.blocks, this.base, this.ops, true, [...this.history]);
  }

  /**
   * Runs component function `fn` on every block: `fn` takes a block as a WIT
   * record of columns (`record batch { id: list<f64> }`) and returns the new
   * block. A filter is such a function returning fewer rows.
   */
  mapBatches(fn: RemoteFunction, opts: MapOptions = {}, name = 'map_batches'): Dataset {
    if (typeof (fn as { remote?: unknown })?.remote !== 'function') throw new InvalidArgumentError('mapBatches takes a component function: mod.fn("name")');
    const op: MapOp = { name: `${name}(${fn.name})`, fn, opts };
    if (this.isLazy) return new Dataset(undefined, this.base ?? this, [...this.ops, op], true, [...this.history]);
    const [refs, stage] = run(this.executed(), [op], false);
    return new Dataset(refs, undefined, [], false, [...this.history, stage]);
  }

  /** `fn` keeps some rows of each block (it returns the rows kept). */
  filter(fn: RemoteFunction, opts: MapOptions = {}): Dataset {
    return this.mapBatches(fn, opts, 'filter');
  }

  /**
   * The block refs, running the pending plan first: consecutive transforms
   * with the same task options run fused, one task per block for the lot
   * (Ray's stage fusion), where the backend runs fused tasks and
   * `DataContext.optimizeFuseStages` is on.
   */
  private executed(): ObjectRef<Block>[] {
    if (this.blocks) return this.blocks;
    let refs = this.base!.executed();
    fuse(this.ops).forEach((group, i) => {
      // Blocks between stages are released once the next stage's tasks hold them.
      const [next, stage] = run(refs, group, i > 0);
      this.history.push(stage);
      refs = next;
    });
    this.blocks = refs;
    return refs;
  }

  /** Runs the plan and waits for every block (Ray's `fully_executed()`). */
  async materialize(): Promise<Dataset> {
    const refs = this.executed();
    if (refs.length) await wait(refs, { numReturns: refs.length });
    return new Dataset(refs, undefined, [], this.isLazy, this.history);
  }

  /** Blocks in order, each read once, then dropped (`prefetch` read ahead). */
  private async *blocksInOrder(prefetch = 1): AsyncGenerator<Block> {
    const refs = this.executed();
    const ahead: Promise<Block>[] = [];
    for (let i = 0; i < refs.length || ahead.length; i++) {
      while (ahead.length <= prefetch && i + ahead.length < refs.length) ahead.push(get(refs[i + ahead.length]!) as Promise<Block>);
      if (ahead.length === 0) return;
      const b = await ahead.shift()!;
      numRows(b, `block ${i}`);
      yield b;
    }
  }

  /** Batches of `batchSize` rows (the last may be short); default: as the blocks are. */
  async *iterBatches(o: { batchSize?: number; prefetchBatches?: number } = {}): AsyncGenerator<Block> {
    const size = o.batchSize;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 1)) throw new InvalidArgumentError(`batchSize must be a whole number >= 1, got ${size}`);
    let pending: Block[] = [];
    let have = 0;
    for await (const b of this.blocksInOrder(o.prefetchBatches ?? 1)) {
      if (size === undefined) { if (numRows(b)) yield b; continue; }
      pending.push(b);
      have += numRows(b);
      while (have >= size) {
        const all = concatBlocks(pending);
        yield sliceBlock(all, 0, size);
        const rest = sliceBlock(all, size, have);
        have -= size;
        pending = have ? [rest] : [];
      }
    }
    if (have) yield concatBlocks(pending);
  }

  async *iterRows(): AsyncGenerator<Row> {
    for await (const b of this.blocksInOrder()) {
      const n = numRows(b);
      for (let i = 0; i < n; i++) yield rowOf(b, i);
    }
  }

  /** The first `n` rows. */
  async take(n = 20): Promise<Row[]> {
    const out: Row[] = [];
    if (n <= 0) return out;
    for await (const r of this.iterRows()) {
      out.push(r);
      if (out.length >= n) break;
    }
    return out;
  }

  async takeAll(): Promise<Row[]> {
    const out: Row[] = [];
    for await (const r of this.iterRows()) out.push(r);
    return out;
  }

  async count(): Promise<number> {
    let n = 0;
    for (const r of this.executed()) n += await rowsInPlace(r);
    return n;
  }

  /** Column names and types, from the first block. */
  async schema(): Promise<Record<string, string>> {
    for await (const b of this.blocksInOrder(0)) return schemaOf(b);
    return {};
  }

  /** How many blocks it has (running a pending plan). */
  numBlocks(): number {
    return this.executed().length;
  }

  /** What each stage did, in the format of Ray Datasets' `stats()`. */
  stats(): string {
    return formatStats(this.history);
  }
}

/** The rows of block `r`, read in place in the store (a view, released at once: no copy). */
async function rowsInPlace(r: ObjectRef<Block>): Promise<number> {
  const view = await getView(r);
  try {
    return numRows(view.value, 'a block');
  } finally {
    view.release();
  }
}

/** What may change how a transform runs: stages fuse only when it is the same (Ray's same compute and resources). */
const taskKey = (o: MapOptions): string => {
  const { fnArgs: _args, ...rest } = o;
  return JSON.stringify(rest, Object.keys(rest).sort());
};

/** `ops` in runs of fusable transforms (each op alone when fusion is off or not run here). */
function fuse(ops: readonly MapOp[]): MapOp[][] {
  if (!DataContext.optimizeFuseStages || !fusesChains()) return ops.map((op) => [op]);
  const groups: MapOp[][] = [];
  for (const op of ops) {
    const last = groups.at(-1);
    if (last && taskKey(last[0]!.opts) === taskKey(op.opts)) last.push(op);
    else groups.push([op]);
  }
  return groups;
}

/** Submits a stage's tasks, one per block (its ops fused in each); `move`: the input refs are released once submitted. */
function run(inputs: ObjectRef<Block>[], ops: MapOp[], move: boolean): [ObjectRef<Block>[], StageStats] {
  const stage = newStage(ops.map((o) => o.name).join('->'), inputs.length);
  const [first, ...rest] = ops as [MapOp, ...MapOp[]];
  const { fnArgs = [], ...taskOpts } = first.opts;
  const fn = Object.keys(taskOpts).length ? first.fn.options(taskOpts) : first.fn;
  const then = rest.map((o) => ({ fn: o.fn, args: o.opts.fnArgs ?? [] }));
  const out = inputs.map((b) => {
    const t0 = performance.now();
    const r = (then.length ? fn.remoteChain(then, b, ...fnArgs) : fn.remote(b, ...fnArgs)) as ObjectRef<Block>;
    if (move) b.release();
    // Timed and counted in place (no copy) as each block is ready; a failure shows at the consumer.
    rowsInPlace(r).then((n) => blockDone(stage, performance.now() - t0, n), () => undefined);
    return r;
  });
  return [out, stage];
}

/** Puts blocks into the store as a source stage named `name`. */
export function source(name: string, blocks: Block[]): Dataset {
  const stage = newStage(name, blocks.length);
  const refs = blocks.map((b) => {
    const t0 = performance.now();
    const r = put(b);
    blockDone(stage, performance.now() - t0, numRows(b));
    return r;
  });
  return Dataset.fromRefs(refs, stage);
}
