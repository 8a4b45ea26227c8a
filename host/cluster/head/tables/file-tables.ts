/**
 * The head's tables in a local file: an append-only log of CBOR records,
 * each behind its 4-byte length. A write is one `write(2)` to a file opened
 * for appending, so it survives the head process being killed (the kernel
 * holds it) without an fsync per write. Loading replays the log; a record
 * cut short by a crash at its end is dropped and the file trimmed there.
 * When the log has grown to several times what it holds (each live row's
 * size is kept as it is written), it is rewritten (to a new file, renamed
 * over the old one) with only the live rows.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeSync, constants } from 'node:fs';
import { join } from 'node:path';
import { encode, decode } from 'cbor-x';
import { privateDir } from '../../../util/private-dir.js';
import { emptyTables, isTableName, type TableName, type TableStore, type Tables } from './table-store.js';
import { StorageError } from '../../../errors.js';

/** Rewrite the log once it is this many times larger than the live rows (and past COMPACT_MIN_BYTES). */
const COMPACT_RATIO = 4;
const COMPACT_MIN_BYTES = 1 << 20;

/** How many bytes of rows a rewrite writes at once. */
const WRITE_CHUNK = 4 << 20;

/** Writes all of `b` (write(2) may take less than it is given). */
function writeAll(fd: number, b: Buffer): void {
  for (let at = 0; at < b.length;) at += writeSync(fd, b, at);
}

type Record_ = [op: 's', table: TableName, key: string, value: unknown] | [op: 'd', table: TableName, key: string];

function framed(r: Record_): Buffer {
  const body = encode(r);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  out.set(body, 4);
  return out;
}

export class FileTables implements TableStore {
  private fd: number | undefined;
  private readonly path: string;
  /** The rows as the file holds them, to rewrite it and to know when to. */
  private rows: Tables = emptyTables();
  /** Each live row's record size, by table and key, and their sum: what a rewrite would leave. */
  private sizes = new Map<string, number>();
  private liveBytes = 0;
  private logBytes = 0;
  private failing = false;
  onWriteError?: (e: Error) => void;

  /** Tables in `dir` (created private, 0700, if missing). */
  constructor(readonly dir: string) {
    privateDir(dir, 'give the head another --storage-dir');
    this.path = join(dir, 'tables.log');
  }

  get where(): string {
    return `file ${this.path}`;
  }

  async load(): Promise<Tables> {
    let buf: Buffer;
    try {
      buf = readFileSync(this.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StorageError(`cannot read the head's tables at ${this.path}: ${(e as Error).message}`);
      buf = Buffer.alloc(0);
    }
    this.rows = emptyTables();
    this.sizes = new Map();
    this.liveBytes = 0;
    let at = 0;
    while (at + 4 <= buf.length) {
      const len = buf.readUInt32LE(at);
      if (at + 4 + len > buf.length) break; // cut short by a crash
      let r: unknown;
      try { r = decode(buf.subarray(at + 4, at + 4 + len)); } catch { break; }
      if (!Array.isArray(r) || !isTableName(r[1]) || typeof r[2] !== 'string') break;
      if (r[0] === 's') { this.rows[r[1]].set(r[2], r[3]); this.sized(r[1], r[2], 4 + len); }
      else if (r[0] === 'd') { this.rows[r[1]].delete(r[2]); this.sized(r[1], r[2], 0); }
      else break;
      at += 4 + len;
    }
    this.fd = openSync(this.path, constants.O_CREAT | constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW, 0o600);
    // What follows the last whole record is a torn write: appending after it would hide every later record.
    if (fstatSync(this.fd).size !== at) ftruncateSync(this.fd, at);
    this.logBytes = at;
    this.compactIfWorth();
    const copy = emptyTables();
    for (const [t, m] of Object.entries(this.rows) as [TableName, Map<string, unknown>][]) for (const [k, v] of m) copy[t].set(k, v);
    return copy;
  }

  set(table: TableName, key: string, value: unknown): void {
    this.rows[table].set(key, value);
    const b = framed(['s', table, key, value]);
    this.sized(table, key, b.length);
    this.append(b);
  }

  delete(table: TableName, key: string): void {
    if (!this.rows[table].delete(key)) return;
    this.sized(table, key, 0);
    this.append(framed(['d', table, key]));
  }

  /** Row `key` of `table` now takes `bytes` in a rewritten log (0: it is gone). */
  private sized(table: TableName, key: string, bytes: number): void {
    const k = `${table}\0${key}`;
    this.liveBytes += bytes - (this.sizes.get(k) ?? 0);
    if (bytes) this.sizes.set(k, bytes); else this.sizes.delete(k);
  }

  private compactIfWorth(): void {
    if (this.logBytes > COMPACT_MIN_BYTES && this.logBytes > COMPACT_RATIO * this.liveBytes) this.compact();
  }

  private append(b: Buffer): void {
    if (this.fd === undefined) throw new StorageError('the head\'s tables were written before they were loaded');
    try {
      writeSync(this.fd, b);
      this.logBytes += b.length;
      this.compactIfWorth();
      this.failing = false;
    } catch (e) {
      // A short write leaves a torn record, which loading drops; the rows stay right in memory.
      if (!this.failing) this.onWriteError?.(new StorageError(`writing the head's tables to ${this.path} failed: ${(e as Error).message}`, { cause: e }));
      this.failing = true;
    }
  }

  /** Rewrites the log with only the live rows; the rename makes the switch atomic. */
  private compact(): void {
    const tmp = `${this.path}.new`;
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    let bytes = 0;
    // Rows go out in chunks of WRITE_CHUNK bytes, not a write(2) each: the head pauses for the encoding, not for 100,000 syscalls.
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    const flush = (): void => { writeAll(fd, Buffer.concat(chunk, chunkBytes)); chunk = []; chunkBytes = 0; };
    try {
      for (const [t, m] of Object.entries(this.rows) as [TableName, Map<string, unknown>][]) {
        for (const [k, v] of m) {
          const b = framed(['s', t, k, v]);
          chunk.push(b);
          chunkBytes += b.length;
          bytes += b.length;
          if (chunkBytes >= WRITE_CHUNK) flush();
        }
      }
      if (chunkBytes > 0) flush();
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
    this.logBytes = bytes;
  }

  async flush(): Promise<void> {
    // Every write already reached the kernel; that is what a process crash cannot take back.
  }

  async clear(): Promise<void> {
    this.rows = emptyTables();
    this.sizes = new Map();
    this.liveBytes = 0;
    if (this.fd !== undefined) { closeSync(this.fd); this.fd = undefined; }
    rmSync(this.path, { force: true });
  }

  async close(): Promise<void> {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
