/**
 * The object refs one guest holds (a task for its run, an actor for its
 * life), as Ray's ownership model has them: refs passed in are borrowed
 * (their holder keeps them alive), refs it makes (`put`, submitted tasks'
 * results, refs found inside values it read) are owned and released when the
 * scope closes, unless it returned them (the result then captures them).
 * Refs are capabilities: a guest names only ids in its scope.
 */
import { NotGivenError, ObjectStoreFullError } from '../errors.js';
import type { ObjectRef } from '../../store/object-ref.js';

/** How many refs one guest may hold at once: a bound on what a guest that leaks costs the host. */
export const MAX_HELD_REFS = 100_000;

export class RefScope {
  private readonly held = new Map<string, { ref: ObjectRef; owned: boolean }>();
  /** The first result ref of each task it submitted, for a recursive cancel. */
  readonly children: ObjectRef[] = [];
  /** Actors its guest created that end with it (not detached). */
  readonly actors: string[] = [];
  /** Undo for each of its requests still blocked (run when the scope closes). */
  readonly blocked = new Set<() => void>();
  private closed = false;
  /** The worker thread its guest runs on (for `tsray memory`'s rows). */
  threadId = 0;

  constructor(readonly key: string, borrowed: readonly ObjectRef[] = []) {
    for (const r of borrowed) this.held.set(r.id, { ref: r, owned: false });
  }

  get size(): number {
    return this.held.size;
  }

  /** Takes ownership of a fresh ref (released when the scope closes). */
  own(ref: ObjectRef): ObjectRef {
    if (this.closed) { ref.release(); return ref; }
    const had = this.held.get(ref.id);
    if (had) {
      // Already held: keep one reference.
      if (had.owned) ref.release();
      else this.held.set(ref.id, { ref, owned: true });
      return had.owned ? had.ref : ref;
    }
    if (this.held.size >= MAX_HELD_REFS) {
      ref.release();
      throw new ObjectStoreFullError(`a guest may hold at most ${MAX_HELD_REFS} object refs at once; release the ones it no longer needs`);
    }
    this.held.set(ref.id, { ref, owned: true });
    return ref;
  }

  /** The ref the guest names by `id`; `NotGivenError` when it holds none such. */
  ref(id: unknown): ObjectRef {
    const h = typeof id === 'string' ? this.held.get(id) : undefined;
    if (!h) throw new NotGivenError(`object ${typeof id === 'string' ? id.slice(0, 64) : '(not a string)'} was not given to this guest: it may use only refs passed to it, or that it made or got back`);
    return h.ref;
  }

  /** Drops the guest's reference to `id` (a borrowed ref is only forgotten: its holder keeps it). */
  release(id: string): void {
    const h = this.held.get(id);
    if (!h) return;
    this.held.delete(id);
    if (h.owned) h.ref.release();
  }

  /** The ids of the refs it owns (LOCAL_REFERENCEs held by its guest). */
  *owned(): Iterable<string> {
    for (const [id, h] of this.held) if (h.owned) yield id;
  }

  /** The guest is gone: its blocked requests end and the refs it owns are released. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const undo of [...this.blocked]) undo();
    this.blocked.clear();
    for (const h of this.held.values()) if (h.owned) h.ref.release();
    this.held.clear();
  }
}
