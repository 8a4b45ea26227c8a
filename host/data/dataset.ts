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

/** A read that runs as tasks, one per block: `fn` (loaded when first needed) called with each of `args` makes the block. */
export interface ReadPlan { name: string; fn: () => Promise<RemoteFunction>; args: unknown[][] }

/** Settings of every Dataset in this process (Ray's `DatasetContext`). */
export const DataContext = {
  /** Lazy plans run consecutive transforms with the same task options as one task per block. */
  optimizeFuseStages: true,
};

/** What a stage's tasks start from: a block already in the store, or the arguments of a read. */
type Input = { ref: ObjectRef<Block> } | { args: unknown[] };

export class Dataset {
  /** Its blocks once its plan was submitted (they may still be computing). */
  private refs: Promise<ObjectRef<Block>[]> | undefined;
  /** Its own stages (the ones its plan ran), for `stats()`. */
  private readonly stages: StageStats[] = [];

  private constructor(
    /** Where its plan starts: a Dataset, blocks in the store, or a read. */
    private readonly from: { base: Dataset } | { blocks: ObjectRef<Block>[]; stage: StageStats } | { read: ReadPlan },
    /** The transforms to run on that. */
    private readonly ops: readonly MapOp[],
    /** Whether transforms on it are lazy. */
    readonly isLazy: boolean,
  ) {
    if ('blocks' in from) { this.refs = Promise.resolve(from.blocks); this.stages.push(from.stage); }
  }

  /** A Dataset of blocks already in the store (a source). */
  static fromRefs(blocks: ObjectRef<Block>[], stage: StageStats): Dataset {
    return new Dataset({ blocks, stage }, [], false);
  }

  /** A Dataset read by tasks when first needed: with eager transforms, the read fuses with the first (Ray's semi-lazy reads). */
  static fromRead(read: ReadPlan): Dataset {
    return new Dataset({ read }, [], false);
  }

  /** The same data, with later transforms lazy (a read not run yet stays in the plan, to fuse with them). */
  lazy(): Dataset {
    return 'read' in this.from && !this.refs ? new Dataset(this.from, this.ops, true) : new Dataset({ base: this }, [], true);
  }

  /**
   * Runs component function `fn` on every block: `fn` takes a block as a WIT
   * record of columns (`record batch { id: list<f64> }`) and returns the new
   * block. A filter is such a function returning fewer rows.
   */
  mapBatches(fn: RemoteFunction, opts: MapOptions = {}, name = 'map_batches'): Dataset {
    if (typeof (fn as { remote?: unknown })?.remote !== 'function') throw new InvalidArgumentError('mapBatches takes a component function: mod.fn("name")');
    const op: MapOp = { name: `${name}(${fn.name})`, fn, opts };
    // A read not run yet takes the transform into its plan (so they may fuse); so does a lazy plan.
    const pendingRead = 'read' in this.from && !this.refs;
    const next = this.isLazy || pendingRead ? new Dataset(this.from, [...this.ops, op], this.isLazy) : new Dataset({ base: this }, [op], false);
    // Eager: its tasks go now; a failure shows when it is consumed.
    if (!next.isLazy) next.executed().catch(() => undefined);
    return next;
  }

  /** `fn` keeps some rows of each block (it returns the rows kept). */
  filter(fn: RemoteFunction, opts: MapOptions = {}): Dataset {
    return this.mapBatches(fn, opts, 'filter');
  }

  /**
   * The block refs, submitting the plan first: consecutive transforms with
   * the same task options (a read included) run fused, one task per block
   * for the lot (Ray's stage fusion), where the backend runs fused tasks and
   * `DataContext.optimizeFuseStages` is on.
   */
  private executed(): Promise<ObjectRef<Block>[]> {
    this.refs ??= (async () => {
      let inputs: Input[];
      let ops = this.ops;
      if ('read' in this.from) {
        const { read } = this.from;
        inputs = read.args.map((args) => ({ args }));
        ops = [{ name: read.name, fn: await read.fn(), opts: {} }, ...ops];
      } else {
        inputs = (await (this.from as { base: Dataset }).base.executed()).map((ref) => ({ ref }));
      }
      let refs: ObjectRef<Block>[] = [];
      fuse(ops).forEach((group, i) => {
        // Blocks between stages are released once the next stage's tasks hold them.
        const [next, stage] = run(inputs, group, i > 0);
        this.stages.push(stage);
        refs = next;
        inputs = next.map((ref) => ({ ref }));
      });
      return ops.length ? refs : inputs.map((x) => (x as { ref: ObjectRef<Block> }).ref);
    })();
    return this.refs;
  }

  /** Every stage that made it, in order. */
  private allStages(): StageStats[] {
    return 'base' in this.from ? [...this.from.base.allStages(), ...this.stages] : this.stages;
  }

  /** Runs the plan and waits for every block (Ray's `fully_executed()`). */
  async materialize(): Promise<Dataset> {
    const refs = await this.executed();
    if (refs.length) await wait(refs, { numReturns: refs.length });
    const done = new Dataset({ base: this }, [], this.isLazy);
    done.refs = Promise.resolve(refs);
    return done;
  }

  /** Blocks in order, each read once, then dropped (`prefetch` read ahead). */
  private async *blocksInOrder(prefetch = 1): AsyncGenerator<Block> {
    const refs = await this.executed();
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
    for (const r of await this.executed()) n += await rowsInPlace(r);
    return n;
  }

  /** Column names and types, from the first block. */
  async schema(): Promise<Record<string, string>> {
    for await (const b of this.blocksInOrder(0)) return schemaOf(b);
    return {};
  }

  /** How many blocks it has (every transform keeps the count). */
  numBlocks(): number {
    const f = this.from;
    return 'base' in f ? f.base.numBlocks() : 'read' in f ? f.read.args.length : f.blocks.length;
  }

  /** What each stage did so far, in the format of Ray Datasets' `stats()`. */
  stats(): string {
    return formatStats(this.allStages());
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
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
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

/** Submits a stage's tasks, one per input (its ops fused in each); `move`: input refs are released once submitted. */
function run(inputs: Input[], ops: MapOp[], move: boolean): [ObjectRef<Block>[], StageStats] {
  const stage = newStage(ops.map((o) => o.name).join('->'), inputs.length);
  const [first, ...rest] = ops as [MapOp, ...MapOp[]];
  const { fnArgs = [], ...taskOpts } = first.opts;
  const fn = Object.keys(taskOpts).length ? first.fn.options(taskOpts) : first.fn;
  const then = rest.map((o) => ({ fn: o.fn, args: o.opts.fnArgs ?? [] }));
  const out = inputs.map((input) => {
    const t0 = performance.now();
    const args = 'ref' in input ? [input.ref, ...fnArgs] : input.args;
    const r = (then.length ? fn.remoteChain(then, ...args) : fn.remote(...args)) as ObjectRef<Block>;
    if (move && 'ref' in input) input.ref.release();
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
