/**
 * Dataset pipelines (Ray's `DatasetPipeline`): a Dataset consumed a window
 * of blocks at a time (`ds.window({ blocksPerWindow })`), and over several
 * epochs (`repeat(n)`). A window's blocks are read only when the consumer
 * reaches it, its transforms run lazily (fused, with move semantics, as
 * pipelines always are in Ray) and its blocks are released once consumed,
 * so a pipeline holds about one window at a time. Each epoch runs the
 * Dataset's plan again: a pipeline made right after a read re-reads its
 * source per epoch; one over kept blocks reuses them.
 */
import type { ObjectRef } from '../../store/object-ref.js';
import { InvalidArgumentError } from '../errors.js';
import type { Block, Row } from '../abi/block.js';
import { drop, firstRows, type BlockStream, type Flowing } from './stream.js';
import { wholeNumber } from './checks.js';

/** What a pipeline does with a window: a Dataset's methods (so this file need not import it). */
export interface PipelineDataset<D> {
  lazy(): D;
  mapBatches(...a: never[]): D;
  filter(...a: never[]): D;
  addColumn(...a: never[]): D;
  select(...a: never[]): D;
  randomShuffle(o?: { seed?: number }): D;
  iterBatches(o?: { batchSize?: number; prefetchBatches?: number }): AsyncGenerator<Block>;
  iterRows(): AsyncGenerator<Row>;
  count(): Promise<number>;
}

/** What a pipeline needs of its Dataset (the Dataset hands these over; they are not for users). */
export interface WindowSource<D> {
  /** The Dataset's blocks, its plan run again (or the blocks it keeps). */
  stream(): BlockStream;
  /** A Dataset of blocks already submitted. */
  over(refs: ObjectRef<Block>[]): D;
}

/** `D`: the Dataset type. */
export class DatasetPipeline<D extends PipelineDataset<D>> {
  /** @internal */
  constructor(
    private readonly source: WindowSource<D>,
    private readonly blocksPerWindow: number,
    private readonly epochs: number,
    private readonly perWindow: readonly ((ds: D) => D)[] = [],
  ) {}

  /** The same windows with `f` applied to each (lazily). */
  foreachWindow(f: (ds: D) => D): DatasetPipeline<D> {
    if (typeof f !== 'function') throw new InvalidArgumentError('foreachWindow takes a function of a Dataset');
    return new DatasetPipeline(this.source, this.blocksPerWindow, this.epochs, [...this.perWindow, f]);
  }

  mapBatches(...a: Parameters<D['mapBatches']>): DatasetPipeline<D> { return this.foreachWindow((ds) => ds.mapBatches(...a)); }
  filter(...a: Parameters<D['filter']>): DatasetPipeline<D> { return this.foreachWindow((ds) => ds.filter(...a)); }
  addColumn(...a: Parameters<D['addColumn']>): DatasetPipeline<D> { return this.foreachWindow((ds) => ds.addColumn(...a)); }
  select(...a: Parameters<D['select']>): DatasetPipeline<D> { return this.foreachWindow((ds) => ds.select(...a)); }
  randomShuffleEachWindow(o: { seed?: number } = {}): DatasetPipeline<D> { return this.foreachWindow((ds) => ds.randomShuffle(o)); }

  /** The pipeline `times` times over (each epoch runs the plan again). */
  repeat(times: number): DatasetPipeline<D> {
    return new DatasetPipeline(this.source, this.blocksPerWindow, this.epochs * wholeNumber(times, 1, 'the epochs of repeat'), this.perWindow);
  }

  /** The windows of one epoch, each a lazy Dataset with this pipeline's transforms; its blocks are released when the next is asked for. */
  private async *windowsOfEpoch(): AsyncGenerator<D> {
    const it = this.source.stream()[Symbol.asyncIterator]();
    let held: Flowing[] = [];
    try {
      for (;;) {
        held.forEach(drop);
        held = [];
        while (held.length < this.blocksPerWindow) {
          const n = await it.next();
          if (n.done) break;
          held.push(n.value);
        }
        if (!held.length) return;
        yield this.perWindow.reduce((ds, f) => f(ds), this.source.over(held.map((x) => x.ref)).lazy());
      }
    } finally {
      held.forEach(drop);
      await it.return?.();
    }
  }

  /** Each epoch as a pipeline of its own windows (Ray's `iter_epochs`). */
  async *iterEpochs(): AsyncGenerator<AsyncIterable<D>> {
    for (let e = 0; e < this.epochs; e++) yield this.windowsOfEpoch();
  }

  /** Every window of every epoch, in order. */
  async *iterWindows(): AsyncGenerator<D> {
    for await (const epoch of this.iterEpochs()) yield* epoch;
  }

  async *iterBatches(o: Parameters<D['iterBatches']>[0] = {}): AsyncGenerator<Block> {
    for await (const w of this.iterWindows()) yield* w.iterBatches(o);
  }

  async *iterRows(): AsyncGenerator<Row> {
    for await (const w of this.iterWindows()) yield* w.iterRows();
  }

  take(n = 20): Promise<Row[]> { return firstRows(this.iterRows(), n); }
  takeAll(): Promise<Row[]> { return firstRows(this.iterRows()); }

  async count(): Promise<number> {
    let n = 0;
    for await (const w of this.iterWindows()) n += await w.count();
    return n;
  }
}
