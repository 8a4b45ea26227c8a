/**
 * Aggregations for `groupBy(key).aggregate(...)` (Ray's `ray.data.aggregate`):
 * each reduces the values of a group's rows to one number, in a column
 * named as Ray names it (`count()`, `sum(x)`, `mean(x)`, ...).
 */
import { InvalidArgumentError } from '../errors.js';
import { pickRows, type Block, type Column } from '../abi/block.js';
import { sortedRows } from './order.js';

export interface AggregateFn {
  /** The output column's name. */
  readonly name: string;
  /** The value of the rows `rows` of `b`. */
  of(b: Block, rows: ArrayLike<number>, from: number, to: number): number;
}

function numbers(b: Block, col: string): ArrayLike<number | bigint> {
  const c = b[col];
  if (c === undefined) throw new InvalidArgumentError(`there is no column '${col}' to aggregate (columns: ${Object.keys(b).join(', ')})`);
  if (Array.isArray(c)) throw new InvalidArgumentError(`column '${col}' holds ${typeof c[0] === 'string' ? 'strings' : 'bytes'}; aggregations need numbers`);
  return c;
}

/** An aggregation folding the numbers of column `col`. */
function fold(name: string, col: string, f: (xs: number[]) => number): AggregateFn {
  if (typeof col !== 'string' || !col) throw new InvalidArgumentError(`${name} needs a column name`);
  return {
    name: `${name}(${col})`,
    of(b, rows, from, to) {
      const c = numbers(b, col);
      const xs: number[] = [];
      for (let i = from; i < to; i++) xs.push(Number(c[rows[i]!]!));
      return f(xs);
    },
  };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** The aggregations, as `tsray.data.aggregate.sum('x')`. */
export const aggregate = {
  count: (): AggregateFn => ({ name: 'count()', of: (_b, _rows, from, to) => to - from }),
  sum: (col: string): AggregateFn => fold('sum', col, sum),
  min: (col: string): AggregateFn => fold('min', col, (xs) => xs.reduce((a, b) => (b < a ? b : a), Infinity)),
  max: (col: string): AggregateFn => fold('max', col, (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity)),
  mean: (col: string): AggregateFn => fold('mean', col, (xs) => sum(xs) / xs.length),
  /** Standard deviation; `ddof` 1 (the sample's) as Ray's `Std`. */
  std: (col: string, ddof = 1): AggregateFn => fold('std', col, (xs) => {
    const m = sum(xs) / xs.length;
    return Math.sqrt(sum(xs.map((x) => (x - m) ** 2)) / (xs.length - ddof));
  }),
};

/** One row per distinct value of `key` in `b` (in key order): the key and each aggregation's value. */
export function groupRows(b: Block, key: string, aggs: readonly AggregateFn[]): Block {
  const rows = sortedRows(b, key);
  const keys = b[key] as ArrayLike<unknown>;
  const starts: number[] = [];
  for (let i = 0; i < rows.length; i++) if (i === 0 || !Object.is(keys[rows[i]!], keys[rows[i - 1]!])) starts.push(i);
  const out: Block = { [key]: pickRows({ [key]: b[key] as Column }, starts.map((s) => rows[s]!))[key]! };
  for (const a of aggs) {
    const col = new Float64Array(starts.length);
    starts.forEach((s, g) => { col[g] = a.of(b, rows, s, starts[g + 1] ?? rows.length); });
    out[a.name] = col;
  }
  return out;
}
