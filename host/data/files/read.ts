/**
 * File reads as tasks: the files a read covers cut into parts (host/files/part.ts),
 * one read task each, spread over the cluster as Ray spreads read tasks.
 * Text and JSON Lines are cut at about `DataContext.targetMaxBlockSize` bytes
 * (a task reads the lines that start in its part); CSV by whole files,
 * unless `newlinesInValues: false` lets it be cut the same way (a quoted
 * line break would otherwise split a row, as in Arrow's CSV reader); Parquet
 * by row group; binary files in groups of about that size. CSV and JSON
 * column names and types are fixed here from the start of the first file
 * (or given), so every block has one schema.
 */
import { stat } from 'node:fs/promises';
import { InvalidArgumentError } from '../../errors.js';
import { checkColumnTypes, inferTypes, type ColumnType } from '../../files/columns.js';
import { CsvParser } from '../../files/csv.js';
import { linesOfPart } from '../../files/lines.js';
import { parquetGroups, type ParquetOptions } from '../../files/parquet.js';
import type { FilePart } from '../../files/part.js';
import { filesOf, type PathOptions } from '../../files/paths.js';
import { DataContext } from '../context.js';

export type { ColumnType };

export interface TextOptions extends PathOptions {
  /** Leave out empty lines (default true, as Ray's `read_text`). */
  dropEmptyLines?: boolean;
}

export interface BinaryOptions extends PathOptions {
  /** Add column `path` with each file's path. */
  includePaths?: boolean;
}

export interface CsvOptions extends PathOptions {
  delimiter?: string;
  /** Types of some columns; the others are `number` where every value at the start of the first file is one, else `string`. */
  columnTypes?: Record<string, ColumnType>;
  /**
   * Whether quoted values may hold line breaks (default true: each file is
   * read whole by one task). `false` lets a large file be read by several
   * tasks, cut at line starts.
   */
  newlinesInValues?: boolean;
}

export interface JsonOptions extends PathOptions {
  /** Types of some fields; the others take the type of their first value. */
  columnTypes?: Record<string, ColumnType>;
}

/** How much of the first file sets CSV and JSON column types. */
const SAMPLE_BYTES = 1 << 20;

const blockBytes = (): number => Math.max(1, DataContext.targetMaxBlockSize);

/** Each file cut into byte ranges of about a block's size (an empty file: none). */
async function ranges(paths: string | readonly string[], o: PathOptions, whole = false): Promise<{ path: string; start: number; end: number }[]> {
  const out: { path: string; start: number; end: number }[] = [];
  for (const path of await filesOf(paths, o)) {
    const { size } = await stat(path);
    // Parts of equal size, about a block each: no sliver of a part at a file's end.
    const n = whole ? 1 : Math.max(1, Math.round(size / blockBytes()));
    const step = Math.ceil(size / n);
    for (let start = 0; start < size; start += step) out.push({ path, start, end: start + step >= size ? Infinity : start + step });
  }
  return out;
}

/** The lines that start in the first `SAMPLE_BYTES` of `path` (whole: the part reader finishes the last). */
const sampleLines = (path: string): string[] => linesOfPart(path, 0, SAMPLE_BYTES).lines;

export async function textParts(paths: string | readonly string[], o: TextOptions = {}): Promise<FilePart[]> {
  return (await ranges(paths, o)).map((r) => ({ format: 'text', ...r, dropEmptyLines: o.dropEmptyLines !== false }));
}

export async function binaryParts(paths: string | readonly string[], o: BinaryOptions = {}): Promise<FilePart[]> {
  const out: FilePart[] = [];
  let group: string[] = [];
  let size = 0;
  const cut = (): void => { out.push({ format: 'binary', paths: group, includePaths: !!o.includePaths }); group = []; size = 0; };
  for (const path of await filesOf(paths, o)) {
    group.push(path);
    size += (await stat(path)).size;
    if (size >= blockBytes()) cut();
  }
  if (group.length) cut();
  return out;
}

export async function csvParts(paths: string | readonly string[], o: CsvOptions = {}): Promise<FilePart[]> {
  const delimiter = o.delimiter ?? ',';
  const given = checkColumnTypes(o.columnTypes);
  const p = new CsvParser(delimiter); // checks the delimiter here, not in every task
  const rs = await ranges(paths, o, o.newlinesInValues !== false);
  if (!rs.length) return [];
  const sample = sampleLines(rs[0]!.path);
  const [header, ...rows] = p.push(sample.map((l) => `${l}\n`).join(''));
  const types = header ? inferTypes(header, rows.filter((r) => r.length === header.length), given) : given;
  return rs.map((r) => ({ format: 'csv', ...r, delimiter, types }));
}

export async function jsonParts(paths: string | readonly string[], o: JsonOptions = {}): Promise<FilePart[]> {
  const given = checkColumnTypes(o.columnTypes);
  const rs = await ranges(paths, o);
  if (!rs.length) return [];
  const objects: Record<string, unknown>[] = [];
  for (const l of sampleLines(rs[0]!.path)) {
    if (!l.trim()) continue;
    try {
      const v = JSON.parse(l) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) break;
      objects.push(v as Record<string, unknown>);
    } catch {
      break; // the task that reads this line reports it, with where it is
    }
  }
  const names = Object.keys(objects[0] ?? {});
  const types = inferTypes(names, objects.map((v) => names.map((k) => v[k] ?? null)), given);
  return rs.map((r) => ({ format: 'json', ...r, names, types }));
}

export async function parquetParts(paths: string | readonly string[], o: ParquetOptions = {}): Promise<FilePart[]> {
  if (o.columns !== undefined && (!Array.isArray(o.columns) || !o.columns.every((c) => typeof c === 'string' && c))) throw new InvalidArgumentError('columns takes a list of column names');
  const out: FilePart[] = [];
  for (const path of await filesOf(paths, { fileExtensions: ['parquet'], ...o })) {
    const { names, groups } = await parquetGroups(path, o.columns);
    groups.forEach((g, group) => out.push({ format: 'parquet', path, ...g, group, columns: names }));
  }
  return out;
}
