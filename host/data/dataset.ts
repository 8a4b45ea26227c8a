/**
 * A Dataset: blocks (host/data/block.ts) in the object store, transformed
 * by component functions run as tasks, one task per block. Eager by default,
 * as Ray Datasets were: each transform submits its tasks at once and the new
 * Dataset keeps their result refs. After `lazy()`, transforms only extend a
 * plan that runs when the Dataset is consumed (`take`, `iterBatches`,
 * `materialize`, ...): it streams (stream.ts), keeping at most
 * `DataContext.maxBlocksInFlight` blocks in flight per stage, and releases
 * the blocks between stages as soon as the next stage holds them (Ray's
 * block move semantics), so it can run over more data than the store holds.
 */
import { wait } from '../api/api.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { fusesChains, type RemoteFunction } from '../api/remote-function.js';
import type { Each } from '../core/specs.js';
import { ActorClass } from '../api/actor-handle.js';
import { actorPoolOp, isActorPool } from './actor-pool.js';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { concatBlocks, numRows, rowOf, schemaOf, sliceBlock, type Block, type Row } from '../abi/block.js';
import { formatStats, inputDone, newStage, type StageStats } from './stats.js';
import { DataContext } from './context.js';
import { wholeNumber } from './checks.js';
import { showProgress } from './progress.js';
import { firstRows, kept, measure, putBlock, take, windowed, drop, type BlockStream } from './stream.js';
import { runMap, stageName, stagesOf, type HostOp, type Input, type MapOp, type MapOptions, type Op } from './stages.js';
import { addColumnOp, limitOp, selectOp, unionStream, zipStream } from './transforms.js';
import { exchangeOp, repartitionOp, type SortOptions } from './all-to-all.js';
import { GroupedDataset } from './aggregate.js';
import { DatasetPipeline, type WindowSource } from './pipeline.js';
import { writeFiles, type WriteOptions } from './files/write.js';

/**
 * A read that runs as tasks, one per block: `fn` called with each of `args`
 * makes the block, or (`files`) each of `args` is a file part that the task
 * reads instead (host/files/part.ts); `args` may be found when the read runs.
 */
export interface ReadPlan { name: string; fn: () => Promise<RemoteFunction>; args: unknown[][] | (() => Promise<unknown[][]>); files?: boolean }

type From = { base: Dataset } | { blocks: ObjectRef<Block>[]; stage: StageStats } | { read: ReadPlan };

export class Dataset {
  /** Its blocks once its plan was submitted to the end (they may still be computing). */
  private refs: Promise<ObjectRef<Block>[]> | undefined;
  /** Its own stages (the ones its plan ran last), for `stats()`. */
  private readonly stages: StageStats[] = [];

  private constructor(
    /** Where its plan starts: a Dataset, blocks in the store, or a read. */
    private readonly from: From,
    /** The transforms to run on that. */
    private readonly ops: readonly Op[],
    /** Whether transforms on it are lazy. */
    readonly isLazy: boolean,
  ) {
    if ('blocks' in from) { this.refs = Promise.resolve(from.blocks); this.stages.push(from.stage); }
  }

  /** A Dataset of blocks already in the store (a source). */
  static fromRefs(blocks: ObjectRef<Block>[], stage: StageStats): Dataset {
    return new Dataset({ blocks, stage }, [], false);
  }

  /** A Dataset read when first needed: with eager transforms, the read runs with the first (Ray's semi-lazy reads). */
  static fromRead(from: { read: ReadPlan }): Dataset {
    return new Dataset(from, [], false);
  }

  /** Whether it is a read not run yet (which takes the next transform into its plan). */
  private get pendingRead(): boolean {
    return 'read' in this.from && !this.refs;
  }

  /** The same data, with later transforms lazy (a read not run yet stays in the plan, to fuse with them). */
  lazy(): Dataset {
    return this.pendingRead && !this.ops.length ? new Dataset(this.from, this.ops, true) : new Dataset({ base: this }, [], true);
  }

  /** The Dataset `op` makes of this one: planned when lazy, else submitted now (a failure shows when it is consumed). */
  private with(op: Op): Dataset {
    const extend = this.isLazy || (this.pendingRead && op.kind === 'map');
    const next = extend ? new Dataset(this.from, [...this.ops, op], this.isLazy) : new Dataset({ base: this }, [op], false);
    if (!next.isLazy) next.executed().catch(() => undefined);
    return next;
  }

