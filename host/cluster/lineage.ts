/**
 * Lineage: how a driver makes its tasks' results again (Ray's lineage
 * reconstruction). A task that finished is kept, its arguments still held,
 * while any of its results exists; when a node dies holding the only copy of
 * a result, the task runs again (and, the same way, the tasks that made its
 * lost arguments), while its `maxRetries` allow. Objects that were put, and
 * results of actor calls or streaming tasks, are not made again.
 *
 * A kept task holds its results by id only, never the refs its submitter
 * holds: those go when the submitter drops them, and the task is let go
 * when the store frees its last result (`freed`).
 */
export interface Kept {
  readonly returns: readonly { readonly id: string }[];
}

export class Lineage<W extends Kept> {
  private readonly byReturn = new Map<string, W>();
  /** How many of each kept task's results are not freed yet. */
  private readonly left = new Map<W, number>();

  /** `letGo` releases what a kept task holds (its arguments), once nothing can ask for it again. */
  constructor(private readonly letGo: (w: W) => void) {}

  /** Keeps `w` (the latest run of its task) for those of its results that still `exist`. */
  keep(w: W, exists: (id: string) => boolean): void {
    const live = w.returns.filter((r) => exists(r.id));
    if (live.length === 0) { this.letGo(w); return; }
    for (const r of live) this.byReturn.set(r.id, w);
    this.left.set(w, live.length);
  }

  /** The kept task that made object `id`. */
  of(id: string): W | undefined {
    return this.byReturn.get(id);
  }

  /** `next` (a new run of `old`'s task) stands for `old`'s results from now on. */
  replace(old: W, next: W): void {
    for (const r of old.returns) if (this.byReturn.get(r.id) === old) this.byReturn.set(r.id, next);
    const n = this.left.get(old);
    this.left.delete(old);
    if (n !== undefined) this.left.set(next, n);
  }

  /** Forgets `w` (its run ended, or it will not run again); what it holds is its owner's to let go. */
  forget(w: W): void {
    for (const r of w.returns) if (this.byReturn.get(r.id) === w) this.byReturn.delete(r.id);
    this.left.delete(w);
  }

  /** Object `id` was freed: once all of its task's results are, the task is let go. */
  freed(id: string): void {
    const w = this.byReturn.get(id);
    if (!w) return;
    this.byReturn.delete(id);
    const n = (this.left.get(w) ?? 1) - 1;
    if (n > 0) { this.left.set(w, n); return; }
    this.left.delete(w);
    this.letGo(w);
  }

  /** How many tasks it keeps. */
  get size(): number {
    return this.left.size;
  }
}
