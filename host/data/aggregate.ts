/** `ds.groupBy(key)`: rows grouped by a column, reduced by aggregations (Ray's `GroupedDataset`). */
import { InvalidArgumentError } from '../errors.js';
import type { Dataset } from './dataset.js';
import { exchangeOp } from './all-to-all.js';
import { aggregate, type AggregateFn } from './aggregate-fns.js';
import type { HostOp } from './stages.js';

export class GroupedDataset {
  constructor(
    readonly key: string,
    private readonly make: (op: HostOp) => Dataset,
  ) {}

  /** One row per key, in key order: the key and each of `aggs` (`tsray.data.aggregate.sum('x')`, ...). */
  aggregate(...aggs: AggregateFn[]): Dataset {
    if (!aggs.length || !aggs.every((a) => typeof a?.of === 'function')) throw new InvalidArgumentError('aggregate takes aggregations: tsray.data.aggregate.count(), .sum(col), ...');
    return this.make(exchangeOp({ kind: 'group', key: this.key, aggs }));
  }

  /** Rows per key, in column `count()`. */
  count(): Dataset { return this.aggregate(aggregate.count()); }
  sum(col: string): Dataset { return this.aggregate(aggregate.sum(col)); }
  min(col: string): Dataset { return this.aggregate(aggregate.min(col)); }
  max(col: string): Dataset { return this.aggregate(aggregate.max(col)); }
  mean(col: string): Dataset { return this.aggregate(aggregate.mean(col)); }
  std(col: string, ddof = 1): Dataset { return this.aggregate(aggregate.std(col, ddof)); }
}