  /**
   * Runs component function `fn` on every block: `fn` takes a block as a WIT
   * record of columns (`record batch { id: list<f64> }`) and returns the new
   * block. A filter is such a function returning fewer rows.
   */
  mapBatches(fn: RemoteFunction | ActorClass, opts: MapOptions & { batchSize?: number } = {}, name = 'map_batches'): Dataset {
    if (fn instanceof ActorClass) return this.with(actorPoolOp(fn, `${name}(${fn.name})`, opts));
    const { batchSize, ...rest } = opts;
    return this.mapOp(fn, rest, name, batchSize === undefined ? undefined : { batch: wholeNumber(batchSize, 1, 'batchSize') });
  }

  /** Runs component function `fn` on every row: it takes a row (a WIT record of one value per column) and returns the new row. */
  map(fn: RemoteFunction, opts: MapOptions = {}): Dataset {
    return this.mapOp(fn, opts, 'map', { rows: 'map' });
  }

  /** Runs component function `fn` on every row: it returns a list of rows (none, one or many) in its place. */
  flatMap(fn: RemoteFunction, opts: MapOptions = {}): Dataset {
    return this.mapOp(fn, opts, 'flat_map', { rows: 'flat' });
  }

  private mapOp(fn: RemoteFunction, opts: MapOptions, name: string, each: Each | undefined): Dataset {
    if (typeof (fn as { remote?: unknown })?.remote !== 'function') throw new InvalidArgumentError(`${name} takes a component function (mod.fn("name"))${name === 'map_batches' ? ' or an actor class (mod.actor("name"))' : ''}`);
    if (opts.compute !== undefined && opts.compute !== 'tasks') throw new InvalidArgumentError(`${name}: compute ${isActorPool(opts.compute) ? 'actorPool(...) needs an actor class' : `must be 'tasks' or actorPool(...), got ${String(opts.compute)}`}`);
    if (each && !fusesChains()) throw new RuntimeStateError(`${'batch' in each ? 'batchSize' : name} needs a runtime that runs chained tasks; use mapBatches on whole blocks`);
    const { compute: _c, ...taskOpts } = opts;
    return this.with({ kind: 'map', name: `${name}(${fn.name})`, fn, opts: taskOpts, ...(each ? { each } : {}) } satisfies MapOp);
  }

  /** `fn` keeps some rows of each block (it returns the rows kept). */
  filter(fn: RemoteFunction | ActorClass, opts: MapOptions = {}): Dataset {
    return this.mapBatches(fn, opts, 'filter');
  }

  /** Adds (or replaces) column `name`: component function `fn` takes each block and returns the column (`list<f64>`, `list<string>`, ...). */
  addColumn(name: string, fn: RemoteFunction, opts: MapOptions = {}): Dataset {
    return this.with(addColumnOp(name, fn, opts));
  }

  /** Only columns `names`, in that order. */
  select(names: readonly string[]): Dataset {
    return this.with(selectOp(names));
  }

  /** The first `n` rows (the plan stops pulling blocks once it has them). */
  limit(n: number): Dataset {
    return this.with(limitOp(n));
  }

  /** Its rows, then those of `others`, in order. */
  union(...others: Dataset[]): Dataset {
    return this.with({ kind: 'host', name: 'union', run: (input, stage) => unionStream([input, ...others.map((d) => d.stream())], stage) } satisfies HostOp);
  }

  /** Its columns and `other`'s side by side, row by row (a name both have gets `_1` on `other`'s side); both must have as many rows. */
  zip(other: Dataset): Dataset {
    return this.with({ kind: 'host', name: 'zip', run: (input, stage) => zipStream(input, other.iterBatches.bind(other), stage) } satisfies HostOp);
  }

  /** The same rows in `n` blocks of nearly equal rows, in order. */
  repartition(n: number): Dataset {
    return this.with(repartitionOp(n));
  }

  /** The rows in a random order (`seed`: the same order every run). */
  randomShuffle(o: { seed?: number } = {}): Dataset {
    return this.with(exchangeOp({ kind: 'shuffle', seed: o.seed }));
  }

  /** The rows ordered by column `key` (numbers, bigints or strings). */
  sort(key: string, o: SortOptions = {}): Dataset {
    return this.with(exchangeOp({ kind: 'sort', key, descending: !!o.descending }));
  }

