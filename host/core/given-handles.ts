/**
 * Actor handles are capabilities: a guest may call only the actors whose
 * handles were passed to it, in the arguments of its task or of its actor
 * (constructor and every call), or that came back to it from its own calls.
 * The worker keeps that set and refuses any other id before the call leaves
 * the thread, so a guessed or made-up id never reaches an actor.
 */

/** Adds to `into` the id of every actor handle (`{ id }`) inside `v`. */
export function collectHandles(v: unknown, into: Set<string>): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) return;
  if (Array.isArray(v)) {
    for (const x of v) collectHandles(x, into);
    return;
  }
  const keys = Object.keys(v);
  const id = (v as { id?: unknown }).id;
  if (keys.length === 1 && typeof id === 'string') { into.add(id); return; }
  for (const k of keys) collectHandles((v as Record<string, unknown>)[k], into);
}

/** A set of the handles inside `values`. */
export function handlesIn(values: unknown[]): Set<string> {
  const out = new Set<string>();
  collectHandles(values, out);
  return out;
}

/** The error a guest sees for an actor id it was never given. */
export function notGiven(actorId: string): string {
  return `NotGivenError (ERR_NOT_GIVEN): actor ${actorId} was not passed to this task or actor; pass its handle as an argument to call it`;
}
