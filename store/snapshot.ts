import { ObjectRef } from './object-ref.js';

/**
 * Copies a value so that changes by whoever holds the copy and changes by
 * whoever holds the original cannot reach each other. Typed arrays, Buffers,
 * DataViews and ArrayBuffers are copied as one block each (a Buffer stays a
 * Buffer); arrays, plain objects, Maps and Sets are walked, keeping cycles and
 * shared parts; other objects (Dates, class instances) are structured-cloned.
 * Refs inside stay refs. Primitives cost nothing.
 */
export function snapshotValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  return flatCopy(v) ?? copyWith(v, new Map());
}

const primitive = (x: unknown): boolean => x === null || typeof x !== 'object';

/** The common small case, without cycle bookkeeping: an array or plain object of primitives; undefined for anything else. */
function flatCopy(v: object): unknown {
  if (Array.isArray(v)) return v.every(primitive) ? v.slice() : undefined;
  if (Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  for (const k in v) if (!primitive((v as Record<string, unknown>)[k])) return undefined;
  return { ...v };
}

function copyWith(v: unknown, seen: Map<object, unknown>): unknown {
  if (v === null || typeof v !== 'object' || v instanceof ObjectRef) return v;
  const done = seen.get(v);
  if (done !== undefined) return done;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
    const c = copyBulk(v);
    seen.set(v, c);
    return c;
  }
  if (Array.isArray(v)) {
    const a: unknown[] = new Array(v.length);
    seen.set(v, a);
    for (let i = 0; i < v.length; i++) a[i] = copyWith(v[i], seen);
    return a;
  }
  if (v instanceof Map) {
    const m = new Map();
    seen.set(v, m);
    for (const [k, x] of v) m.set(copyWith(k, seen), copyWith(x, seen));
    return m;
  }
  if (v instanceof Set) {
    const s = new Set();
    seen.set(v, s);
    for (const x of v) s.add(copyWith(x, seen));
    return s;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const o: Record<string, unknown> = proto === null ? Object.create(null) : {};
    seen.set(v, o);
    for (const k of Object.keys(v)) o[k] = copyWith((v as Record<string, unknown>)[k], seen);
    return o;
  }
  const c = structuredClone(v);
  seen.set(v, c);
  return c;
}

/** One block copy of bulk data, in private memory, of the same type. */
export function copyBulk(b: ArrayBufferView | ArrayBufferLike): unknown {
  if (b instanceof ArrayBuffer) return b.slice(0);
  if (b instanceof SharedArrayBuffer) return new Uint8Array(b).slice().buffer;
  if (b instanceof DataView) return new DataView(new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice().buffer);
  if (Buffer.isBuffer(b)) return Buffer.from(b);
  // TypedArray#slice allocates an unshared buffer of the same type.
  return (b as unknown as { slice(): unknown }).slice();
}
