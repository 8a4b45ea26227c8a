/**
 * The spill-to-disk pager's file side. Spilled objects are fused into large
 * files (one file per spill batch), each object's bytes stored with a CRC-32
 * so a damaged file is noticed on restore. The bytes move on the spill I/O
 * thread while this thread checksums them (see `spill-io.ts`). Files are
 * created new in a private directory (never through a link or into an
 * existing file: see `private-dir.ts`).
 *
 * Disk space of freed objects comes back without a process per free: a file
 * is deleted when the last object in it is freed, a freed object at its tail
 * is cut off, and a file that is half dead or more is compacted (its live
 * objects are copied into a new file and the old one deleted). Each copied
 * byte is matched by at least one freed byte, so the copying costs no more
 * than the freeing, and spill files never take more than about twice the
 * live spilled bytes. Files carry the owning process id in their names, so a
 * node starting up can delete what dead processes left behind.
 */
import {
  closeSync, constants, ftruncateSync, openSync, readdirSync, readSync, statfsSync, unlinkSync, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { InsecurePathError, OutOfDiskError } from '../host/errors.js';
import { running } from '../host/util/process-alive.js';
import { CREATE_NEW, privateDir } from '../host/util/private-dir.js';
import { formatBytes } from './bytes.js';
import type { Arena } from './arena.js';
import type { SpillIo } from './spill-io.js';

const NAME = /^tsray-spill-(\d+)-[0-9a-f]+-\d+\.bin$/;

/** Compaction copies through a buffer of at most this many bytes. */
const COPY_CHUNK = 4 * 2 ** 20;

class SpillFile {
  /** Where the file's data ends (the tail is cut as tail objects are freed). */
  end = 0;
  /** Bytes of the live objects in it. */
  live = 0;
  /** Where its live objects are (compaction moves them). */
  readonly objects = new Set<SpillLocation>();
  constructor(readonly path: string) {}
}

/** Where one spilled object's bytes are; compaction may move them to another file. */
export interface SpillLocation {
  file: SpillFile;
  offset: number;
  readonly length: number;
  readonly crc: number;
}

export interface SpillStats {
  spilledBytes: number;
  spilledObjects: number;
  restoredBytes: number;
  restoredObjects: number;
  /** Time spent writing and reading spill files, for throughput. */
  spillMs: number;
  restoreMs: number;
  /** Spilled bytes of live objects still on disk. */
  bytesOnDisk: number;
  filesOnDisk: number;
  /** Bytes copied by compaction (at most the bytes freed from spill files). */
  compactedBytes: number;
}

/** Why a restore failed: the object is lost, nothing else is. */
export class SpillReadError extends Error {}

export class SpillPager {
  private readonly files = new Set<SpillFile>();
  private seq = 0;
  readonly stats: SpillStats = { spilledBytes: 0, spilledObjects: 0, restoredBytes: 0, restoredObjects: 0, spillMs: 0, restoreMs: 0, bytesOnDisk: 0, filesOnDisk: 0, compactedBytes: 0 };

  constructor(
    readonly dir: string,
    private readonly nodeId: string,
    /** Refuse to spill once the disk would be fuller than this fraction (Ray's local_fs_capacity_threshold). */
    private readonly fsThreshold: number,
    private readonly io: SpillIo,
  ) {}

  /**
   * Creates the directory (or checks it is private: `InsecurePathError`) and
   * deletes spill files of processes that no longer run. Returns how many went.
   */
  cleanStale(): number {
    privateDir(this.dir, 'pass spillDir to init() to spill elsewhere');
    let n = 0;
    for (const name of readdirSync(this.dir)) {
      const m = NAME.exec(name);
      if (!m || running(Number(m[1]))) continue;
      try { unlinkSync(join(this.dir, name)); n++; } catch { /* another node cleaned it first */ }
    }
    return n;
  }

  /**
   * Writes arena blocks (page-aligned offsets and lengths) into one new file
   * and returns where each went. Throws `OutOfDiskError` (and leaves no file)
   * when the disk is full.
   */
  write(blocks: { arena: Arena; off: number; len: number }[]): SpillLocation[] {
    const total = blocks.reduce((s, b) => s + b.len, 0);
    this.checkDisk(total);
    const started = performance.now();
    const file = this.newFile();
    const out: SpillLocation[] = [];
    let at = 0;
    try {
      this.io.write(file.path, blocks.map((b) => ({ arena: b.arena.index, off: b.off, len: b.len })), (i) => {
        const b = blocks[i]!;
        out.push({ file, offset: at, length: b.len, crc: crc32(b.arena.bytes(b.off, b.len)) });
        at += b.len;
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ELOOP') throw planted(file.path);
      try { unlinkSync(file.path); } catch { /* nothing to remove */ }
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new OutOfDiskError(`the disk under ${this.dir} is full: could not spill ${formatBytes(total)}; free disk space or point spillDir at a larger disk`);
      }
      throw e;
    }
    for (const l of out) file.objects.add(l);
    file.end = file.live = at;
    this.files.add(file);
    this.stats.spillMs += performance.now() - started;
    this.stats.spilledBytes += total;
    this.stats.spilledObjects += blocks.length;
    this.stats.bytesOnDisk += total;
    this.stats.filesOnDisk = this.files.size;
    return out;
  }

  private newFile(): SpillFile {
    return new SpillFile(join(this.dir, `tsray-spill-${process.pid}-${this.nodeId}-${++this.seq}.bin`));
  }

  private checkDisk(bytes: number): void {
    if (this.fsThreshold >= 1) return;
    const s = statfsSync(this.dir);
    const size = s.blocks * s.bsize;
    const used = size - s.bavail * s.bsize;
    if (size > 0 && (used + bytes) / size > this.fsThreshold) {
      throw new OutOfDiskError(
        `spilling ${formatBytes(bytes)} to ${this.dir} would fill its disk past ${Math.round(this.fsThreshold * 100)}% `
        + `(${formatBytes(used)} of ${formatBytes(size)} used); free disk space or raise localFsCapacityThreshold`,
      );
    }
  }

  /** Reads a spilled object back into an arena block and checks it. */
  restore(loc: SpillLocation, arena: Arena, off: number): void {
    const started = performance.now();
    let crc = 0;
    try {
      this.io.read(loc.file.path, loc.offset, arena.index, off, loc.length, (start, end) => { crc = crc32(arena.bytes(off + start, end - start), crc); });
    } catch (e) {
      throw readError(loc, e);
    }
    this.verified(loc, crc, started);
  }

  /** Reads a spilled object into private memory (when the arenas have no room) and checks it. */
  readPrivate(loc: SpillLocation, dst: Uint8Array): void {
    const started = performance.now();
    try {
      const fd = openSync(loc.file.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        for (let done = 0; done < loc.length;) {
          const n = readSync(fd, dst, done, loc.length - done, loc.offset + done);
          if (n === 0) throw Object.assign(new Error(`truncated (${done} of ${loc.length} bytes at offset ${loc.offset})`), { code: 'ETRUNCATED' });
          done += n;
        }
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw readError(loc, e);
    }
    this.verified(loc, crc32(dst.subarray(0, loc.length)), started);
  }

  private verified(loc: SpillLocation, crc: number, started: number): void {
    if (crc !== loc.crc) throw new SpillReadError(`its bytes in spill file ${loc.file.path} are corrupt (checksum mismatch)`);
    this.stats.restoreMs += performance.now() - started;
    this.stats.restoredBytes += loc.length;
    this.stats.restoredObjects++;
  }

  /** The object at `loc` was freed: its bytes go (see the file's header for how). */
  drop(loc: SpillLocation): void {
    const f = loc.file;
    if (!f.objects.delete(loc)) return;
    f.live -= loc.length;
    this.stats.bytesOnDisk -= loc.length;
    if (f.objects.size === 0) {
      this.remove(f);
      return;
    }
    if (loc.offset + loc.length === f.end) {
      let end = 0;
      for (const o of f.objects) end = Math.max(end, o.offset + o.length);
      f.end = end;
      try {
        const fd = openSync(f.path, constants.O_RDWR | constants.O_NOFOLLOW);
        try { ftruncateSync(fd, end); } finally { closeSync(fd); }
      } catch { /* the file may be gone already: its objects then read as lost */ }
    }
    if (f.live * 2 <= f.end) this.compact(f);
  }

  private remove(f: SpillFile): void {
    this.files.delete(f);
    this.stats.filesOnDisk = this.files.size;
    try { unlinkSync(f.path); } catch { /* already gone */ }
  }

  /**
   * Copies `f`'s live objects into a new file and deletes `f`. When that
   * fails (a full disk), `f` stays as it is: nothing is lost, its space just
   * comes back later, as its objects are freed.
   */
  private compact(f: SpillFile): void {
    const disk = statfsSync(this.dir);
    if (disk.bavail * disk.bsize < f.live) return; // would fail: try again at a later free
    const to = this.newFile();
    const live = [...f.objects].sort((a, b) => a.offset - b.offset);
    const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, f.live));
    try {
      const src = openSync(f.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const dst = openSync(to.path, constants.O_WRONLY | CREATE_NEW, 0o600);
        try {
          for (const loc of live) {
            copyRange(src, loc.offset, dst, to.end, loc.length, buf);
            to.end += loc.length;
          }
        } finally {
          closeSync(dst);
        }
      } finally {
        closeSync(src);
      }
    } catch {
      try { unlinkSync(to.path); } catch { /* never made */ }
      return;
    }
    let at = 0;
    for (const loc of live) {
      loc.file = to;
      loc.offset = at;
      at += loc.length;
      to.objects.add(loc);
    }
    to.live = f.live;
    this.stats.compactedBytes += f.live;
    this.files.add(to);
    this.remove(f);
  }

  /** Deletes every file of this node (at shutdown) and stops the I/O thread. */
  close(): void {
    this.io.close();
    for (const f of this.files) { try { unlinkSync(f.path); } catch { /* gone */ } }
    this.files.clear();
    this.stats.bytesOnDisk = 0;
    this.stats.filesOnDisk = 0;
  }
}

/** Copies `len` bytes at `from` of file `src` to `to` of file `dst`, through `buf`. */
function copyRange(src: number, from: number, dst: number, to: number, len: number, buf: Buffer): void {
  for (let done = 0; done < len;) {
    const n = readSync(src, buf, 0, Math.min(buf.length, len - done), from + done);
    if (n === 0) throw new Error('truncated');
    for (let w = 0; w < n;) w += writeSync(dst, buf, w, n - w, to + done + w);
    done += n;
  }
}

function planted(path: string): InsecurePathError {
  return new InsecurePathError(path, `${path} already exists, though this node never made it: tsray never writes spilled objects through an existing file or link. Remove it, and check who can write to ${dirname(path)}, or pass spillDir to init() to spill elsewhere`);
}

function readError(loc: SpillLocation, e: unknown): SpillReadError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ETRUNCATED') return new SpillReadError(`its spill file ${loc.file.path} is ${(e as Error).message}`);
  return new SpillReadError(`its spill file ${loc.file.path} cannot be opened or read (${code ?? (e as Error).message})`);
}