  /** Rows grouped by column `key`, for `aggregate(...)`, `count()`, `sum(col)`, ... */
  groupBy(key: string): GroupedDataset<Dataset> {
    return new GroupedDataset(key, (op) => this.with(op));
  }

  /** Its blocks as a stream: those it keeps, or its plan run (again, for a lazy plan); `report`: show its progress (the plan a consumer runs, not one feeding another). */
  private stream(report = false): BlockStream {
    return this.refs ? kept(this.refs) : this.plan(report);
  }

  /** Runs its plan, recording its stages anew. */
  private plan(report: boolean): BlockStream {
    this.stages.length = 0;
    let input: AsyncIterable<Input>;
    let ops = this.ops;
    const f = this.from;
    if ('read' in f) {
      input = args(f.read.args);
      ops = [{ kind: 'map', name: f.read.name, fn: f.read.fn, opts: {}, spread: true, ...(f.read.files ? { readsFiles: true } : {}) }, ...ops];
    } else {
      input = (f as { base: Dataset }).base.stream();
    }
    for (const s of stagesOf(ops)) {
      const stage = newStage(stageName(s));
      this.stages.push(stage);
      input = Array.isArray(s) ? runMap(input, s, stage) : s.run(windowed(input as BlockStream), stage);
    }
    return this.counted(input as BlockStream, report ? showProgress(this.allStages(), DataContext.progressBars) : () => undefined);
  }

  /** `s`, noting how many blocks it made once it ends (for `numBlocks`); `stopped` is told when it ends. */
  private async *counted(s: BlockStream, stopped: (drained: boolean) => void): BlockStream {
    let n = 0;
    let drained = false;
    try {
      for await (const x of s) { n++; yield x; }
      drained = true;
      this.known = n;
    } finally {
      stopped(drained);
    }
  }

  /** Submits its whole plan (an eager Dataset), keeping every block. */
  private executed(): Promise<ObjectRef<Block>[]> {
    if (!this.refs) {
      const s = this.plan(true);
      this.refs = (async () => {
        const out: ObjectRef<Block>[] = [];
        for await (const x of s) out.push(x.ref);
        return out;
      })();
    }
    return this.refs;
  }

  /** Every stage that made it, in order. */
  private allStages(): StageStats[] {
    return 'base' in this.from ? [...this.from.base.allStages(), ...this.stages] : this.stages;
  }

  /** Runs the plan and waits for every block, keeping them (Ray's `fully_executed()`). */
  async materialize(): Promise<Dataset> {
    let refs: ObjectRef<Block>[];
    if (this.refs) {
      refs = await this.refs;
      if (refs.length) await wait(refs, { numReturns: refs.length });
    } else {
      refs = [];
      for await (const x of windowed(this.plan(true))) refs.push(x.ref);
    }
    const done = new Dataset({ base: this }, [], this.isLazy);
    done.refs = Promise.resolve(refs);
    done.known = refs.length;
    return done;
  }

  /** Blocks in order, each read once, then dropped. */
  private async *blocksInOrder(prefetch?: number): AsyncGenerator<Block> {
    for await (const x of windowed(this.stream(true), prefetch)) yield await take(x);
  }

