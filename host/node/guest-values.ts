/**
 * Values between the host and guests' `put`, `get`, `submit` and `emit`: CBOR
 * (cbor-x), with object refs as tag 40001 around their id (the guest may name
 * only refs its scope holds) and typed arrays as RFC 8746 tags. A value that
 * is one typed array, the common large case, is framed by hand: one copy,
 * where a general encoder walks it several times.
 */
import { decode, encode, Tag } from 'cbor-x';
import { InvalidArgumentError } from '../errors.js';
import { ObjectRef } from '../../store/object-ref.js';
import type { RefScope } from './ref-scope.js';

/** The CBOR tag of an object ref inside a guest's value (the SDK's `REF_TAG`). */
export const REF_TAG = 40001;
/** How deep a guest's value may nest when its refs are looked for. */
const MAX_DEPTH = 64;

type TypedArrayCtor = { new(b: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number };
/** RFC 8746 little-endian tags, as cbor-x reads and writes them. */
const TYPED: [TypedArrayCtor, number][] = [
  [Uint16Array, 69], [Uint32Array, 70], [BigUint64Array, 71], [Int8Array, 72], [Int16Array, 77],
  [Int32Array, 78], [BigInt64Array, 79], [Float32Array, 85], [Float64Array, 86],
] as unknown as [TypedArrayCtor, number][];
const BY_TAG = new Map(TYPED.map(([c, t]) => [t, c]));

/** `v` with every ref tag replaced by the scope's ref (NotGivenError for any other id). */
function refsIn(v: unknown, scope: RefScope, depth = 0): unknown {
  if (depth > MAX_DEPTH) throw new InvalidArgumentError(`a value nests deeper than ${MAX_DEPTH} levels`);
  if (v instanceof Tag) {
    if (v.tag !== REF_TAG) throw new InvalidArgumentError(`CBOR tag ${v.tag} is not supported in a value (object refs are tag ${REF_TAG})`);
    return scope.ref(v.value);
  }
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = refsIn(v[i], scope, depth + 1);
    return v;
  }
  if (v instanceof Map) throw new InvalidArgumentError('maps with non-string keys are not supported in a value');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) o[k] = refsIn(o[k], scope, depth + 1);
  return o;
}

/** `v` for the guest: refs become tags, and the guest holds them from now on. */
function tagged(v: unknown, scope: RefScope): unknown {
  if (v instanceof ObjectRef) return new Tag(scope.own(v).id, REF_TAG);
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v;
  if (Array.isArray(v)) return v.map((x) => tagged(x, scope));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tagged(x, scope)]));
}

/** A lone typed array: its bytes, read in one copy; undefined for anything else. */
function typedArrayIn(b: Uint8Array): ArrayBufferView | undefined {
  if (b.length < 3 || b[0] !== 0xd8) return undefined;
  const Ctor = BY_TAG.get(b[1]!);
  if (!Ctor || b[2]! >> 5 !== 2) return undefined;
  const info = b[2]! & 31;
  const extra = info < 24 ? 0 : info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : -1;
  if (extra < 0) return undefined;
  let len = info < 24 ? info : 0;
  for (let i = 0; i < extra; i++) len = len * 256 + b[3 + i]!;
  const start = 3 + extra;
  if (start + len !== b.length || len % Ctor.BYTES_PER_ELEMENT !== 0) return undefined;
  return new Ctor(b.slice(start).buffer);
}

/** Decodes a guest's CBOR `bytes`; refs in it must be in `scope`. */
export function fromGuest(bytes: Uint8Array, scope: RefScope, what: string): unknown {
  const fast = typedArrayIn(bytes);
  if (fast) return fast;
  let v: unknown;
  try {
    v = decode(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`${what} is not valid CBOR: ${(e as Error).message}`);
  }
  return refsIn(v, scope);
}

/** Encodes `v` for a guest; refs in it join `scope`. */
export function toGuest(v: unknown, scope: RefScope): Uint8Array {
  if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array) && !(v instanceof DataView)) {
    const tag = TYPED.find(([c]) => v instanceof (c as unknown as new () => object))?.[1];
    if (tag !== undefined) {
      const n = v.byteLength;
      const head = n < 24 ? [0x40 | n] : n < 0x100 ? [0x58, n] : n < 0x10000 ? [0x59, n >> 8, n & 255] : [0x5a, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
      const out = new Uint8Array(2 + head.length + n);
      out[0] = 0xd8;
      out[1] = tag;
      out.set(head, 2);
      out.set(new Uint8Array(v.buffer, v.byteOffset, n), 2 + head.length);
      return out;
    }
  }
  return encode(tagged(v, scope));
}
