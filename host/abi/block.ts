/**
 * A block of a Dataset: rows stored as columns, each a typed array (numbers,
 * bytes) or an array of strings, all of one length. A block crosses into a
 * guest as a WIT record of lists (`record batch { id: list<f64> }`) with no
 * per-row work, as Arrow's columnar layout does for Ray Datasets.
 */
import { InvalidArgumentError } from '../errors.js';

/** A column of numbers: its values side by side, as a guest's `list<f64>` (or `list<u8>`, ...) holds them. */
export type NumberColumn = Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array | BigInt64Array | BigUint64Array;
/** A column of strings (`list<string>`) or of byte strings (`list<list<u8>>`). */
export type ListColumn = string[] | Uint8Array[];
export type Column = NumberColumn | ListColumn;
export type Block = Record<string, Column>;
/** One value of a column. */
export type Value = number | bigint | string | Uint8Array;
/** One row: a value per column. */
export type Row = Record<string, Value>;

const isColumn = (c: unknown): c is Column =>
  (ArrayBuffer.isView(c) && !(c instanceof DataView)) ||
  (Array.isArray(c) && (c.every((x) => typeof x === 'string') || c.every((x) => x instanceof Uint8Array)));

/** The rows of `b`, checking it is a block (columns of one length); `what` names it in errors. */
export function numRows(b: unknown, what = 'a block'): number {
  if (b === null || typeof b !== 'object' || Array.isArray(b) || ArrayBuffer.isView(b)) throw new InvalidArgumentError(`${what} must be a record of columns, got ${Array.isArray(b) ? 'an array' : typeof b}`);
  let n: number | undefined;
  for (const [name, c] of Object.entries(b)) {
    if (!isColumn(c)) throw new InvalidArgumentError(`${what}: column '${name}' must be a typed array or an array of strings`);
    if (n !== undefined && c.length !== n) throw new InvalidArgumentError(`${what}: column '${name}' has ${c.length} rows, the others ${n}`);
    n = c.length;
  }
  return n ?? 0;
}

/** Rows `from` .. `to` - 1 of `b` (typed arrays as views, no copy). */
export function sliceBlock(b: Block, from: number, to: number): Block {
  const out: Block = {};
  for (const [k, c] of Object.entries(b)) out[k] = Array.isArray(c) ? c.slice(from, to) : (c.subarray(from, to) as Column);
  return out;
}

/** The blocks end to end, as one (their columns must match). */
export function concatBlocks(blocks: readonly Block[]): Block {
  if (blocks.length === 1) return blocks[0]!;
  const names = Object.keys(blocks[0] ?? {});
  const out: Block = {};
  for (const k of names) {
    const parts = blocks.map((b, i) => {
      const c = b[k];
      if (c === undefined) throw new InvalidArgumentError(`block ${i} has no column '${k}'`);
      return c;
    });
    if (Array.isArray(parts[0])) { out[k] = (parts as string[][]).flat(); continue; }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const Ctor = (parts[0] as NumberColumn).constructor as new (n: number) => NumberColumn;
    const col = new Ctor(total);
    if (parts.some((p) => Array.isArray(p) || p.constructor !== Ctor)) throw new InvalidArgumentError(`column '${k}' has different types in different blocks`);
    let at = 0;
    for (const p of parts) { (col as { set(a: ArrayLike<unknown>, o: number): void }).set(p as ArrayLike<unknown>, at); at += p.length; }
    out[k] = col;
  }
  return out;
}

/** Row `i` of `b` as an object. */
export function rowOf(b: Block, i: number): Row {
  const r: Row = {};
  for (const [k, c] of Object.entries(b)) r[k] = c[i]!;
  return r;
}

/** A column's type, as `schema()` shows it: `float64`, `int32`, ..., `string`, `binary`. */
export function typeOf(c: Column): string {
  if (Array.isArray(c)) return c[0] instanceof Uint8Array ? 'binary' : 'string';
  return c.constructor.name.replace('Array', '').toLowerCase();
}

/** Column types, as `schema()` shows them. */
export function schemaOf(b: Block): Record<string, string> {
  return Object.fromEntries(Object.entries(b).map(([k, c]) => [k, typeOf(c)]));
}

/** About how many bytes `b` takes (the data of its columns), to hold blocks near `DataContext.targetMaxBlockSize`. */
export function blockBytes(b: Block): number {
  let n = 0;
  for (const c of Object.values(b)) {
    if (!Array.isArray(c)) n += c.byteLength;
    else for (const x of c) n += (typeof x === 'string' ? x.length : x.byteLength) + 8;
  }
  return n;
}

/** A block of the rows of `b` whose index `keep` says, in that order. */
export function pickRows(b: Block, keep: ArrayLike<number>): Block {
  const out: Block = {};
  for (const [k, c] of Object.entries(b)) {
    if (Array.isArray(c)) out[k] = Array.from(keep, (i) => c[i]!) as Column;
    else {
      const col = new (c.constructor as new (n: number) => NumberColumn)(keep.length);
      for (let j = 0; j < keep.length; j++) col[j] = c[keep[j]!]!;
      out[k] = col;
    }
  }
  return out;
}

/** A block from rows of plain objects: numbers become f64 columns, strings string columns, bigints s64. */
export function blockFromItems(items: readonly Record<string, unknown>[]): Block {
  const names = Object.keys(items[0] ?? {});
  const out: Block = {};
  for (const k of names) {
    const first = items[0]![k];
    if (typeof first === 'number') out[k] = Float64Array.from(items, (r, i) => { const v = r[k]; if (typeof v !== 'number') throw new InvalidArgumentError(`item ${i}: '${k}' must be a number like the first item's`); return v; });
    else if (typeof first === 'string') out[k] = items.map((r, i) => { const v = r[k]; if (typeof v !== 'string') throw new InvalidArgumentError(`item ${i}: '${k}' must be a string like the first item's`); return v; });
    else if (typeof first === 'bigint') out[k] = BigInt64Array.from(items, (r, i) => { const v = r[k]; if (typeof v !== 'bigint') throw new InvalidArgumentError(`item ${i}: '${k}' must be a bigint like the first item's`); return v; });
    else if (first instanceof Uint8Array) out[k] = items.map((r, i) => { const v = r[k]; if (!(v instanceof Uint8Array)) throw new InvalidArgumentError(`item ${i}: '${k}' must be a Uint8Array like the first item's`); return v; });
    else throw new InvalidArgumentError(`item 0: '${k}' must be a number, bigint, string or Uint8Array, got ${first === null ? 'null' : typeof first}`);
  }
  return out;
}
