/**
 * Reads of local files, block by block as a plan pulls them: text lines,
 * whole files as bytes, CSV and JSON Lines. Each file is read in chunks and
 * cut into blocks of about `DataContext.targetMaxBlockSize` bytes; column
 * types are taken from the first block and hold for the whole read, so a
 * value that does not fit is a typed error naming its file and row.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../../errors.js';
import type { Block } from '../../abi/block.js';
import { DataContext } from '../context.js';
import { CsvParser } from './csv.js';
import { lineGroups, textChunks } from './lines.js';
import { filesOf, type PathOptions } from './paths.js';

export interface TextOptions extends PathOptions {
  /** Leave out empty lines (default true, as Ray's `read_text`). */
  dropEmptyLines?: boolean;
}

export interface BinaryOptions extends PathOptions {
  /** Add column `path` with each file's path. */
  includePaths?: boolean;
}

/** What a CSV or JSON column holds: `number` (f64, empty as NaN), `string`, or `bool` (u8 0 or 1). */
export type ColumnType = 'number' | 'string' | 'bool';

export interface CsvOptions extends PathOptions {
  delimiter?: string;
  /** Types of some columns; the others are `number` where every value of the first block is one, else `string`. */
  columnTypes?: Record<string, ColumnType>;
}

export interface JsonOptions extends PathOptions {
  /** Types of some fields; the others take the type of their first value. */
  columnTypes?: Record<string, ColumnType>;
}

const blockBytes = (): number => Math.max(1, DataContext.targetMaxBlockSize);

export async function* textBlocks(paths: string | readonly string[], o: TextOptions = {}): AsyncGenerator<Block> {
  for (const path of await filesOf(paths, o)) {
    for await (const { lines } of lineGroups(path, blockBytes())) {
      const text = o.dropEmptyLines === false ? lines : lines.filter((l) => l !== '');
      if (text.length) yield { text };
    }
  }
}

export async function* binaryBlocks(paths: string | readonly string[], o: BinaryOptions = {}): AsyncGenerator<Block> {
  let bytes: Uint8Array[] = [];
  let names: string[] = [];
  let size = 0;
  const block = (): Block => (o.includePaths ? { bytes, path: names } : { bytes });
  for (const path of await filesOf(paths, o)) {
    const b = await readFile(path);
    bytes.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    names.push(path);
    size += b.byteLength;
    if (size >= blockBytes()) { yield block(); bytes = []; names = []; size = 0; }
  }
  if (bytes.length) yield block();
}

/** Typed columns filled row by row, their types fixed by the first rows seen (or given). */
class Columns {
  private types: Record<string, ColumnType> | undefined;
  constructor(private readonly given: Record<string, ColumnType> = {}) {
    for (const [k, t] of Object.entries(given)) if (!['number', 'string', 'bool'].includes(t)) throw new InvalidArgumentError(`columnTypes.${k} must be 'number', 'string' or 'bool', got ${String(t)}`);
  }

  /** A block of `rows` (values by column name); `where(i)` names row i in errors. */
  block(names: readonly string[], rows: readonly (readonly unknown[])[], where: (i: number) => string): Block {
    this.types ??= Object.fromEntries(names.map((k, j) => [k, this.given[k] ?? infer(rows.map((r) => r[j]))]));
    const out: Block = {};
    names.forEach((k, j) => {
      const t = this.types![k];
      if (t === undefined) throw new InvalidArgumentError(`${where(0)}: column '${k}' is not in the first block's columns (${Object.keys(this.types!).join(', ')})`);
      const bad = (i: number): never => { throw new InvalidArgumentError(`${where(i)}: column '${k}' holds ${t === 'number' ? 'numbers' : t === 'bool' ? 'booleans' : 'strings'}, got ${JSON.stringify(rows[i]![j])} (set columnTypes.${k} to read it otherwise)`); };
      if (t === 'string') out[k] = rows.map((r, i) => { const v = r[j]; return typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : bad(i); });
      else if (t === 'bool') out[k] = Uint8Array.from(rows, (r, i) => { const v = r[j]; return v === true || v === 'true' ? 1 : v === false || v === 'false' || v === null || v === '' ? 0 : bad(i); });
      else out[k] = Float64Array.from(rows, (r, i) => toNumber(r[j]) ?? bad(i));
    });
    return out;
  }
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === null || v === undefined || v === '') return NaN;
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  return Number.isNaN(n) && v.trim() !== 'NaN' ? undefined : n;
}

function infer(values: unknown[]): ColumnType {
  if (values.some((v) => typeof v === 'boolean')) return 'bool';
  return values.every((v) => toNumber(v) !== undefined) ? 'number' : 'string';
}

export async function* csvBlocks(paths: string | readonly string[], o: CsvOptions = {}): AsyncGenerator<Block> {
  const cols = new Columns(o.columnTypes);
  for (const path of await filesOf(paths, o)) {
    const p = new CsvParser(o.delimiter ?? ',');
    let header: string[] | undefined;
    let rows: string[][] = [];
    let first = 1;
    let cut = blockBytes();
    const flush = (): Block => {
      const b = cols.block(header!, rows, (i) => `${path} row ${first + i}`);
      first += rows.length;
      rows = [];
      return b;
    };
    const take = (got: string[][]): void => {
      for (const r of got) {
        if (!header) { header = r; continue; }
        if (r.length !== header.length) throw new InvalidArgumentError(`${path} row ${first + rows.length}: ${r.length} fields, the header has ${header.length}`);
        rows.push(r);
      }
    };
    for await (const chunk of textChunks(path, blockBytes())) {
      take(p.push(chunk));
      if (p.consumed >= cut && rows.length) { yield flush(); cut = p.consumed + blockBytes(); }
    }
    const end = p.end();
    if (end.openQuote) throw new InvalidArgumentError(`${path}: a quoted field is not closed at the end of the file`);
    take(end.rows);
    if (rows.length) yield flush();
  }
}

export async function* jsonBlocks(paths: string | readonly string[], o: JsonOptions = {}): AsyncGenerator<Block> {
  const cols = new Columns(o.columnTypes);
  let names: string[] | undefined;
  for (const path of await filesOf(paths, o)) {
    for await (const { lines, first } of lineGroups(path, blockBytes())) {
      const rows: unknown[][] = [];
      const at: number[] = [];
      lines.forEach((l, i) => {
        if (!l.trim()) return;
        let v: unknown;
        try { v = JSON.parse(l); } catch (e) { throw new InvalidArgumentError(`${path} line ${first + i}: not JSON (${(e as Error).message}); read_json takes one object per line`); }
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`${path} line ${first + i}: each line must be a JSON object`);
        names ??= Object.keys(v);
        for (const [k, x] of Object.entries(v)) if (x !== null && typeof x === 'object') throw new InvalidArgumentError(`${path} line ${first + i}: field '${k}' is nested; fields must be numbers, strings or booleans`);
        rows.push(names.map((k) => (v as Record<string, unknown>)[k] ?? null));
        at.push(first + i);
      });
      if (rows.length) yield cols.block(names!, rows, (i) => `${path} line ${at[i]}`);
    }
  }
}
