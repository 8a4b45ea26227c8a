/**
 * A best-fit allocator over one arena's address space, with free blocks
 * coalesced on release. Objects in the store are large (small values live
 * inline in the object table), so the free list stays short and a linear
 * best-fit scan is cheap; best fit plus coalescing keeps long mixed
 * workloads from fragmenting the arena into unusable slivers.
 */

/**
 * Every block starts and ends on a page boundary: any typed array can view
 * it, and the spill pager can write it with direct I/O. Objects here are over
 * 100 KiB, so rounding costs at most a few percent.
 */
export const ALIGN = 4096;

export function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

interface Free { off: number; size: number }

export class Allocator {
  /** Free blocks sorted by offset; neighbours are always merged. */
  private readonly free: Free[];
  private usedBytes = 0;
  /** One past the highest byte ever handed out: the arena grows to cover it. */
  private top = 0;

  constructor(readonly capacity: number) {
    this.free = capacity > 0 ? [{ off: 0, size: capacity }] : [];
  }

  /** The offset of a new block of `size` bytes (rounded up to ALIGN), or -1 when no hole fits. */
  alloc(size: number): number {
    const want = alignUp(Math.max(size, 1));
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size >= want && (best < 0 || f.size < this.free[best]!.size)) {
        best = i;
        if (f.size === want) break;
      }
    }
    if (best < 0) return -1;
    const f = this.free[best]!;
    const off = f.off;
    if (f.size === want) this.free.splice(best, 1);
    else { f.off += want; f.size -= want; }
    this.usedBytes += want;
    if (off + want > this.top) this.top = off + want;
    return off;
  }

  /** Returns a block given out by `alloc` with the same `size`. */
  release(off: number, size: number): void {
    const len = alignUp(Math.max(size, 1));
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]!.off < off) lo = mid + 1; else hi = mid;
    }
    const prev = lo > 0 ? this.free[lo - 1] : undefined;
    const next = this.free[lo];
    if ((prev && prev.off + prev.size > off) || (next && off + len > next.off)) {
      throw new Error(`allocator: block ${off}+${len} overlaps free space (double free?)`);
    }
    this.usedBytes -= len;
    if (prev && prev.off + prev.size === off) {
      prev.size += len;
      if (next && prev.off + prev.size === next.off) { prev.size += next.size; this.free.splice(lo, 1); }
    } else if (next && off + len === next.off) {
      next.off = off;
      next.size += len;
    } else {
      this.free.splice(lo, 0, { off, size: len });
    }
  }

  /** Bytes in live blocks (after rounding). */
  get used(): number {
    return this.usedBytes;
  }

  /** The largest block `alloc` could return now. */
  get largestFree(): number {
    let m = 0;
    for (const f of this.free) if (f.size > m) m = f.size;
    return m;
  }

  /** Number of separate free holes (1 when nothing is allocated). */
  get holes(): number {
    return this.free.length;
  }

  /** High-water mark of handed-out bytes. */
  get highWater(): number {
    return this.top;
  }
}
