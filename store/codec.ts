/**
 * How values are laid out in the object store. A value is split into its
 * bulk data (every typed array, DataView and ArrayBuffer in it) and a
 * skeleton (everything else, serialized with V8's structured-clone format).
 * In an arena block the bulk data comes first, each buffer 64-byte aligned,
 * so a reader gets typed arrays that are views of the shared memory, with
 * no copy; the skeleton follows. ObjectRefs inside a value are stored by id.
 *
 * Block layout (u32 little-endian header, then data):
 *   [magic 'TSR1'][skeleton offset][skeleton length][flags] ... buffers ... skeleton
 */
import { serialize, deserialize } from 'node:v8';
import { ObjectRef } from './object-ref.js';
import { copyBulk, snapshotValue } from './snapshot.js';
import { InvalidArgumentError } from '../host/errors.js';

/** Values whose estimated size is at most this stay inline in the object table (Ray: 100 KiB). */
export const INLINE_MAX = 100 * 1024;

const MAGIC = 0x31525354;
/** Buffers inside a block start on this boundary (any typed array's alignment, and a cache line). */
const ALIGN = 64;
const HEADER = ALIGN;
const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;
const HAS_MARKERS = 1;
/** Marker keys: a NUL prefix keeps them apart from any key a user would write. */
const BUF = '\u0000tsray:buf';
const REF = '\u0000tsray:ref';

const VIEW_TYPES = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;
const CODE_DATAVIEW = 100;
const CODE_ARRAYBUFFER = 101;
const CODE_BUFFER = 102;

type Bulk = ArrayBufferView | ArrayBuffer;

/** A value taken apart: the skeleton (with markers) and what it points at. */
export interface Prepared {
  skeleton: unknown;
  bulk: Bulk[];
  /** Marker objects, one per entry of `bulk`, filled with the layout before serializing. */
  markers: Record<string, unknown>[];
  /** Ids of ObjectRefs inside the value (CAPTURED_IN_OBJECT). */
  refs: string[];
  /** Estimated bytes: exact for bulk data, a close guess for the rest. */
  size: number;
  /** The skeleton still holds some of the value's own objects (Dates, class instances) rather than copies. */
  opaque: boolean;
}

function plain(o: object): boolean {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === null;
}

function bulkBytes(b: Bulk): number {
  return b.byteLength;
}

/**
 * Copies the containers of `value` (arrays, plain objects, Maps, Sets) into a
 * skeleton, replacing bulk data and refs with markers. Cycles are kept.
 */
export function prepare(value: unknown): Prepared {
  const out: Prepared = { skeleton: undefined, bulk: [], markers: [], refs: [], size: 0, opaque: false };
  const seen = new Map<object, unknown>();
  const walk = (v: unknown): unknown => {
    switch (typeof v) {
      case 'string': out.size += 8 + v.length * 2; return v;
      case 'function': case 'symbol': throw new InvalidArgumentError(`a ${typeof v} cannot be stored in the object store`);
      case 'object': break;
      default: out.size += 9; return v;
    }
    if (v === null) return v;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (v instanceof ObjectRef) {
      out.refs.push(v.id);
      out.size += 32;
      const m = { [REF]: v.id };
      seen.set(v, m);
      return m;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) {
      const m: Record<string, unknown> = { [BUF]: out.bulk.length };
      out.bulk.push(v as Bulk);
      out.markers.push(m);
      out.size += bulkBytes(v as Bulk) + 16;
      seen.set(v, m);
      return m;
    }
    if (Array.isArray(v)) {
      const a: unknown[] = new Array(v.length);
      seen.set(v, a);
      out.size += 16;
      for (let i = 0; i < v.length; i++) a[i] = walk(v[i]);
      return a;
    }
    if (v instanceof Map) {
      const m = new Map();
      seen.set(v, m);
      for (const [k, x] of v) m.set(walk(k), walk(x));
      return m;
    }
    if (v instanceof Set) {
      const s = new Set();
      seen.set(v, s);
      for (const x of v) s.add(walk(x));
      return s;
    }
    if (plain(v)) {
      const o: Record<string, unknown> = {};
      seen.set(v, o);
      out.size += 16;
      for (const k of Object.keys(v)) { out.size += k.length * 2; o[k] = walk((v as Record<string, unknown>)[k]); }
      return o;
    }
    // Dates, RegExps, Errors, class instances: structured clone copies them (as the rest of tsray does).
    out.size += 64;
    out.opaque = true;
    return v;
  };
  out.skeleton = walk(value);
  return out;
}

/** Replaces markers in a skeleton (in place where possible), keeping cycles. */
function resolve(skeleton: unknown, buf: (m: unknown) => unknown, ref: (id: string) => unknown): unknown {
  const seen = new Set<object>();
  const fix = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (plain(v)) {
      const o = v as Record<string, unknown>;
      if (BUF in o) return buf(o[BUF]);
      if (REF in o) return ref(o[REF] as string);
    }
    if (seen.has(v)) return v;
    seen.add(v);
    if (Array.isArray(v)) { for (let i = 0; i < v.length; i++) v[i] = fix(v[i]); return v; }
    if (v instanceof Map) {
      const entries = [...v];
      v.clear();
      for (const [k, x] of entries) v.set(fix(k), fix(x));
      return v;
    }
    if (v instanceof Set) {
      const items = [...v];
      v.clear();
      for (const x of items) v.add(fix(x));
      return v;
    }
    if (plain(v)) for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = fix((v as Record<string, unknown>)[k]);
    return v;
  };
  return fix(skeleton);
}

