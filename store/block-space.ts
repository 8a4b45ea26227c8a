/**
 * Where sealed blocks live: the node's shared arenas, and the spill files
 * behind them. Places new blocks (spilling the oldest unpinned ones, fused
 * into files, to make room), spills in the background past the threshold,
 * and brings spilled blocks back when read. The object table (`ObjectStore`)
 * decides what exists; this decides where its bytes are.
 */
import { ObjectLostError, ObjectStoreFullError, OutOfDiskError } from '../host/errors.js';
import { Arena, arenaSizes } from './arena.js';
import { alignUp } from './allocator.js';
import { CorruptBlockError } from './codec.js';
import { FAILED, type Entry } from './entry.js';
import { RefKind } from './references.js';
import { SpillPager, SpillReadError, type SpillStats } from './spill.js';
import { SpillIo } from './spill-io.js';
import { formatBytes } from './bytes.js';
import type { StoreOptions } from './store-options.js';

export class BlockSpace {
  readonly arenas: Arena[];
  /** Entries with a block in an arena, oldest first (the spill order). */
  private readonly resident = new Set<Entry>();
  private readonly pager: SpillPager;
  private used = 0;
  private spillQueued = false;
  private closed = false;

  constructor(private readonly opts: StoreOptions) {
    this.arenas = arenaSizes(opts.capacity, opts.maxArenaBytes).map((size, i) => new Arena(i, size));
    this.pager = new SpillPager(opts.spillDir, opts.nodeId, opts.localFsCapacityThreshold, new SpillIo(this.arenas.map((a) => a.memory)));
    this.pager.cleanStale();
  }

  /** Makes `e` the owner of the block at `spot` (`size` bytes, already written or being written). */
  hold(e: Entry, spot: { arena: Arena; off: number }, size: number): void {
    e.arena = spot.arena;
    e.off = spot.off;
    e.size = size;
    this.resident.add(e);
    this.used += size;
    this.spillSoon();
  }

  /** `e` was freed: its block and its spilled bytes go. */
  forget(e: Entry): void {
    this.dropBlock(e);
    if (e.spill) { this.pager.drop(e.spill); e.spill = undefined; }
  }

  private dropBlock(e: Entry): void {
    if (!e.arena) return;
    e.arena.release(e.off, e.size);
    e.arena = undefined;
    this.resident.delete(e);
    this.used -= e.size;
  }

  private tryAlloc(size: number): { arena: Arena; off: number } | undefined {
    for (const arena of this.arenas) {
      const off = arena.alloc(size);
      if (off >= 0) return { arena, off };
    }
    return undefined;
  }

  /** A block for `size` bytes, spilling what may be spilled to make room. */
  place(size: number, forId: string): { arena: Arena; off: number } {
    const biggest = Math.max(0, ...this.arenas.map((a) => a.capacity));
    if (size > biggest) {
      throw new ObjectStoreFullError(`object ${forId} needs ${formatBytes(size)} but the object store holds at most ${formatBytes(biggest)} per object (capacity ${formatBytes(this.opts.capacity)}); raise objectStoreMemory`);
    }
    for (;;) {
      const got = this.tryAlloc(size);
      if (got) return got;
      if (this.spill(Math.max(size, this.opts.minSpillBytes)) === 0) throw this.fullError(size, forId);
    }
  }

  /**
   * Spills at least `bytes` of sealed blocks (or all there are), oldest
   * first, skipping pinned ones. An object already on disk (spilled before
   * and restored) just loses its memory copy. Returns the bytes freed.
   */
  private spill(bytes: number): number {
    const victims: Entry[] = [];
    let freed = 0;
    for (const e of this.resident) {
      if (freed >= bytes) break;
      if (e.counts[RefKind.Pinned]! > 0) continue;
      victims.push(e);
      freed += e.size;
    }
    if (victims.length === 0) return 0;
    const toWrite = victims.filter((e) => !e.spill);
    if (toWrite.length > 0) {
      const locs = this.pager.write(toWrite.map((e) => ({ arena: e.arena!, off: e.off, len: alignUp(e.size) })));
      toWrite.forEach((e, i) => { e.spill = locs[i]; });
    }
    for (const e of victims) this.dropBlock(e);
    return freed;
  }

