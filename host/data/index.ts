/**
 * `tsray.data`: Datasets of columnar blocks in the object store, transformed
 * by component functions run as tasks (see dataset.ts).
 *
 *   const ds = tsray.data.range(1000, { parallelism: 8 }).mapBatches(mod.fn('square'));
 *   console.log(await ds.take(3), ds.stats());
 */
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { blockFromItems, numRows, sliceBlock, type Block } from '../abi/block.js';
import { Dataset, source } from './dataset.js';
import { DataContext } from './context.js';
import { wholeNumber } from './checks.js';
import { load, type RemoteModule } from '../api/remote-module.js';
import type { RemoteFunction } from '../api/remote-function.js';
import { fileURLToPath } from 'node:url';
import { binaryParts, csvParts, jsonParts, parquetParts, textParts, type BinaryOptions, type CsvOptions, type JsonOptions, type TextOptions } from './files/read.js';
import type { ParquetOptions } from '../files/parquet.js';
import type { FilePart } from '../files/part.js';

export { DataContext };
export { actorPool, type ActorPoolStrategy } from './actor-pool.js';
export type { ProgressBars, StageProgress } from './progress.js';
export type { MapOptions } from './stages.js';
export { Dataset };
export { DatasetPipeline } from './pipeline.js';
export { GroupedDataset } from './aggregate.js';
export { aggregate, type AggregateFn } from './aggregate-fns.js';
export type { SortOptions } from './all-to-all.js';
export type { WriteOptions } from './files/write.js';
export type { BinaryOptions, ColumnType, CsvOptions, JsonOptions, TextOptions } from './files/read.js';
export type { PathOptions } from '../files/paths.js';
export type { ParquetOptions } from '../files/parquet.js';
export type { Block, Column, Row, Value } from '../abi/block.js';

/** How sources split their rows when not told (Ray's default parallelism, bounded by the rows). */
export const DEFAULT_PARALLELISM = 8;

export interface SourceOptions {
  /** How many blocks (default `DEFAULT_PARALLELISM`, at most one per row; more where blocks would pass `DataContext.targetMaxBlockSize`). */
  parallelism?: number;
}

function parallelism(o: SourceOptions, rows: number, bytes: number): number {
  const p = wholeNumber(o.parallelism ?? DEFAULT_PARALLELISM, 1, 'parallelism');
  return Math.max(1, Math.min(Math.max(p, Math.ceil(bytes / DataContext.targetMaxBlockSize)), rows));
}

/** `block` cut into `parts` blocks of nearly equal rows. */
function split(block: Block, parts: number): Block[] {
  const n = numRows(block, 'the data');
  const out: Block[] = [];
  for (let i = 0; i < parts; i++) out.push(sliceBlock(block, Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)));
  return out;
}

/** tsray's own read tasks (guest/builtin/sources.ts, built by `npm run build`), loaded once. */
let sources: Promise<RemoteModule> | undefined;
const SOURCES = new URL('../../builtin/sources.wasm', import.meta.url);

function sourceFn(name: string): () => Promise<RemoteFunction> {
  return async () => {
    sources ??= load(fileURLToPath(SOURCES)).catch((e: Error) => {
      sources = undefined;
      throw new RuntimeStateError(`tsray.data's read component is missing (${e.message}); run npm run build`);
    });
    return (await sources).fn(name);
  };
}

/** Rows 0 .. n-1 in one column `id` (f64), read by tasks (one per block, spread over the cluster) when first needed. */
export function range(n: number, o: SourceOptions = {}): Dataset {
  wholeNumber(n, 0, 'the rows of a range');
  const parts = parallelism(o, n, n * 8);
  const args = Array.from({ length: parts }, (_, i) => [Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
  return Dataset.fromRead({ read: { name: 'read', fn: sourceFn('range'), args } });
}

/** Rows from plain objects (numbers become f64 columns, bigints s64, strings string columns, Uint8Arrays binary). */
export function fromItems(items: readonly Record<string, unknown>[], o: SourceOptions = {}): Dataset {
  if (!Array.isArray(items)) throw new InvalidArgumentError('fromItems takes an array of objects');
  const b = blockFromItems(items);
  return source('from_items', split(b, parallelism(o, items.length, 0)));
}

/** Rows from columns: `{ x: Float64Array, name: string[] }`, all of one length. */
export function fromArrays(columns: Block, o: SourceOptions = {}): Dataset {
  return source('from_arrays', split(columns, parallelism(o, numRows(columns, 'fromArrays'), 0)));
}

/** A read of files: a task per part, each reading its part on the node it runs on (see files/read.ts). */
function readFiles(name: string, parts: () => Promise<FilePart[]>): Dataset {
  return Dataset.fromRead({ read: { name, fn: sourceFn('files'), args: async () => (await parts()).map((p) => [p]), files: true } });
}

/** Lines of text files (a path, a directory, or a list of them), in column `text`. */
export function readText(paths: string | string[], o: TextOptions = {}): Dataset {
  return readFiles('read_text', () => textParts(paths, o));
}

/** Whole files as one row each, in column `bytes` (and `path` with `includePaths`). */
export function readBinaryFiles(paths: string | string[], o: BinaryOptions = {}): Dataset {
  return readFiles('read_binary_files', () => binaryParts(paths, o));
}

/** CSV files with a header row: number columns as f64, the others as strings (see `CsvOptions`). */
export function readCsv(paths: string | string[], o: CsvOptions = {}): Dataset {
  return readFiles('read_csv', () => csvParts(paths, o));
}

/** Parquet files (a directory: its `.parquet` files), a block per row group; `columns` reads only those. */
export function readParquet(paths: string | string[], o: ParquetOptions = {}): Dataset {
  return readFiles('read_parquet', () => parquetParts(paths, o));
}

/** JSON Lines files: one object per line, its fields numbers, strings or booleans. */
export function readJson(paths: string | string[], o: JsonOptions = {}): Dataset {
  return readFiles('read_json', () => jsonParts(paths, o));
}
