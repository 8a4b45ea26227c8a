/**
 * Object refs as WIT values (`object-ref` of tsray:runtime/objects). A value
 * of that type is the ref itself: the driver passes an `ObjectRef`, the guest
 * holds `{ objectId }`. Walks are directed by the WIT type, so only positions
 * typed `object-ref` are touched and a record that merely looks like one is
 * left alone.
 */
import { camelCase } from '../abi/names.js';
import { ArgumentTypeError, InvalidArgumentError } from '../errors.js';
import type { FuncDef, Param, WitType } from '../wit/types.js';
import { ObjectRef } from '../../store/object-ref.js';

export function isRefType(t: WitType): boolean {
  return t.kind === 'record' && t.name === 'object-ref' && (t.owner ?? '').startsWith('tsray:runtime/objects');
}

const mentionCache = new WeakMap<WitType, boolean>();

/** Whether `t` holds an `object-ref` anywhere. */
export function mentionsRef(t: WitType | undefined): boolean {
  if (!t) return false;
  let m = mentionCache.get(t);
  if (m !== undefined) return m;
  switch (t.kind) {
    case 'record': m = isRefType(t) || t.fields.some((f) => mentionsRef(f.type)); break;
    case 'list': m = mentionsRef(t.elem); break;
    case 'option': m = mentionsRef(t.type); break;
    case 'tuple': m = t.types.some(mentionsRef); break;
    case 'variant': m = t.cases.some((c) => mentionsRef(c.type)); break;
    case 'result': m = mentionsRef(t.ok) || mentionsRef(t.err); break;
    default: m = false;
  }
  mentionCache.set(t, m);
  return m;
}

/** Whether a function takes or returns refs as values. */
export function funcUsesRefs(f: FuncDef): boolean {
  return mentionsRef(f.result) || f.params.some((p) => mentionsRef(p.type));
}

/**
 * `v` (of type `t`) with `f` applied at every `object-ref` position; the
 * rest is rebuilt only where a ref lies below. A value of the wrong shape is
 * passed through for the type check that follows to refuse.
 */
export function mapRefs(t: WitType, v: unknown, f: (r: unknown) => unknown): unknown {
  if (!mentionsRef(t) || v === null || v === undefined) return isRefType(t) ? f(v) : v;
  switch (t.kind) {
    case 'record': {
      if (isRefType(t)) return f(v);
      if (typeof v !== 'object') return v;
      const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
      for (const field of t.fields) {
        const k = camelCase(field.name);
        if (k in out) out[k] = mapRefs(field.type, out[k], f);
      }
      return out;
    }
    case 'list': return Array.isArray(v) ? v.map((x) => mapRefs(t.elem, x, f)) : v;
    case 'option': return mapRefs(t.type, v, f);
    case 'tuple': return Array.isArray(v) ? v.map((x, i) => (i < t.types.length ? mapRefs(t.types[i]!, x, f) : x)) : v;
    case 'variant': case 'result': {
      if (typeof v !== 'object' || !('tag' in v)) return v;
      const o = v as { tag: string; val?: unknown };
      const c = t.kind === 'result' ? (o.tag === 'ok' ? t.ok : o.tag === 'err' ? t.err : undefined) : t.cases.find((x) => x.name === o.tag)?.type;
      return c && 'val' in o ? { ...o, val: mapRefs(c, o.val, f) } : v;
    }
    default: return v;
  }
}

/**
 * The arguments a task is sent with: an `ObjectRef` at an `object-ref`
 * position becomes `{ objectId }` and is returned in `borrowed` (the task
 * holds it while it runs); anything else there is an `ArgumentTypeError`.
 * Top-level refs for other parameters stay refs, resolved to their values.
 */
export function passRefs(fname: string, params: readonly Param[], args: readonly unknown[]): { args: unknown[]; borrowed: ObjectRef[] } {
  const borrowed: ObjectRef[] = [];
  const out = args.map((a, i) => {
    const p = params[i];
    if (!p || !mentionsRef(p.type)) return a;
    return mapRefs(p.type, a, (r) => {
      if (!(r instanceof ObjectRef)) throw new ArgumentTypeError(`${fname}: argument '${p.name}' holds an object-ref position given ${r === null ? 'null' : typeof r === 'object' ? 'a plain object' : typeof r}; pass an ObjectRef there`);
      if (r.released) throw new InvalidArgumentError(`${r} was released; it cannot be passed to a task`);
      borrowed.push(r);
      return { objectId: r.id };
    });
  });
  return { args: out, borrowed };
}
