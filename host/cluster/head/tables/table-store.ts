/**
 * Where the head keeps the tables that must outlive it (Ray's GCS fault
 * tolerance): the cluster's id, its nodes (and the actor handles work carried
 * to each), the drivers connected to it, its
 * actors with their specs and restart budgets, its jobs and the components
 * work was sent with. A head killed with `kill -9` and started again loads
 * them and lets its nodes and drivers pick up where they were.
 *
 * Two stores implement this contract: a local file (file-tables.ts, the
 * default) and Redis (redis-tables.ts, `--redis-address`). Writes are
 * queued in order and never awaited on the head's hot path; `flush`
 * resolves once every write so far would survive the head process dying.
 * A write that fails (a full disk, Redis gone) never throws into the head:
 * the head runs on from its memory, and the store says so through
 * `onWriteError`, since a restart would then miss what changed.
 */

/** The head's persistent tables. */
export type TableName = 'meta' | 'nodes' | 'handles' | 'drivers' | 'actors' | 'components' | 'jobs';

export const TABLE_NAMES: readonly TableName[] = ['meta', 'nodes', 'handles', 'drivers', 'actors', 'components', 'jobs'];

/** Every row of every table, by key. */
export type Tables = Record<TableName, Map<string, unknown>>;

export interface TableStore {
  /** Where the tables live, for messages (`file /path`, `redis://host:port`). */
  readonly where: string;
  /** Told when writes start to fail, once until one succeeds again. */
  onWriteError?: (e: Error) => void;
  /** Every row written and not deleted. */
  load(): Promise<Tables>;
  /** Writes one row (a CBOR-encodable value), replacing any with its key. */
  set(table: TableName, key: string, value: unknown): void;
  delete(table: TableName, key: string): void;
  /** Resolves once every write so far is durable against the head process dying. */
  flush(): Promise<void>;
  /** Removes every row: the cluster ended cleanly (`tsray stop`), and must not come back. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** Empty tables. */
export function emptyTables(): Tables {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, new Map()])) as Tables;
}

/** Whether `t` names a table (a row read back from storage is checked before it is used). */
export function isTableName(t: unknown): t is TableName {
  return typeof t === 'string' && (TABLE_NAMES as readonly string[]).includes(t);
}
