/**
 * Object refs as values crossing nodes: a ref a task is passed at an
 * `object-ref` position, and refs a task returns inside its value.
 *
 * On the wire a ref is a `WireRef`: the location of its sealed block (the
 * receiver pulls it from there) or, for a small object, its value. The
 * receiver makes an object of its own from it, under a new id:
 * - arguments keep the sender's `{ objectId }` placeholders (core/ref-values.ts)
 *   and carry `refs` by the sender's id; the receiving node, which knows the
 *   function's WIT types, maps each placeholder to its own copy;
 * - a result's value has each ref replaced by a mark `{ [REF_MARK]: i }`
 *   (its position in the result's `refs`), found again by a walk on arrival.
 *
 * A ref whose own value holds refs does not cross (yet): sending one is a
 * `RuntimeStateError`, never a dangling id on the other side.
 */
import { ObjectRef } from '../../store/object-ref.js';
import type { ObjectStore, RemoteLocation } from '../../store/object-store.js';
import { RuntimeStateError } from '../errors.js';
import { isLocation } from './remote-arg.js';
import { fromWire, toWire } from '../core/error-codec.js';

export type { WireRef };
import type { ResultFrame, WireRef } from './protocol.js';


/** The key of a ref's mark inside a result value. */
export const REF_MARK = '\u0000tsray:ref';

/** Most refs one task's arguments or one result may carry across (a guest holds at most 100,000). */
export const MAX_WIRE_REFS = 100_000;

/** The sender's store, and the location it hands out for a sealed block of its own (from its object server). */
export interface RefSource {
  objects: ObjectStore;
  location: (objectId: string, size: number) => RemoteLocation;
}

/**
 * `ref` as it leaves `src`: the location of its block (one held elsewhere
 * keeps the location it came with), or its value when it is small.
 */
export function wireRef(src: RefSource, ref: ObjectRef): WireRef {
  const { objects } = src;
  const st = objects.peek(ref);
  if (!st) throw new Error(`internal: ${ref} sent to another node before it was ready`);
  if (!st.ok) return { id: ref.id, error: toWire(st.error) };
  if (objects.capturesRefs(ref)) throw new RuntimeStateError(`${ref} holds object refs in its value; such a ref does not cross to another node yet (pass the refs inside it directly)`);
  const loc = objects.remoteOf(ref);
  if (loc) return { id: ref.id, at: loc };
  const size = objects.blockSize(ref);
  if (size !== undefined) return { id: ref.id, at: src.location(ref.id, size) };
  // Read by id: the work sending it holds the object, though its submitter may have released its ref.
  return { id: ref.id, value: objects.value(ref, false) };
}

/** Whether `w` is a well-formed `WireRef` (a peer's word is checked before anything is made of it). */
export function isWireRef(w: unknown): w is WireRef {
  if (w === null || typeof w !== 'object') return false;
  const o = w as Record<string, unknown>;
  if (o.id !== undefined && typeof o.id !== 'string') return false;
  if ('at' in o) return isLocation(o.at);
  if ('error' in o) return o.error !== null && typeof o.error === 'object' && typeof (o.error as Record<string, unknown>).message === 'string';
  return 'value' in o;
}

/** The locations among `refs` (a list a peer sent: anything malformed is skipped here and refused where it is read). */
export function locationsIn(refs: unknown): RemoteLocation[] {
  if (!Array.isArray(refs)) return [];
  const out: RemoteLocation[] = [];
  for (const w of refs) if (isWireRef(w) && 'at' in w) out.push(w.at);
  return out;
}

/** The objects result `f` left on its node: its sealed returns, and the refs its values hold. */
export function resultLocations(f: Pick<ResultFrame, 'returns'>): RemoteLocation[] {
  return (f.returns ?? []).flatMap((r) => 'object' in r ? [r.object] : locationsIn(r.refs));
}

/**
 * Makes local objects of `refs`: a value is put here, a failure fails a
 * new object; a location becomes what `remote` makes of it (a driver reads
 * it on demand, a node pulls it). Throws on a malformed list, before
 * anything is made.
 */
export function landRefs<R>(objects: ObjectStore, refs: unknown, remote: (loc: RemoteLocation) => R): (ObjectRef | R)[] {
  if (!Array.isArray(refs) || refs.length > MAX_WIRE_REFS || !refs.every(isWireRef)) throw new RuntimeStateError('malformed object refs from another node');
  return refs.map((w) => {
    if ('at' in w) return remote(w.at);
    if ('value' in w) return objects.put(w.value);
    const r = objects.create();
    objects.fail(r, fromWire(w.error));
    return r;
  });
}

const plain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/**
 * `v` with each `ObjectRef` in it replaced by its mark: `refs` has one ref
 * per object (a second ref to the same object shares its mark and is in
 * `extra`, for the caller to release). Walks arrays and plain objects only:
 * typed arrays and other values are left whole, so the walk is cheap for
 * bulk data.
 */
export function markRefs(v: unknown): { value: unknown; refs: ObjectRef[]; extra: ObjectRef[] } {
  const refs: ObjectRef[] = [];
  const extra: ObjectRef[] = [];
  const at = new Map<string, number>();
  const walk = (x: unknown): unknown => {
    if (x instanceof ObjectRef) {
      let i = at.get(x.id);
      if (i === undefined) { at.set(x.id, (i = refs.length)); refs.push(x); } else extra.push(x);
      return { [REF_MARK]: i };
    }
    if (Array.isArray(x)) return x.map(walk);
    if (!plain(x)) return x;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) out[k] = walk(x[k]);
    return out;
  };
  return { value: walk(v), refs, extra };
}

/** `v` with each mark replaced by `refs[i]`; a mark out of range throws. */
export function unmarkRefs(v: unknown, refs: readonly ObjectRef[]): unknown {
  if (Array.isArray(v)) return v.map((x) => unmarkRefs(x, refs));
  if (!plain(v)) return v;
  if (REF_MARK in v) {
    const i = v[REF_MARK];
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= refs.length) throw new RuntimeStateError('a result marks an object ref it did not send');
    return refs[i];
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = unmarkRefs(v[k], refs);
  return out;
}
