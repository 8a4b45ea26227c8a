/** `ds.groupBy(key)`: rows grouped by a column, reduced by aggregations (Ray's `GroupedDataset`). */
import { InvalidArgumentError } from '../errors.js';
import { exchangeOp } from './all-to-all.js';
import { aggregate, type AggregateFn } from './aggregate-fns.js';
import type { HostOp } from './stages.js';

/** `D`: the Dataset type (so this file need not import it). */
export class GroupedDataset<D> {
  constructor(
    readonly key: string,
    private readonly make: (op: HostOp) => D,
  ) {}

  /** One row per key, in key order: the key and each of `aggs` (`tsray.data.aggregate.sum('x')`, ...). */
  aggregate(...aggs: AggregateFn[]): D {
    if (!aggs.length || !aggs.every((a) => typeof a?.of === 'function')) throw new InvalidArgumentError('aggregate takes aggregations: tsray.data.aggregate.count(), .sum(col), ...');
    return this.make(exchangeOp({ kind: 'group', key: this.key, aggs }));
  }

  /** Rows per key, in column `count()`. */
  count(): D { return this.aggregate(aggregate.count()); }
  sum(col: string): D { return this.aggregate(aggregate.sum(col)); }
  min(col: string): D { return this.aggregate(aggregate.min(col)); }
  max(col: string): D { return this.aggregate(aggregate.max(col)); }
  mean(col: string): D { return this.aggregate(aggregate.mean(col)); }
  std(col: string, ddof = 1): D { return this.aggregate(aggregate.std(col, ddof)); }
}
