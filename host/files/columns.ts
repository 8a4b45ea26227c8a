/**
 * Rows of CSV and JSON made into typed columns. The types are fixed before
 * the read tasks start (given, or inferred from the start of the first file)
 * and travel with every part, so every block of a read has one schema and a
 * value that does not fit is a typed error naming its file and row.
 */
import { InvalidArgumentError } from '../errors.js';
import type { Block } from '../abi/block.js';

/** What a CSV or JSON column holds: `number` (f64, empty as NaN), `string`, or `bool` (u8 0 or 1). */
export type ColumnType = 'number' | 'string' | 'bool';

export const COLUMN_TYPES: readonly ColumnType[] = ['number', 'string', 'bool'];

/** Checks user-given types. */
export function checkColumnTypes(given: Record<string, unknown> = {}): Record<string, ColumnType> {
  for (const [k, t] of Object.entries(given)) if (!COLUMN_TYPES.includes(t as ColumnType)) throw new InvalidArgumentError(`columnTypes.${k} must be 'number', 'string' or 'bool', got ${String(t)}`);
  return given as Record<string, ColumnType>;
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

/** Types of columns `names` over sample `rows`: `given` where it says, else inferred. */
export function inferTypes(names: readonly string[], rows: readonly (readonly unknown[])[], given: Record<string, ColumnType>): Record<string, ColumnType> {
  return Object.fromEntries(names.map((k, j) => [k, given[k] ?? infer(rows.map((r) => r[j]))]));
}

/** A block of `rows` (values by column `names`) typed by `types`; `where(i)` names row i in errors. */
export function typedBlock(names: readonly string[], rows: readonly (readonly unknown[])[], types: Record<string, ColumnType>, where: (i: number) => string): Block {
  const out: Block = {};
  names.forEach((k, j) => {
    const t = types[k];
    if (t === undefined) throw new InvalidArgumentError(`${where(0)}: column '${k}' is not one of the read's columns (${Object.keys(types).join(', ')}), which the start of its first file set`);
    const bad = (i: number): never => { throw new InvalidArgumentError(`${where(i)}: column '${k}' holds ${t === 'number' ? 'numbers' : t === 'bool' ? 'booleans' : 'strings'}, got ${JSON.stringify(rows[i]![j])} (set columnTypes.${k} to read it otherwise)`); };
    if (t === 'string') out[k] = rows.map((r, i) => { const v = r[j]; return typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'number' || typeof v === 'boolean' ? String(v) : bad(i); });
    else if (t === 'bool') out[k] = Uint8Array.from(rows, (r, i) => { const v = r[j]; return v === true || v === 'true' ? 1 : v === false || v === 'false' || v === null || v === '' ? 0 : bad(i); });
    else out[k] = Float64Array.from(rows, (r, i) => toNumber(r[j]) ?? bad(i));
  });
  return out;
}
