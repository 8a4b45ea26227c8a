/**
 * Writes of a Dataset to local files, one per block (`part-00000.csv`,
 * ...), as CSV (with a header), JSON Lines or Parquet, read back by
 * `readCsv`, `readJson` and `readParquet`. An existing file is not overwritten unless asked.
 */
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { numRows, type Block } from '../../abi/block.js';
import { csvField } from '../../files/csv.js';
import { writeParquetFile } from '../../files/parquet.js';

export interface WriteOptions {
  /** Replace files of the same names (default: an existing file is an error). */
  overwrite?: boolean;
}

/** Rows of text at a time, so a large block is never one string. */
const ROWS_PER_WRITE = 4096;

function cell(v: unknown, col: string): string | number | boolean {
  if (v instanceof Uint8Array) throw new InvalidArgumentError(`column '${col}' holds bytes, which CSV and JSON files do not`);
  return typeof v === 'bigint' ? v.toString() : (v as string | number);
}

function csvLines(b: Block, from: number, to: number, header: boolean): string {
  const names = Object.keys(b);
  let s = header ? `${names.map((n) => csvField(n)).join(',')}\n` : '';
  for (let i = from; i < to; i++) {
    s += names.map((k) => { const v = cell(b[k]![i], k); return typeof v === 'string' ? csvField(v) : Number.isNaN(v) ? '' : String(v); }).join(',') + '\n';
  }
  return s;
}

function jsonLines(b: Block, from: number, to: number): string {
  const names = Object.keys(b);
  let s = '';
  for (let i = from; i < to; i++) {
    const row: Record<string, unknown> = {};
    for (const k of names) { const v = cell(b[k]![i], k); row[k] = typeof v === 'number' && !Number.isFinite(v) ? null : v; }
    s += JSON.stringify(row) + '\n';
  }
  return s;
}

/** Writes each of `blocks` to its own file in `dir` (made if missing); resolves to the paths written. */
export async function writeFiles(blocks: AsyncIterable<Block>, dir: string, format: 'csv' | 'json' | 'parquet', o: WriteOptions = {}): Promise<string[]> {
  if (typeof dir !== 'string' || !dir) throw new InvalidArgumentError('a write takes a directory path');
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for await (const b of blocks) {
    const path = join(dir, `part-${String(written.length).padStart(5, '0')}.${format}`);
    const f = await open(path, o.overwrite ? 'w' : 'wx').catch((e: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError(e.code === 'EEXIST' ? `${path} exists (pass { overwrite: true } to replace it)` : `cannot write ${path}: ${e.message}`);
    });
    try {
      if (format === 'parquet') {
        await f.close();
        writeParquetFile(path, b);
        written.push(path);
        continue;
      }
      const n = numRows(b);
      for (let i = 0; i < n || (i === 0 && format === 'csv'); i += ROWS_PER_WRITE) {
        const to = Math.min(n, i + ROWS_PER_WRITE);
        await f.write(format === 'csv' ? csvLines(b, i, to, i === 0) : jsonLines(b, i, to));
      }
    } finally {
      if (format !== 'parquet') await f.close();
    }
    written.push(path);
  }
  return written;
}