  /** Batches of `batchSize` rows (the last may be short); default: as the blocks are. `prefetchBatches`: blocks read ahead. */
  async *iterBatches(o: { batchSize?: number; prefetchBatches?: number } = {}): AsyncGenerator<Block> {
    const size = o.batchSize === undefined ? undefined : wholeNumber(o.batchSize, 1, 'batchSize');
    let pending: Block[] = [];
    let have = 0;
    for await (const b of this.blocksInOrder(o.prefetchBatches === undefined ? undefined : o.prefetchBatches + 1)) {
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
  take(n = 20): Promise<Row[]> {
    return firstRows(this.iterRows(), n);
  }

  takeAll(): Promise<Row[]> {
    return firstRows(this.iterRows());
  }

  /** Its rows, counted in place in the store (no copy). */
  async count(): Promise<number> {
    let n = 0;
    for await (const x of windowed(this.stream(true))) {
      try { n += (await measure(x.ref)).rows; } finally { drop(x); }
    }
    return n;
  }

  /** Column names and types, from the first block. */
  async schema(): Promise<Record<string, string>> {
    for await (const b of this.blocksInOrder(1)) return schemaOf(b);
    return {};
  }

  /** How many blocks it has: those its last run made, else what its plan will make where that is known before it runs (undefined where not). */
  numBlocks(): number | undefined {
    if (this.known !== undefined) return this.known;
    if ('blocks' in this.from) return this.from.blocks.length;
    if (this.ops.some((o) => o.kind === 'host')) return undefined;
    const f = this.from;
    return 'base' in f ? f.base.numBlocks() : 'read' in f && Array.isArray(f.read.args) ? f.read.args.length : undefined;
  }

  /** How many blocks its last run made. */
  private known: number | undefined;

  /** `n` Datasets for `n` consumers, each with whole blocks and nearly equal rows (`equal`: exactly equal rows, the rest dropped, as Ray's `split(equal=True)`). */
  async split(n: number, o: { equal?: boolean } = {}): Promise<Dataset[]> {
    wholeNumber(n, 1, 'the parts of a split');
    const all = await this.materialize();
    const refs = await all.refs!;
    const rows = await Promise.all(refs.map(async (r) => (await measure(r)).rows));
    const total = rows.reduce((a, b) => a + b, 0);
    if (o.equal) {
      const each = Math.floor(total / n);
      return Array.from({ length: n }, (_, i) => all.limitRange(i * each, (i + 1) * each));
    }
    const parts: ObjectRef<Block>[][] = Array.from({ length: n }, () => []);
    let at = 0;
    refs.forEach((r, i) => { parts[Math.min(n - 1, Math.floor((at * n) / Math.max(1, total)))]!.push(r); at += rows[i]!; });
    return parts.map((p) => { const stage = newStage('split'); inputDone(stage); return Dataset.fromRefs(p, stage); });
  }

  /** Rows `from` .. `to` - 1 as a lazy plan over this Dataset's blocks. */
  private limitRange(from: number, to: number): Dataset {
    return new Dataset({ base: this }, [limitOp(to - from, from)], true);
  }

  /** Writes its blocks to directory `dir` as CSV files, one per block (`part-00000.csv`, ...); resolves to the paths written. */
  writeCsv(dir: string, o: WriteOptions = {}): Promise<string[]> {
    return writeFiles(this.iterBatches(), dir, 'csv', o);
  }

  /** Writes its blocks to directory `dir` as JSON Lines files, one per block (`part-00000.json`, ...). */
  writeJson(dir: string, o: WriteOptions = {}): Promise<string[]> {
    return writeFiles(this.iterBatches(), dir, 'json', o);
  }

  /** A pipeline over it, `blocksPerWindow` blocks at a time (Ray's `window`). */
  window(o: { blocksPerWindow?: number } = {}): DatasetPipeline<Dataset> {
    return new DatasetPipeline(this.windowSource(), wholeNumber(o.blocksPerWindow ?? 10, 1, 'blocksPerWindow'), 1);
  }

  /** A pipeline over it `times` times, each epoch its plan run again (a read re-reads), one window per epoch (Ray's `repeat`). */
  repeat(times: number): DatasetPipeline<Dataset> {
    return new DatasetPipeline(this.windowSource(), Number.MAX_SAFE_INTEGER, 1).repeat(times);
  }

  private windowSource(): WindowSource<Dataset> {
    return {
      stream: () => this.stream(true),
      over: (refs) => { const stage = newStage('window'); inputDone(stage); return Dataset.fromRefs(refs, stage); },
    };
  }

  /** Writes its blocks to directory `dir` as Parquet files, one per block (`part-00000.parquet`, ...). */
  writeParquet(dir: string, o: WriteOptions = {}): Promise<string[]> {
    return writeFiles(this.iterBatches(), dir, 'parquet', o);
  }

  /** What each stage did so far, in the format of Ray Datasets' `stats()`. */
  stats(): string {
    return formatStats(this.allStages());
  }
}

async function* args(list: ReadPlan['args']): AsyncIterable<Input> {
  for (const a of Array.isArray(list) ? list : await list()) yield { args: a };
}

/** Puts blocks into the store as a source stage named `name`. */
export function source(name: string, blocks: Block[]): Dataset {
  const stage = newStage(name);
  const refs = blocks.map((b) => putBlock(b, stage).ref);
  inputDone(stage);
  return Dataset.fromRefs(refs, stage);
}
