/**
 * The five kinds of reference that keep an object alive, as in Ray's
 * `ray memory`. An object is freed when it has none of any kind.
 */
export const enum RefKind {
  /** An ObjectRef held by the driver (released by `release()`, `free()`, `Symbol.dispose` or garbage collection). */
  Local = 0,
  /** An argument of a task or actor call that has not finished. */
  PendingTask = 1,
  /** A ref stored inside another object's value. */
  Captured = 2,
  /** Memory handed out: a typed-array view returned by `get`, or an argument a worker is reading. */
  Pinned = 3,
  /** A constructor argument of a live actor (kept for restarts). */
  ActorHandle = 4,
}

export const REF_KINDS = 5;

/** The names `tsray memory` prints, Ray's. */
export const REF_KIND_NAMES = ['LOCAL_REFERENCE', 'USED_BY_PENDING_TASK', 'CAPTURED_IN_OBJECT', 'PINNED_IN_MEMORY', 'ACTOR_HANDLE'] as const;

export type ReferenceType = typeof REF_KIND_NAMES[number];
