/**
 * `tsray.data`: Datasets of columnar blocks in the object store, transformed
 * by component functions run as tasks (see dataset.ts).
 *
 *   const ds = tsray.data.range(1000, { parallelism: 8 }).mapBatches(mod.fn('square'));
 *   console.log(await ds.take(3), ds.stats());
 */
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { blockFromItems, numRows, sliceBlock, type Block } from './block.js';
import { Dataset, source } from './dataset.js';
import { load, type RemoteModule } from '../api/remote-module.js';
import type { RemoteFunction } from '../api/remote-function.js';
import { fileURLToPath } from 'node:url';

export { DataContext, type MapOptions } from './dataset.js';
export { Dataset };
export type { Block, Column, Row } from './block.js';

/** How sources split their rows when not told (Ray's default parallelism, bounded by the rows). */
export const DEFAULT_PARALLELISM = 8;

export interface SourceOptions {
  /** How many blocks (default `DEFAULT_PARALLELISM`, at most one per row). */
  parallelism?: number;
}

function parallelism(o: SourceOptions, rows: number): number {
  const p = o.parallelism ?? DEFAULT_PARALLELISM;
  if (!Number.isSafeInteger(p) || p < 1) throw new InvalidArgumentError(`parallelism must be a whole number >= 1, got ${p}`);
  return Math.max(1, Math.min(p, rows));
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

/** Rows 0 .. n-1 in one column `id` (f64), read by tasks (one per block) when first needed. */
export function range(n: number, o: SourceOptions = {}): Dataset {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`range needs a whole number of rows >= 0, got ${n}`);
  const parts = parallelism(o, n);
  const args = Array.from({ length: parts }, (_, i) => [Math.floor((i * n) / parts), Math.floor(((i + 1) * n) / parts)]);
  return Dataset.fromRead({ name: 'read', fn: sourceFn('range'), args });
}

/** Rows from plain objects (numbers become f64 columns, bigints s64, strings string columns). */
export function fromItems(items: readonly Record<string, unknown>[], o: SourceOptions = {}): Dataset {
  if (!Array.isArray(items)) throw new InvalidArgumentError('fromItems takes an array of objects');
  return source('from_items', split(blockFromItems(items), parallelism(o, items.length)));
}

/** Rows from columns: `{ x: Float64Array, name: string[] }`, all of one length. */
export function fromArrays(columns: Block, o: SourceOptions = {}): Dataset {
  return source('from_arrays', split(columns, parallelism(o, numRows(columns, 'fromArrays'))));
}