  /** Past the threshold, spill in the background (a put only waits for spilling when it does not fit). */
  private spillSoon(): void {
    if (this.spillQueued || this.used <= this.opts.spillThreshold * this.opts.capacity) return;
    this.spillQueued = true;
    setImmediate(() => {
      this.spillQueued = false;
      if (this.closed) return;
      const over = this.used - this.opts.spillThreshold * this.opts.capacity;
      if (over <= 0) return;
      try {
        this.spill(Math.max(over, this.opts.minSpillBytes));
      } catch (e) {
        process.emitWarning(`tsray: spilling failed: ${(e as Error).message}`, { code: e instanceof OutOfDiskError ? 'TSRAY_OUT_OF_DISK' : 'TSRAY_SPILL' });
      }
    });
  }

  private fullError(size: number, forId: string): ObjectStoreFullError {
    const holders = [...this.resident].sort((a, b) => b.size - a.size).slice(0, 5).map((e) => {
      const why = e.counts.map((n, k) => (n > 0 ? `${REF_NAMES_SHORT[k]}=${n}` : '')).filter(Boolean).join(' ');
      return `  ${e.id} ${formatBytes(e.size)} (${why || 'unreferenced'}) ${e.site.what}`;
    });
    return new ObjectStoreFullError(
      `object ${forId} needs ${formatBytes(size)}, but the object store (capacity ${formatBytes(this.opts.capacity)}, ${formatBytes(this.used)} in use) `
      + `has no room and every object in memory is pinned by a reader. Largest holders:\n${holders.join('\n')}\n`
      + 'Release views from getView() that you no longer read, release refs, or raise objectStoreMemory.',
    );
  }

  /**
   * Brings a spilled object back into an arena; false when there is no room
   * (read it privately then): every block in memory is pinned, or making
   * room would mean spilling to a full disk.
   */
  restore(e: Entry): boolean {
    if (e.arena) {
      // Reading makes it young again: spill the least recently used first.
      this.resident.delete(e);
      this.resident.add(e);
      return true;
    }
    const loc = e.spill!;
    let got: { arena: Arena; off: number };
    try {
      got = this.place(loc.length, e.id);
    } catch (err) {
      if (err instanceof ObjectStoreFullError || err instanceof OutOfDiskError) return false;
      throw err;
    }
    try {
      this.pager.restore(loc, got.arena, got.off);
    } catch (err) {
      got.arena.release(got.off, loc.length);
      throw this.lost(e, err);
    }
    e.arena = got.arena;
    e.off = got.off;
    this.resident.add(e);
    this.used += e.size;
    this.spillSoon();
    return true;
  }

  /**
   * Where to read `e`'s sealed block: its arena block (restored if it was
   * spilled and there is room), else a private copy (fetched from another
   * node, or read from its spill file).
   */
  bytesOf(e: Entry): { bytes: Uint8Array; shared: boolean } {
    if (e.privateBytes) return { bytes: e.privateBytes, shared: false };
    if (e.arena || this.restore(e)) return { bytes: e.arena!.bytes(e.off, e.size), shared: true };
    return { bytes: this.readPrivate(e).subarray(0, e.size), shared: false };
  }

  readPrivate(e: Entry): Uint8Array {
    const buf = new Uint8Array(e.spill!.length);
    try {
      this.pager.readPrivate(e.spill!, buf);
    } catch (err) {
      throw this.lost(e, err);
    }
    return buf;
  }

  /** The object's bytes are gone: it fails with ObjectLostError from now on. */
  lost(e: Entry, err: unknown): Error {
    if (!(err instanceof SpillReadError) && !(err instanceof CorruptBlockError)) return err as Error;
    const error = new ObjectLostError(e.id, err.message);
    if (e.spill) { this.pager.drop(e.spill); e.spill = undefined; }
    e.state = FAILED;
    e.error = error;
    return error;
  }

  /** Bytes of sealed blocks in the arenas. */
  get usedBytes(): number {
    return this.used;
  }

  /** Entries with a block in an arena now. */
  get residentCount(): number {
    return this.resident.size;
  }

  get spillStats(): SpillStats {
    return { ...this.pager.stats };
  }

  get spillDir(): string {
    return this.pager.dir;
  }

  /** Deletes this node's spill files; the arenas go with the last view of them. */
  close(): void {
    this.closed = true;
    this.resident.clear();
    this.pager.close();
  }
}

const REF_NAMES_SHORT = ['local', 'pending-task', 'captured', 'pinned', 'actor'];
