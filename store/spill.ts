/**
 * The spill-to-disk pager's file side. Spilled objects are fused into large
 * files (one file per spill batch), each object's bytes stored with a CRC-32
 * so a damaged file is noticed on restore. The bytes move on the spill I/O
 * thread while this thread checksums them (see `spill-io.ts`). A file is
 * deleted when the last object in it is freed; a freed object at its tail is
 * cut off, and one in the middle has its disk blocks punched out. Files
 * carry the owning process id in their names, so a node starting up can
 * delete what dead processes left behind.
 */
import {
  closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, statfsSync, unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { spawn } from 'node:child_process';
import { OutOfDiskError } from '../host/errors.js';
import { running } from '../host/runtime/process-alive.js';
import { formatBytes } from './bytes.js';
import type { Arena } from './arena.js';
import type { SpillIo } from './spill-io.js';

const NAME = /^tsray-spill-(\d+)-[0-9a-f]+-\d+\.bin$/;

class SpillFile {
  /** Where the file's live data ends (the tail is cut as tail objects are freed). */
  end = 0;
  /** Offset -> length of each live object. */
  readonly objects = new Map<number, number>();
  constructor(readonly path: string) {}
}

/** Where one spilled object's bytes are. */
export interface SpillLocation {
  file: SpillFile;
  offset: number;
  length: number;
  crc: number;
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
}

/** Why a restore failed: the object is lost, nothing else is. */
export class SpillReadError extends Error {}

export class SpillPager {
  private readonly files = new Set<SpillFile>();
  private seq = 0;
  readonly stats: SpillStats = { spilledBytes: 0, spilledObjects: 0, restoredBytes: 0, restoredObjects: 0, spillMs: 0, restoreMs: 0, bytesOnDisk: 0, filesOnDisk: 0 };

  constructor(
    readonly dir: string,
    private readonly nodeId: string,
    /** Refuse to spill once the disk would be fuller than this fraction (Ray's local_fs_capacity_threshold). */
    private readonly fsThreshold: number,
    private readonly io: SpillIo,
  ) {}

  /** Creates the directory and deletes spill files of processes that no longer run. Returns how many went. */
  cleanStale(): number {
    mkdirSync(this.dir, { recursive: true });
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
    const file = new SpillFile(join(this.dir, `tsray-spill-${process.pid}-${this.nodeId}-${++this.seq}.bin`));
    const out: SpillLocation[] = [];
    let at = 0;
    try {
      this.io.write(file.path, blocks.map((b) => ({ arena: b.arena.index, off: b.off, len: b.len })), (i) => {
        const b = blocks[i]!;
        out.push({ file, offset: at, length: b.len, crc: crc32(b.arena.bytes(b.off, b.len)) });
        at += b.len;
      });
    } catch (e) {
      try { unlinkSync(file.path); } catch { /* nothing to remove */ }
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new OutOfDiskError(`the disk under ${this.dir} is full: could not spill ${formatBytes(total)}; free disk space or point spillDir at a larger disk`);
      }
      throw e;
    }
    file.end = at;
    out.forEach((l) => file.objects.set(l.offset, l.length));
    this.files.add(file);
    this.stats.spillMs += performance.now() - started;
    this.stats.spilledBytes += total;
    this.stats.spilledObjects += blocks.length;
    this.stats.bytesOnDisk += total;
    this.stats.filesOnDisk = this.files.size;
    return out;
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
      const fd = openSync(loc.file.path, 'r');
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

  /** The object at `loc` was freed: its bytes go (the whole file once nothing in it lives). */
  drop(loc: SpillLocation): void {
    const f = loc.file;
    if (!f.objects.delete(loc.offset)) return;
    this.stats.bytesOnDisk -= loc.length;
    if (f.objects.size === 0) {
      this.files.delete(f);
      this.stats.filesOnDisk = this.files.size;
      try { unlinkSync(f.path); } catch { /* already gone */ }
      return;
    }
    if (loc.offset + loc.length < f.end) {
      punchHole(f.path, loc.offset, loc.length);
      return;
    }
    let end = 0;
    for (const [o, len] of f.objects) end = Math.max(end, o + len);
    f.end = end;
    try {
      const fd = openSync(f.path, 'r+');
      try { ftruncateSync(fd, end); } finally { closeSync(fd); }
    } catch { /* the file may be gone already: its objects then read as lost */ }
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

let canPunch = process.platform === 'linux';

/**
 * Frees the disk blocks of a freed object in the middle of a spill file
 * (Node has no fallocate(2); util-linux's `fallocate` does it). Runs in the
 * background; where it is missing, the bytes go when the file does.
 */
function punchHole(path: string, offset: number, length: number): void {
  if (!canPunch) return;
  const child = spawn('fallocate', ['--punch-hole', '--offset', String(offset), '--length', String(length), path], { stdio: 'ignore' });
  child.on('error', () => { canPunch = false; });
  child.unref();
}

function readError(loc: SpillLocation, e: unknown): SpillReadError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ETRUNCATED') return new SpillReadError(`its spill file ${loc.file.path} is ${(e as Error).message}`);
  return new SpillReadError(`its spill file ${loc.file.path} cannot be opened or read (${code ?? (e as Error).message})`);
}