/**
 * The inline form of a prepared value: bulk data and opaque objects copied
 * (unless the caller hands the value over), refs left as markers (see
 * `materialize`).
 */
export function inlineValue(p: Prepared, copy: boolean): unknown {
  if (copy && p.opaque) return snapshotValue(inlineValue(p, false));
  if (p.bulk.length === 0) return p.skeleton;
  return resolve(p.skeleton, (i) => (copy ? copyBulk(p.bulk[i as number]!) : p.bulk[i as number]!), (id) => ({ [REF]: id }));
}

/** A reader's own copy of an inline value, with its ref markers turned into refs by `makeRef`. */
export function materialize(inline: unknown, makeRef: (id: string) => unknown): unknown {
  if (inline === null || typeof inline !== 'object') return inline;
  return resolve(snapshotValue(inline), () => { throw new Error('inline values hold no bulk markers'); }, makeRef);
}

function codeOf(b: Bulk): number {
  if (b instanceof ArrayBuffer || b instanceof SharedArrayBuffer) return CODE_ARRAYBUFFER;
  if (b instanceof DataView) return CODE_DATAVIEW;
  if (Buffer.isBuffer(b)) return CODE_BUFFER;
  const i = VIEW_TYPES.findIndex((t) => b instanceof t);
  if (i < 0) throw new InvalidArgumentError(`cannot store a ${b.constructor.name}`);
  return i;
}

/** A prepared value laid out for an arena block. */
export interface Encoded {
  prepared: Prepared;
  offsets: number[];
  skeletonOffset: number;
  skeleton: Uint8Array;
  /** Total bytes of the block. */
  size: number;
}

export function encode(p: Prepared): Encoded {
  let at = HEADER;
  const offsets: number[] = [];
  p.bulk.forEach((b, i) => {
    offsets.push(at);
    p.markers[i]![BUF] = [codeOf(b), at, b.byteLength];
    at = alignUp(at + b.byteLength);
  });
  const skeleton = serialize(p.skeleton);
  // Markers go back to their indices: the prepared value stays usable inline (the store-full fallback).
  p.markers.forEach((m, i) => { m[BUF] = i; });
  return { prepared: p, offsets, skeletonOffset: at, skeleton, size: at + skeleton.byteLength };
}

/** Writes an encoded value into `dst` (a block of at least `e.size` bytes). */
export function write(dst: Uint8Array, e: Encoded): void {
  const h = new DataView(dst.buffer, dst.byteOffset, HEADER);
  h.setUint32(0, MAGIC, true);
  h.setUint32(4, e.skeletonOffset, true);
  h.setUint32(8, e.skeleton.byteLength, true);
  h.setUint32(12, e.prepared.bulk.length > 0 || e.prepared.refs.length > 0 ? HAS_MARKERS : 0, true);
  e.prepared.bulk.forEach((b, i) => {
    const src = b instanceof ArrayBuffer || b instanceof SharedArrayBuffer
      ? new Uint8Array(b as ArrayBuffer)
      : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    dst.set(src, e.offsets[i]!);
  });
  dst.set(e.skeleton, e.skeletonOffset);
}

/** Thrown by `read` when a block does not hold what `write` wrote. */
export class CorruptBlockError extends Error {}

/**
 * Reads a block. Typed arrays in the result are views of `block`'s memory
 * (zero-copy when `block` views the shared arena); `onView` is told of each.
 */
export function read(block: Uint8Array, makeRef: (id: string) => unknown, onView?: (v: object) => void): unknown {
  return decode(block, makeRef, onView ?? false);
}

/** Reads a block into the reader's own memory: each typed array is an exact copy with a buffer of its own. */
export function readCopy(block: Uint8Array, makeRef: (id: string) => unknown): unknown {
  return decode(block, makeRef, true);
}

function decode(block: Uint8Array, makeRef: (id: string) => unknown, copy: boolean | ((v: object) => void)): unknown {
  if (block.byteLength < HEADER) throw new CorruptBlockError('block shorter than its header');
  const h = new DataView(block.buffer, block.byteOffset, HEADER);
  if (h.getUint32(0, true) !== MAGIC) throw new CorruptBlockError('bad magic');
  const so = h.getUint32(4, true);
  const sl = h.getUint32(8, true);
  if (so + sl > block.byteLength) throw new CorruptBlockError('skeleton past the end of the block');
  // deserialize needs an unshared buffer: the skeleton is small, so copy it out.
  const skeleton = deserialize(Buffer.from(block.slice(so, so + sl)));
  if (!(h.getUint32(12, true) & HAS_MARKERS)) return skeleton;
  const base = block.buffer;
  const start = block.byteOffset;
  return resolve(skeleton, (m) => {
    const [code, off, len] = m as [number, number, number];
    let v: object;
    if (code === CODE_ARRAYBUFFER) return new Uint8Array(base, start + off, len).slice().buffer;
    if (code === CODE_DATAVIEW) v = new DataView(base, start + off, len);
    else if (code === CODE_BUFFER) v = Buffer.from(base, start + off, len);
    else {
      const T = VIEW_TYPES[code];
      if (!T) throw new CorruptBlockError(`unknown buffer type ${code}`);
      v = new T(base as ArrayBuffer, start + off, len / T.BYTES_PER_ELEMENT);
    }
    if (copy === true) return copyBulk(v as ArrayBufferView);
    if (copy) copy(v);
    return v;
  }, makeRef);
}
