/**
 * A value that is one typed array, the common large case between host and
 * guests, framed as CBOR by hand (RFC 8746's little-endian tags, as cbor-x
 * reads and writes them): one copy, where a general encoder walks the bytes
 * several times. Anything else is left to cbor-x.
 */
import { encode } from 'cbor-x';

type TypedArrayCtor = { new(b: ArrayBuffer): ArrayBufferView; BYTES_PER_ELEMENT: number };
/** RFC 8746 little-endian tags, as cbor-x reads and writes them. */
const TYPED: [TypedArrayCtor, number][] = [
  [Uint16Array, 69], [Uint32Array, 70], [BigUint64Array, 71], [Int8Array, 72], [Int16Array, 77],
  [Int32Array, 78], [BigInt64Array, 79], [Float32Array, 85], [Float64Array, 86],
] as unknown as [TypedArrayCtor, number][];
const BY_TAG = new Map(TYPED.map(([c, t]) => [t, c]));

/** `v` as CBOR: by hand when it is one typed array, else by cbor-x. */
export function encodeValue(v: unknown): Uint8Array {
  return framedTypedArray(v) ?? encode(v);
}

/** `v` as CBOR if it is a typed array with a tag (Uint8Array is a byte string: cbor-x's job), else undefined. */
export function framedTypedArray(v: unknown): Uint8Array | undefined {
  if (!ArrayBuffer.isView(v) || v instanceof Uint8Array || v instanceof DataView) return undefined;
  const tag = TYPED.find(([c]) => v instanceof (c as unknown as new () => object))?.[1];
  if (tag === undefined) return undefined;
  const n = v.byteLength;
  const head = n < 24 ? [0x40 | n] : n < 0x100 ? [0x58, n] : n < 0x10000 ? [0x59, n >> 8, n & 255] : [0x5a, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  const out = new Uint8Array(2 + head.length + n);
  out[0] = 0xd8;
  out[1] = tag;
  out.set(head, 2);
  out.set(new Uint8Array(v.buffer, v.byteOffset, n), 2 + head.length);
  return out;
}

/** A lone typed array: its bytes, read in one copy; undefined for anything else. */
export function typedArrayFrom(b: Uint8Array): ArrayBufferView | undefined {
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

