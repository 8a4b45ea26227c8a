/**
 * Lineage: how a driver makes its tasks' results again (Ray's lineage
 * reconstruction). A task that finished is kept, its arguments still held,
 * while any of its results is referenced. When a node dies holding the only
 * copy of a result, the task runs again (and, the same way, the tasks that
 * made its lost arguments), while its `maxRetries` allow. Objects that were
 * put, and results of actor calls or streaming tasks, are not made again.
 */
import type { ObjectRef } from '../../store/object-ref.js';

/** Work that can be kept: its results, and how to let its arguments go. */
export interface Kept {
  readonly returns: readonly ObjectRef[];
}

export class Lineage<W extends Kept> {
  private readonly byReturn = new Map<string, W>();
  private kept = 0;

  /** `letGo` releases what a kept task holds (its arguments), once nothing can ask for it again. */
  constructor(private readonly letGo: (w: W) => void) {}

  /** Keeps `w` (the latest run of its task) for its results. */
  keep(w: W): void {
    for (const r of w.returns) this.byReturn.set(r.id, w);
    // Tasks whose results are all released are let go now and then, not on every release.
    if (++this.kept % 256 === 0) this.sweep();
  }

  /** The kept task that made object `id`. */
  of(id: string): W | undefined {
    return this.byReturn.get(id);
  }

  /** Forgets `w` (it failed, or will not run again); what it holds is its owner's to let go. */
  forget(w: W): void {
    for (const r of w.returns) if (this.byReturn.get(r.id) === w) this.byReturn.delete(r.id);
  }

  /** Lets go of every kept task whose results were all released. */
  sweep(): void {
    const seen = new Set<W>();
    for (const w of this.byReturn.values()) {
      if (seen.has(w)) continue;
      seen.add(w);
      if (w.returns.every((r) => r.released)) {
        this.forget(w);
        this.letGo(w);
      }
    }
  }

  /** How many tasks it keeps. */
  get size(): number {
    return new Set(this.byReturn.values()).size;
  }
}
