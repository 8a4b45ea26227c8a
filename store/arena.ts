/**
 * One arena of a node's object store: a shared `WebAssembly.Memory` that the
 * driver and every worker thread of the node map, so a sealed object is read
 * in place by anyone. The address space is reserved up front (shared memories
 * cannot move) and committed lazily: the memory grows only as far as the
 * highest block handed out.
 */
import { Allocator } from './allocator.js';

const PAGE = 65536;
/** wasm32 memories stop at 65,536 pages (4 GiB); one page is kept back so lengths fit in a u32. */
export const MAX_ARENA_BYTES = (65536 - 1) * PAGE;

export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly allocator: Allocator;

  constructor(readonly index: number, readonly capacity: number) {
    const pages = Math.ceil(capacity / PAGE);
    this.memory = new WebAssembly.Memory({ initial: 0, maximum: Math.max(pages, 1), shared: true });
    this.allocator = new Allocator(capacity);
  }

  /** A block of `size` bytes, committed and ready to write; -1 when no hole fits. */
  alloc(size: number): number {
    const off = this.allocator.alloc(size);
    if (off < 0) return -1;
    const need = Math.ceil(this.allocator.highWater / PAGE);
    const have = this.memory.buffer.byteLength / PAGE;
    if (need > have) this.memory.grow(need - have);
    return off;
  }

  release(off: number, size: number): void {
    this.allocator.release(off, size);
  }

  /** A byte view of a block (valid until the block is released). */
  bytes(off: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, off, len);
  }

  /** Bytes of memory committed so far (shared by every thread of the node). */
  get committed(): number {
    return this.memory.buffer.byteLength;
  }
}

/** Splits a store capacity into arenas no larger than a wasm32 memory allows. */
export function arenaSizes(capacity: number, max = MAX_ARENA_BYTES): number[] {
  const sizes: number[] = [];
  for (let left = capacity; left > 0; left -= max) sizes.push(Math.min(left, max));
  return sizes;
}
