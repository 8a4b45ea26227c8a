/**
 * A file part: what one read task reads (tsray.data's file sources). The
 * driver cuts files into parts (text and JSON Lines at any byte offsets, CSV
 * by whole files unless told its values hold no line breaks, Parquet by row
 * group, binary files in groups) and fixes CSV and JSON column types first;
 * a worker reads a part into one block. Parts cross the cluster wire, so
 * `isFilePart` checks one from a peer, and a node reads only under the data
 * roots it was started with (`openUnder`).
 */
import { closeSync, constants, existsSync, openSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { sep } from 'node:path';
import { InvalidArgumentError, NotGivenError } from '../errors.js';
import type { Block } from '../abi/block.js';
import { COLUMN_TYPES, typedBlock, type ColumnType } from './columns.js';
import { CsvParser } from './csv.js';
import { linesOfPart, textOfPart } from './lines.js';
import { parquetPart } from './parquet.js';

/** Bytes [start, end) of a text file: the lines that start there. */
interface Range { path: string; start: number; end: number }

export type FilePart =
  | ({ format: 'text'; dropEmptyLines: boolean } & Range)
  | ({ format: 'json'; names: string[]; types: Record<string, ColumnType> } & Range)
  | ({ format: 'csv'; delimiter: string; types: Record<string, ColumnType> } & Range)
  | { format: 'binary'; paths: string[]; includePaths: boolean }
  | { format: 'parquet'; path: string; rowStart: number; rowEnd: number; group: number; columns: string[] };

/** Most files one binary part or columns one part may name. */
export const MAX_PART_ITEMS = 100_000;

const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 4096 && !v.includes('\0');
const offset = (v: unknown): boolean => typeof v === 'number' && (Number.isSafeInteger(v) || v === Infinity) && v >= 0;
const strings = (v: unknown, nonEmpty = true): boolean => Array.isArray(v) && v.length <= MAX_PART_ITEMS && v.every((x) => typeof x === 'string' && x.length <= 4096 && (!nonEmpty || x.length > 0));
const types = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length <= MAX_PART_ITEMS && Object.values(v).every((t) => COLUMN_TYPES.includes(t as ColumnType));
const range = (p: Record<string, unknown>): boolean => str(p.path) && offset(p.start) && offset(p.end);

/** Whether `v` is a well-formed part (from a peer: nothing else is trusted). */
export function isFilePart(v: unknown): v is FilePart {
  if (v === null || typeof v !== 'object') return false;
  const p = v as Record<string, unknown>;
  switch (p.format) {
    case 'text': return range(p) && typeof p.dropEmptyLines === 'boolean';
    case 'json': return range(p) && strings(p.names, false) && types(p.types);
    case 'csv': return range(p) && typeof p.delimiter === 'string' && p.delimiter.length === 1 && types(p.types);
    case 'binary': return strings(p.paths) && (p.paths as string[]).every(str) && typeof p.includePaths === 'boolean';
    case 'parquet': return str(p.path) && offset(p.rowStart) && offset(p.rowEnd) && Number.isSafeInteger(p.group) && strings(p.columns);
    default: return false;
  }
}

/** The files a part reads. */
export function pathsOf(p: FilePart): string[] {
  return p.format === 'binary' ? p.paths : [p.path];
}

/** A file opened for reading: read it at `at` (the file that was opened, whatever its name points to by then), then `close()`. */
export interface OpenedFile { at: string; close(): void }

/** Where this process's open files can be opened again as themselves (Linux); elsewhere files are read by their real path. */
const FD_DIR = existsSync('/proc/self/fd') ? '/proc/self/fd' : undefined;

/**
 * Opens `path` if the file it opens (symbolic links resolved) lies under one
 * of `roots`; else throws `NotGivenError`. It judges the file it opened, not
 * the name: a link swapped inside a root between the check and the read
 * cannot turn the read to a file outside (on Linux, where the open file is
 * read again through /proc/self/fd). A FIFO does not block the open.
 * `undefined` roots: anywhere, read by name (the embedded node, which runs
 * in the driver's own process).
 */
export function openUnder(path: string, roots: readonly string[] | undefined): OpenedFile {
  if (roots === undefined) return { at: path, close: () => undefined };
  if (roots.length === 0) throw new NotGivenError('this node reads no files: start it with --data-root DIR to let read tasks read files under DIR');
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new InvalidArgumentError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  try {
    const real = FD_DIR ? readlinkSync(`${FD_DIR}/${fd}`) : realpathSync(path);
    if (!roots.some((r) => real === r || real.startsWith(r.endsWith(sep) ? r : r + sep))) {
      throw new NotGivenError(`${path} is outside this node's data roots (${roots.join(', ')}): start the node with --data-root covering it`);
    }
    return { at: FD_DIR ? `${FD_DIR}/${fd}` : real, close: () => closeSync(fd) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** `roots` as real paths, each an existing directory (`InvalidArgumentError` otherwise). */
export function dataRootsOf(roots: unknown): string[] {
  if (!Array.isArray(roots) || !roots.every((r) => typeof r === 'string' && r)) throw new InvalidArgumentError('dataRoots takes a list of directories');
  return roots.map((r: string) => {
    let real: string;
    try {
      real = realpathSync(r);
    } catch {
      throw new InvalidArgumentError(`data root ${r} does not exist`);
    }
    if (!statSync(real).isDirectory()) throw new InvalidArgumentError(`data root ${r} is not a directory`);
    return real;
  });
}

/** Where row `i` of a part is, for errors: a row number from the file's start, or from the part's first byte. */
const place = (path: string, begin: number, what: string, first: number) => (i: number): string =>
  begin === 0 ? `${path} ${what} ${first + i}` : `${path} ${what} ${i + 1} after byte ${begin}`;

/** Part `p`, read from `file` (the file opened for it). */
function csvPart(p: Extract<FilePart, { format: 'csv' }>, file: string): Block {
  const header = new CsvParser(p.delimiter).push(`${linesOfPart(file, 0, 1).lines[0] ?? ''}\n`)[0];
  if (!header) throw new InvalidArgumentError(`${p.path}: no header row`);
  const { text, begin } = textOfPart(file, p.start, p.end);
  const parser = new CsvParser(p.delimiter);
  const got = parser.push(text);
  const end = parser.end();
  if (end.openQuote) throw new InvalidArgumentError(`${p.path}: a quoted field is not closed at the end of the ${begin === 0 && p.end === Infinity ? 'file' : 'part'}`);
  const rows = [...got, ...end.rows];
  if (begin === 0) rows.shift();
  const where = place(p.path, begin, 'row', 1);
  rows.forEach((r, i) => { if (r.length !== header.length) throw new InvalidArgumentError(`${where(i)}: ${r.length} fields, the header has ${header.length}`); });
  return typedBlock(header, rows, p.types, where);
}

/** Part `p`, read from `file` (the file opened for it). */
function jsonPart(p: Extract<FilePart, { format: 'json' }>, file: string): Block {
  const { lines, begin } = linesOfPart(file, p.start, p.end);
  const where = place(p.path, begin, 'line', 1);
  const rows: unknown[][] = [];
  const at: number[] = [];
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    let v: unknown;
    try { v = JSON.parse(l); } catch (e) { throw new InvalidArgumentError(`${where(i)}: not JSON (${(e as Error).message}); read_json takes one object per line`); }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`${where(i)}: each line must be a JSON object`);
    for (const [k, x] of Object.entries(v)) if (x !== null && typeof x === 'object') throw new InvalidArgumentError(`${where(i)}: field '${k}' is nested; fields must be numbers, strings or booleans`);
    rows.push(p.names.map((k) => (v as Record<string, unknown>)[k] ?? null));
    at.push(i);
  });
  return typedBlock(p.names, rows, p.types, (i) => where(at[i] ?? 0));
}

/** Reads part `p` into one block, only under `roots` (see `openUnder`). */
export async function readPart(p: FilePart, roots: readonly string[] | undefined): Promise<Block> {
  const opened: OpenedFile[] = [];
  try {
    for (const path of pathsOf(p)) opened.push(openUnder(path, roots));
    return await readOpened(p, opened);
  } finally {
    for (const f of opened) f.close();
  }
}

/** Reads part `p` from its files as `opened` (in `pathsOf` order). */
async function readOpened(p: FilePart, opened: OpenedFile[]): Promise<Block> {
  const at = opened[0]?.at ?? '';
  switch (p.format) {
    case 'text': {
      const { lines } = linesOfPart(at, p.start, p.end);
      return { text: p.dropEmptyLines ? lines.filter((l) => l !== '') : lines };
    }
    case 'csv': return csvPart(p, at);
    case 'json': return jsonPart(p, at);
    case 'binary': {
      const bytes = opened.map((f) => { const b = readFileSync(f.at); return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); });
      return p.includePaths ? { bytes, path: p.paths } : { bytes };
    }
    case 'parquet': return parquetPart(at, p.rowStart, p.rowEnd, p.group, p.columns, p.path);
  }
}
