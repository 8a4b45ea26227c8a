/**
 * The head's tables in Redis (`--redis-address redis://[:password@]host:port[/db]`),
 * as Ray's GCS keeps its tables for fault tolerance: one hash per table,
 * `tsray:<namespace>:<table>`, each row a CBOR value under its key. The
 * client (ioredis) sends commands in order on one connection, so a row's
 * later write never lands before an earlier one; `flush` waits for them.
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

  constructor(private readonly address: string, private readonly namespace = 'default') {
    if (!/^rediss?:\/\//.test(address)) throw new StorageError(`'${address}' is not a Redis address; use redis://HOST:PORT`);
    if (!/^[\w.-]{1,64}$/.test(namespace)) throw new StorageError(`a storage namespace is 1 to 64 letters, digits, '.', '_' or '-', got '${namespace}'`);
    this.redis = new Redis(address, { lazyConnect: true, connectTimeout: CONNECT_MS, maxRetriesPerRequest: 20, enableOfflineQueue: true });
    // Connection trouble shows as failed commands; without a listener ioredis would print each retry.
    this.redis.on('error', () => undefined);
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
    return out;
  }

  private track(p: Promise<unknown>): void {
    this.last = p.catch((e: Error) => { this.failed ??= e; });
  }

  set(table: TableName, key: string, value: unknown): void {
    this.track(this.redis.hset(this.key(table), key, Buffer.from(encode(value))));
  }

  delete(table: TableName, key: string): void {
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
    await this.flush().catch(() => undefined);
    await this.redis.del(...TABLE_NAMES.map((t) => this.key(t)));
  }

  async close(): Promise<void> {
    await this.last;
    this.redis.disconnect();
  }
}
