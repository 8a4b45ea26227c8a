/**
 * Parquet files, through hyparquet (reader) and hyparquet-writer: plain
 * JavaScript, no native code, kept by the same authors. A read task reads
 * one row group into a block; a write makes one file per block.
 */
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { parquetWriteFile } from 'hyparquet-writer';
import { InvalidArgumentError } from '../errors.js';
import { typeOf, type Block, type Column } from '../abi/block.js';
import type { PathOptions } from './paths.js';

export interface ParquetOptions extends PathOptions {
  /** Only these columns (Parquet reads only their pages). */
  columns?: string[];
}

/** A block of rows read from Parquet: numbers as f64, 64-bit integers as s64, strings, booleans as u8, bytes as binary; nulls as NaN or ''. */
function blockOf(rows: Record<string, unknown>[], names: string[], where: string): Block {
  const out: Block = {};
  for (const k of names) {
    const first = rows.find((r) => r[k] !== null && r[k] !== undefined)?.[k];
    const bad = (v: unknown): never => { throw new InvalidArgumentError(`${where}: column '${k}' mixes ${typeof first} and ${typeof v} values`); };
    if (typeof first === 'bigint') out[k] = BigInt64Array.from(rows, (r) => { const v = r[k]; return typeof v === 'bigint' ? v : v == null ? 0n : bad(v); });
    else if (typeof first === 'string') out[k] = rows.map((r) => { const v = r[k]; return typeof v === 'string' ? v : v == null ? '' : bad(v); });
    else if (typeof first === 'boolean') out[k] = Uint8Array.from(rows, (r) => { const v = r[k]; return v === true ? 1 : v === false || v == null ? 0 : bad(v); });
    else if (first instanceof Uint8Array) out[k] = rows.map((r) => { const v = r[k]; return v instanceof Uint8Array ? v : v == null ? new Uint8Array(0) : bad(v); });
    else if (typeof first === 'number' || first === undefined) out[k] = Float64Array.from(rows, (r) => { const v = r[k]; return typeof v === 'number' ? v : v == null ? NaN : bad(v); });
    else throw new InvalidArgumentError(`${where}: column '${k}' holds ${first instanceof Date ? 'dates' : 'nested values'}, which blocks do not hold yet`);
  }
  return out;
}

/** Parquet file `path` and its footer; `InvalidArgumentError` when it is not one. */
async function open(path: string): Promise<{ file: Awaited<ReturnType<typeof asyncBufferFromFile>>; metadata: Awaited<ReturnType<typeof parquetMetadataAsync>> }> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file).catch((e: Error) => { throw new InvalidArgumentError(`${path} is not a Parquet file (${e.message})`); });
  return { file, metadata };
}

/** The row groups of Parquet file `path` (rows [rowStart, rowEnd) each) and the columns a read takes (`columns`, or every leaf). */
export async function parquetGroups(path: string, columns?: string[]): Promise<{ names: string[]; groups: { rowStart: number; rowEnd: number }[] }> {
  const { metadata } = await open(path);
  const names = columns ?? metadata.schema.slice(1).filter((s) => !s.num_children).map((s) => s.name);
  const groups: { rowStart: number; rowEnd: number }[] = [];
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    groups.push({ rowStart, rowEnd });
    rowStart = rowEnd;
  }
  return { names, groups };
}

/** Rows [rowStart, rowEnd) of `path` (its row group `group`), columns `names`, as one block; `name`: the file as errors name it. */
export async function parquetPart(path: string, rowStart: number, rowEnd: number, group: number, names: string[], name = path): Promise<Block> {
  const { file, metadata } = await open(path);
  // utf8 false: columns annotated as strings come as strings, plain byte arrays as bytes.
  const rows = (await parquetReadObjects({ file, metadata, rowStart, rowEnd, columns: names, utf8: false })) as Record<string, unknown>[];
  return blockOf(rows, names, `${name} row group ${group}`);
}

const PARQUET_TYPE: Record<string, 'DOUBLE' | 'FLOAT' | 'INT32' | 'INT64' | 'STRING' | 'BYTE_ARRAY'> = {
  float64: 'DOUBLE', float32: 'FLOAT', int32: 'INT32', int16: 'INT32', int8: 'INT32', uint16: 'INT32', uint8: 'INT32', bigint64: 'INT64', string: 'STRING', binary: 'BYTE_ARRAY',
};

/** Writes `b` as the Parquet file `path`. */
export function writeParquetFile(path: string, b: Block): void {
  const columnData = Object.entries(b).map(([name, c]: [string, Column]) => {
    const t = typeOf(c);
    const type = PARQUET_TYPE[t];
    if (!type) throw new InvalidArgumentError(`column '${name}' is ${t}, which the Parquet writer does not take (float64, float32, int8-32, uint8-16, bigint64, string, binary)`);
    const data = type === 'INT32' && !(c instanceof Int32Array) ? Int32Array.from(c as ArrayLike<number>) : c;
    return { name, data: data as never, type, nullable: false };
  });
  parquetWriteFile({ filename: path, columnData });
}
