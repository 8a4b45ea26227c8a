/** The order of a column's values, shared by `sort` and `groupBy`. */
import { InvalidArgumentError } from '../errors.js';
import type { Block, Column, Value } from '../abi/block.js';

/** Orders values of one column: numbers, bigints and strings; NaN last. */
export function compare(a: Value, b: Value): number {
  if (a !== a) return b !== b ? 0 : 1;
  if (b !== b) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Column `key` of `b`, which must exist and have an order. */
export function keyColumn(b: Block, key: string): ArrayLike<Value> {
  const c: Column | undefined = b[key];
  if (c === undefined) throw new InvalidArgumentError(`there is no column '${key}' (columns: ${Object.keys(b).join(', ')})`);
  if (Array.isArray(c) && c[0] instanceof Uint8Array) throw new InvalidArgumentError(`column '${key}' holds bytes, which have no order`);
  return c as ArrayLike<Value>;
}

/** Row indices of `b` ordered by column `key` (stable). */
export function sortedRows(b: Block, key: string, descending = false): Int32Array {
  const c = keyColumn(b, key);
  const idx = Int32Array.from({ length: c.length }, (_, i) => i);
  const sign = descending ? -1 : 1;
  return idx.sort((i, j) => sign * compare(c[i]!, c[j]!) || i - j);
}
