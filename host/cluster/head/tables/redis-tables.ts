/**
 * The head's tables in Redis (`--redis-address redis://[:password@]host:port[/db]`),
 * as Ray's GCS keeps its tables for fault tolerance: one hash per table,
 * `tsray:<namespace>:<table>`, each row a CBOR value under its key. The
 * client (ioredis) sends commands in order on one connection, so a row's
 * later write never lands before an earlier one; `flush` waits for them.
 *
 * The store keeps the rows in memory too. A write that fails (Redis went
 * away) is not retried alone: once Redis is back, every table is written
 * again whole, in one transaction, so Redis never keeps a partial picture.
 */
import { Redis } from 'ioredis';
import { encode, decode } from 'cbor-x';
import { emptyTables, TABLE_NAMES, type TableName, type TableStore, type Tables } from './table-store.js';
import { StorageError } from '../../../errors.js';

/** How long the head waits for Redis at start before it says so. */
const CONNECT_MS = 5000;

export class RedisTables implements TableStore {
  private readonly redis: Redis;
  /** The last write sent: `flush` waits for it (and so for every one before it). */
  private last: Promise<unknown> = Promise.resolve();
  /** The first write that failed, reported by the next `flush`. */
  private failed: Error | undefined;
  private failing = false;
  onWriteError?: (e: Error) => void;
  /** What the tables hold, to write them again whole after a failed write. */
  private rows: Tables = emptyTables();

  constructor(private readonly address: string, private readonly namespace = 'default') {
    if (!/^rediss?:\/\//.test(address)) throw new StorageError(`'${address}' is not a Redis address; use redis://HOST:PORT`);
    if (!/^[\w.-]{1,64}$/.test(namespace)) throw new StorageError(`a storage namespace is 1 to 64 letters, digits, '.', '_' or '-', got '${namespace}'`);
    this.redis = new Redis(address, { lazyConnect: true, connectTimeout: CONNECT_MS, maxRetriesPerRequest: 3, enableOfflineQueue: true });
    // Connection trouble shows as failed commands; without a listener ioredis would print each retry.
    this.redis.on('error', () => undefined);
    this.redis.on('ready', () => { if (this.failing) this.resync(); });
  }

  get where(): string {
    const u = new URL(this.address);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname} (namespace ${this.namespace})`;
  }

  private key(table: TableName): string {
    return `tsray:${this.namespace}:${table}`;
  }

  async load(): Promise<Tables> {
    try {
      await this.redis.connect();
    } catch (e) {
      throw new StorageError(`cannot reach Redis at ${this.where}: ${(e as Error).message}`, { cause: e });
    }
    const out = emptyTables();
    for (const t of TABLE_NAMES) {
      const rows = await this.redis.hgetallBuffer(this.key(t));
      for (const [k, v] of Object.entries(rows)) {
        try { out[t].set(k, decode(v)); } catch { throw new StorageError(`row '${k}' of table ${this.key(t)} in Redis is not CBOR; it was not written by tsray`); }
      }
    }
    for (const t of TABLE_NAMES) this.rows[t] = new Map(out[t]);
    return out;
  }

  /** Writes every table again whole, in one transaction (Redis came back after writes failed). */
  private resync(): void {
    const m = this.redis.multi();
    for (const t of TABLE_NAMES) {
      m.del(this.key(t));
      for (const [k, v] of this.rows[t]) m.hset(this.key(t), k, Buffer.from(encode(v)));
    }
    this.track(m.exec());
  }

  private track(p: Promise<unknown>): void {
    this.last = p.then(() => { this.failing = false; }, (e: Error) => {
      this.failed ??= e;
      if (!this.failing) this.onWriteError?.(new StorageError(`writing the head's tables to Redis at ${this.where} failed: ${e.message}`, { cause: e }));
      this.failing = true;
    });
  }

  set(table: TableName, key: string, value: unknown): void {
    this.rows[table].set(key, value);
    this.track(this.redis.hset(this.key(table), key, Buffer.from(encode(value))));
  }

  delete(table: TableName, key: string): void {
    this.rows[table].delete(key);
    this.track(this.redis.hdel(this.key(table), key));
  }

  async flush(): Promise<void> {
    await this.last;
    if (this.failed) {
      const e = this.failed;
      this.failed = undefined;
      throw new StorageError(`a write to Redis at ${this.where} failed: ${e.message}`, { cause: e });
    }
  }

  async clear(): Promise<void> {
    this.rows = emptyTables();
    await this.flush().catch(() => undefined);
    await this.redis.del(...TABLE_NAMES.map((t) => this.key(t)));
  }

  async close(): Promise<void> {
    await this.last;
    this.redis.disconnect();
  }
}
