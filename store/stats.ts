/**
 * The store's read-outs: one row per object for `tsray memory`
 * (`ObjectStore.objects()`), and the totals of `ObjectStore.stats()`.
 * Read-only over the object table and the block space.
 */
import type { BlockSpace } from './block-space.js';
import type { CallSite } from './call-site.js';
import { PENDING, READY, type Entry } from './entry.js';
import type { SpillStats } from './spill.js';

/** What `report()` returns for one object. */
export interface ObjectInfo {
  id: string;
  /** Undefined while pending. */
  size: number | undefined;
  state: 'pending' | 'ready' | 'failed';
  where: 'inline' | 'memory' | 'disk' | 'memory+disk' | 'remote' | 'none';
  counts: number[];
  workerPins: [number, number][];
  site: CallSite;
}

export interface StoreStats {
  capacity: number;
  /** Bytes of sealed blocks in the arenas (primary copies in memory). */
  usedBytes: number;
  /** Estimated bytes of small values kept inline. */
  inlineBytes: number;
  /** Shared memory committed so far (the arenas grow on demand). */
  committedBytes: number;
  objects: number;
  objectsInMemory: number;
  objectsSpilled: number;
  arenas: number;
  largestFreeBlock: number;
  spill: SpillStats;
}

/** Every object with its references. */
export function objectInfos(entries: Iterable<Entry>): ObjectInfo[] {
  const out: ObjectInfo[] = [];
  for (const e of entries) {
    out.push({
      id: e.id,
      size: e.state === PENDING ? undefined : e.size,
      state: e.state === PENDING ? 'pending' : e.state === READY ? 'ready' : 'failed',
      where: e.isInline ? 'inline' : e.arena && e.spill ? 'memory+disk' : e.arena ? 'memory' : e.spill ? 'disk' : e.remote ? 'remote' : 'none',
      counts: [...e.counts],
      workerPins: e.workerPins ? [...e.workerPins] : [],
      site: e.site,
    });
  }
  return out;
}

export function storeStats(entries: ReadonlyMap<string, Entry>, space: BlockSpace, capacity: number, inlineBytes: number): StoreStats {
  let spilled = 0;
  for (const e of entries.values()) if (e.spill && !e.arena) spilled++;
  return {
    capacity,
    usedBytes: space.usedBytes,
    inlineBytes,
    committedBytes: space.arenas.reduce((s, a) => s + a.committed, 0),
    objects: entries.size,
    objectsInMemory: space.residentCount,
    objectsSpilled: spilled,
    arenas: space.arenas.length,
    largestFreeBlock: Math.max(0, ...space.arenas.map((a) => a.allocator.largestFree)),
    spill: space.spillStats,
  };
}
