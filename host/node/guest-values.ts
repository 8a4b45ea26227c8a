/**
 * Values between the host and guests' `put`, `get`, `submit` and `emit`: CBOR
 * (cbor-x), with object refs as tag 40001 around their id (the guest may name
 * only refs its scope holds) and typed arrays as RFC 8746 tags (a value
 * that is one typed array is framed by hand: core/typed-array-cbor.ts).
 */
import { decode, encode, Tag } from 'cbor-x';
import { InvalidArgumentError } from '../errors.js';
import { framedTypedArray, typedArrayFrom } from '../core/typed-array-cbor.js';
import { ObjectRef } from '../../store/object-ref.js';
import type { RefScope } from './ref-scope.js';

/** The CBOR tag of an object ref inside a guest's value (the SDK's `REF_TAG`). */
export const REF_TAG = 40001;
/** How deep a guest's value may nest when its refs are looked for. */
const MAX_DEPTH = 64;

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

/** Decodes a guest's CBOR `bytes`; refs in it must be in `scope`. */
export function fromGuest(bytes: Uint8Array, scope: RefScope, what: string): unknown {
  const fast = typedArrayFrom(bytes);
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
  return framedTypedArray(v) ?? encode(tagged(v, scope));
}
