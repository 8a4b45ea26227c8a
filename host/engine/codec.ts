/**
 * Host-side canonical ABI: moves validated JavaScript values into a guest's
 * linear memory and flat parameters, and back. One codec is compiled per WIT
 * type (closures, built once per loaded component), so a call does no type
 * dispatch beyond what its values need.
 */
import { camelCase } from '../abi/names.js';
import {
  casesOf, discriminantSize, fieldOffsets, flagsWords, flatten, payloadOffset, sizeOf, alignOf, type CoreType,
} from '../abi/layout.js';
import { TaskError } from '../errors.js';
import type { ResourceDef, WitType } from '../wit/types.js';
import { LIST_SLOT_BYTES, MAX_STRING_BYTES } from './limits.js';
import { numericElem, TYPED_ARRAY_CTORS } from './validate.js';

/** What a codec needs from the instance it is moving values into or out of. */
export interface CodecContext {
  /** Current views of guest memory (refreshed after the guest grows it). */
  view(): MemoryViews;
  realloc(align: number, size: number): number;
  /** own/borrow handles: lower a host handle, lift a guest handle. */
  lowerHandle(kind: 'own' | 'borrow', r: ResourceDef, v: unknown): number;
  liftHandle(kind: 'own' | 'borrow', r: ResourceDef, h: number): unknown;
  /** Counts `bytes` the host is about to build while lifting; throws when over the call's budget (see limits.ts). */
  charge(bytes: number): void;
}

/** A value the guest handed over that the canonical ABI would trap on; the engine names the function. */
export const liftError = (message: string): TaskError => new TaskError('<lift>', message);

/** Traps (like the canonical ABI) on invalid UTF-8 instead of replacing it; keeps a leading BOM. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface MemoryViews { buffer: ArrayBuffer; dv: DataView; u8: Uint8Array; buf: Buffer }

/** A flat value as JavaScript passes it to wasm: number, or bigint for i64. */
export type Flat = number | bigint;

export interface Codec {
  flat: CoreType[];
  size: number;
  align: number;
  lower(cx: CodecContext, v: unknown, out: Flat[]): void;
  lift(cx: CodecContext, flat: readonly Flat[], i: number): unknown;
  store(cx: CodecContext, v: unknown, ptr: number): void;
  load(cx: CodecContext, ptr: number): unknown;
}

const scratch = new DataView(new ArrayBuffer(8));

/** Carries a case's flat value in a joined slot (the canonical ABI's `join` coercions). */
function toJoined(v: Flat, have: CoreType, slot: CoreType): Flat {
  if (have === slot) return v;
  if (slot === 'i32') { scratch.setFloat32(0, v as number, true); return scratch.getInt32(0, true); }
  // slot is i64
  if (have === 'i32') return BigInt((v as number) >>> 0);
  if (have === 'f32') { scratch.setFloat32(0, v as number, true); return BigInt(scratch.getUint32(0, true)); }
  scratch.setFloat64(0, v as number, true);
  return scratch.getBigInt64(0, true);
}

function fromJoined(v: Flat, slot: CoreType, want: CoreType): Flat {
  if (slot === want) return v;
  if (want === 'i32') return Number(BigInt.asIntN(32, v as bigint));
  if (want === 'f32') {
    scratch.setInt32(0, slot === 'i32' ? (v as number) : Number(BigInt.asIntN(32, v as bigint)), true);
    return scratch.getFloat32(0, true);
  }
  scratch.setBigInt64(0, v as bigint, true);
  return scratch.getFloat64(0, true);
}

const zeroOf = (t: CoreType): Flat => (t === 'i64' ? 0n : 0);

function liftChar(cp: number): string {
  if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw liftError(`invalid char code point ${cp}`);
  return String.fromCodePoint(cp);
}

const cache = new WeakMap<WitType, Codec>();
const taggedCache = new WeakMap<WitType, Codec>();

/**
 * The codec of `t`. `taggedOption` asks for an option in `{ tag: 'some', val }` /
 * `{ tag: 'none' }` form, which an option directly inside another option uses
 * (as jco does), since `undefined` cannot tell the two `none`s apart.
 */
export function codecFor(t: WitType, taggedOption = false): Codec {
  const tagged = taggedOption && t.kind === 'option';
  const c0 = (tagged ? taggedCache : cache).get(t);
  if (c0) return c0;
  const c = tagged ? variantCodec(t, { flat: flatten(t), size: sizeOf(t), align: alignOf(t) }, true) : build(t);
  (tagged ? taggedCache : cache).set(t, c);
  return c;
}

type Scalar = { get: (dv: DataView, p: number) => Flat; set: (dv: DataView, p: number, v: number | bigint) => void; liftFlat: (v: Flat) => unknown; lowerFlat: (v: unknown) => Flat };

const SCALARS: Record<string, Scalar> = {
  bool: { get: (dv, p) => dv.getUint8(p), set: (dv, p, v) => dv.setUint8(p, v ? 1 : 0), liftFlat: (v) => v !== 0, lowerFlat: (v) => (v ? 1 : 0) },
  s8: { get: (dv, p) => dv.getInt8(p), set: (dv, p, v) => dv.setInt8(p, v as number), liftFlat: (v) => ((v as number) << 24) >> 24, lowerFlat: (v) => v as number },
  u8: { get: (dv, p) => dv.getUint8(p), set: (dv, p, v) => dv.setUint8(p, v as number), liftFlat: (v) => (v as number) & 0xff, lowerFlat: (v) => v as number },
  s16: { get: (dv, p) => dv.getInt16(p, true), set: (dv, p, v) => dv.setInt16(p, v as number, true), liftFlat: (v) => ((v as number) << 16) >> 16, lowerFlat: (v) => v as number },
  u16: { get: (dv, p) => dv.getUint16(p, true), set: (dv, p, v) => dv.setUint16(p, v as number, true), liftFlat: (v) => (v as number) & 0xffff, lowerFlat: (v) => v as number },
  s32: { get: (dv, p) => dv.getInt32(p, true), set: (dv, p, v) => dv.setInt32(p, v as number, true), liftFlat: (v) => v, lowerFlat: (v) => v as number },
  u32: { get: (dv, p) => dv.getUint32(p, true), set: (dv, p, v) => dv.setUint32(p, v as number, true), liftFlat: (v) => (v as number) >>> 0, lowerFlat: (v) => v as number },
  s64: { get: (dv, p) => dv.getBigInt64(p, true), set: (dv, p, v) => dv.setBigInt64(p, BigInt(v), true), liftFlat: (v) => v, lowerFlat: (v) => BigInt(v as bigint) },
  u64: { get: (dv, p) => dv.getBigUint64(p, true), set: (dv, p, v) => dv.setBigUint64(p, BigInt(v), true), liftFlat: (v) => BigInt.asUintN(64, v as bigint), lowerFlat: (v) => BigInt.asIntN(64, BigInt(v as bigint)) },
  f32: { get: (dv, p) => dv.getFloat32(p, true), set: (dv, p, v) => dv.setFloat32(p, v as number, true), liftFlat: (v) => v, lowerFlat: (v) => v as number },
  f64: { get: (dv, p) => dv.getFloat64(p, true), set: (dv, p, v) => dv.setFloat64(p, v as number, true), liftFlat: (v) => v, lowerFlat: (v) => v as number },
  char: { get: (dv, p) => dv.getUint32(p, true), set: (dv, p, v) => dv.setUint32(p, v as number, true), liftFlat: (v) => liftChar(v as number), lowerFlat: (v) => (v as string).codePointAt(0)! },
};

function build(t: WitType): Codec {
  const flat = flatten(t);
  const size = sizeOf(t);
  const align = alignOf(t);
  const base = { flat, size, align };
  const sc = SCALARS[t.kind];
  if (sc) {
    const isChar = t.kind === 'char';
    return {
      ...base,
      lower: (_cx, v, out) => { out.push(sc.lowerFlat(v)); },
      lift: (_cx, f, i) => sc.liftFlat(f[i]!),
      store: (cx, v, p) => sc.set(cx.view().dv, p, isChar ? (v as string).codePointAt(0)! : (v as number)),
      load: (cx, p) => (isChar ? liftChar(sc.get(cx.view().dv, p) as number) : sc.liftFlat(sc.get(cx.view().dv, p))),
    };
  }
  switch (t.kind) {
    case 'string': {
      const put = (cx: CodecContext, s: string): [number, number] => {
        const len = Buffer.byteLength(s, 'utf8');
        if (len === 0) return [1, 0];
        const ptr = cx.realloc(1, len);
        cx.view().buf.write(s, ptr, len, 'utf8');
        return [ptr, len];
      };
      const get = (cx: CodecContext, ptr: number, len: number): string => {
        if (len === 0) return '';
        const { u8 } = cx.view();
        if (ptr + len > u8.length) throw liftError(`string at ${ptr}+${len} is outside guest memory (${u8.length} bytes)`);
        if (len > MAX_STRING_BYTES) throw liftError(`string of ${len} bytes is longer than the host takes (${MAX_STRING_BYTES} bytes)`);
        cx.charge(len);
        try {
          return utf8.decode(u8.subarray(ptr, ptr + len));
        } catch {
          throw liftError(`string at ${ptr}+${len} is not valid UTF-8`);
        }
      };
      return {
        ...base,
        lower: (cx, v, out) => { const [p, l] = put(cx, v as string); out.push(p, l); },
        lift: (cx, f, i) => get(cx, f[i] as number >>> 0, f[i + 1] as number >>> 0),
        store: (cx, v, p) => { const [ptr, l] = put(cx, v as string); const { dv } = cx.view(); dv.setUint32(p, ptr, true); dv.setUint32(p + 4, l, true); },
        load: (cx, p) => { const { dv } = cx.view(); return get(cx, dv.getUint32(p, true), dv.getUint32(p + 4, true)); },
      };
    }
    case 'list': {
      const num = numericElem(t);
      let put: (cx: CodecContext, v: unknown) => [number, number];
      let get: (cx: CodecContext, ptr: number, len: number) => unknown;
      if (num) {
        const Ctor = TYPED_ARRAY_CTORS[num];
        const esize = Ctor.BYTES_PER_ELEMENT;
        put = (cx, v) => {
          // A plain array of s64/u64 may hold safe-integer numbers (validate accepts them, as for a lone s64): widen them.
          const from = (Ctor as unknown as { from(a: unknown, map?: (x: unknown) => unknown): ArrayBufferView }).from;
          const arr = (v instanceof Ctor ? v : num === 's64' || num === 'u64' ? from.call(Ctor, v, (x) => (typeof x === 'number' ? BigInt(x) : x)) : from.call(Ctor, v)) as ArrayBufferView & { length: number };
          if (arr.length === 0) return [esize, 0];
          const ptr = cx.realloc(esize, arr.byteLength);
          cx.view().u8.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), ptr);
          return [ptr, arr.length];
        };
        get = (cx, ptr, len) => {
          const bytes = len * esize;
          const { buffer } = cx.view();
          if (ptr + bytes > buffer.byteLength) throw liftError(`list at ${ptr} of ${len} elements is outside guest memory`);
          cx.charge(bytes);
          return new Ctor(buffer.slice(ptr, ptr + bytes));
        };
      } else {
        const el = codecFor(t.elem);
        put = (cx, v) => {
          const arr = v as unknown[];
          if (arr.length === 0) return [el.align, 0];
          const ptr = cx.realloc(el.align, arr.length * el.size);
          for (let i = 0; i < arr.length; i++) el.store(cx, arr[i], ptr + i * el.size);
          return [ptr, arr.length];
        };
        get = (cx, ptr, len) => {
          if (ptr + len * el.size > cx.view().buffer.byteLength) throw liftError(`list at ${ptr} of ${len} elements is outside guest memory`);
          cx.charge(len * Math.max(el.size, LIST_SLOT_BYTES));
          const out = new Array(len);
          for (let i = 0; i < len; i++) out[i] = el.load(cx, ptr + i * el.size);
          return out;
        };
      }
      return {
        ...base,
        lower: (cx, v, out) => { const [p, l] = put(cx, v); out.push(p, l); },
        lift: (cx, f, i) => get(cx, (f[i] as number) >>> 0, (f[i + 1] as number) >>> 0),
        store: (cx, v, p) => { const [ptr, l] = put(cx, v); const { dv } = cx.view(); dv.setUint32(p, ptr, true); dv.setUint32(p + 4, l, true); },
        load: (cx, p) => { const { dv } = cx.view(); return get(cx, dv.getUint32(p, true), dv.getUint32(p + 4, true)); },
      };
    }
    case 'record': case 'tuple': {
      const types = t.kind === 'record' ? t.fields.map((f) => f.type) : t.types;
      const keys: (string | number)[] = t.kind === 'record' ? t.fields.map((f) => camelCase(f.name)) : t.types.map((_, i) => i);
      const codecs = types.map((x) => codecFor(x));
      const offs = fieldOffsets(types);
      const make = (): Record<string | number, unknown> => (t.kind === 'record' ? {} : new Array(types.length) as unknown as Record<number, unknown>);
      return {
        ...base,
        lower: (cx, v, out) => { const o = v as Record<string | number, unknown>; codecs.forEach((c, i) => c.lower(cx, o[keys[i]!], out)); },
        lift: (cx, f, i) => {
          const o = make();
          let at = i;
          codecs.forEach((c, k) => { o[keys[k]!] = c.lift(cx, f, at); at += c.flat.length; });
          return o;
        },
        store: (cx, v, p) => { const o = v as Record<string | number, unknown>; codecs.forEach((c, i) => c.store(cx, o[keys[i]!], p + offs[i]!)); },
        load: (cx, p) => { const o = make(); codecs.forEach((c, i) => { o[keys[i]!] = c.load(cx, p + offs[i]!); }); return o; },
      };
    }
    case 'flags': {
      const names = t.flags.map(camelCase);
      const words = flagsWords(names.length);
      const toWords = (v: unknown): number[] => {
        const w = new Array<number>(words).fill(0);
        const o = v as Record<string, boolean | undefined>;
        names.forEach((n, i) => { if (o[n]) w[i >> 5]! |= 1 << (i & 31); });
        return w;
      };
      const fromWords = (w: number[]): Record<string, boolean> => {
        const o: Record<string, boolean> = {};
        names.forEach((n, i) => { o[n] = ((w[i >> 5]! >>> (i & 31)) & 1) === 1; });
        return o;
      };
      return {
        ...base,
        lower: (_cx, v, out) => { out.push(...toWords(v)); },
        lift: (_cx, f, i) => fromWords(Array.from({ length: words }, (_, k) => f[i + k] as number)),
        store: (cx, v, p) => {
          const w = toWords(v);
          const { dv } = cx.view();
          if (size === 1) dv.setUint8(p, w[0]!); else if (size === 2) dv.setUint16(p, w[0]!, true);
          else w.forEach((x, k) => dv.setUint32(p + 4 * k, x, true));
        },
        load: (cx, p) => {
          const { dv } = cx.view();
          if (size === 1) return fromWords([dv.getUint8(p)]);
          if (size === 2) return fromWords([dv.getUint16(p, true)]);
          return fromWords(Array.from({ length: words }, (_, k) => dv.getUint32(p + 4 * k, true)));
        },
      };
    }
    case 'own': case 'borrow': {
      const kind = t.kind;
      return {
        ...base,
        lower: (cx, v, out) => { out.push(cx.lowerHandle(kind, t.resource, v)); },
        lift: (cx, f, i) => cx.liftHandle(kind, t.resource, f[i] as number),
        store: (cx, v, p) => cx.view().dv.setUint32(p, cx.lowerHandle(kind, t.resource, v), true),
        load: (cx, p) => cx.liftHandle(kind, t.resource, cx.view().dv.getUint32(p, true)),
      };
    }
    default:
      return variantCodec(t, base);
  }
}

/** variant, option, result and enum: a discriminant plus an optional payload per case. */
function variantCodec(t: WitType, base: { flat: CoreType[]; size: number; align: number }, tagged = false): Codec {
  const cases = casesOf(t);
  const codecs = cases.map((c) => (c ? codecFor(c, t.kind === 'option') : undefined));
  const dsize = discriminantSize(cases.length);
  const off = payloadOffset(t);
  const slots = base.flat.slice(1);
  // JavaScript shape <-> case index and payload.
  let toCase: (v: unknown) => [number, unknown];
  let fromCase: (i: number, payload: unknown) => unknown;
  switch (tagged ? 'tagged' : t.kind) {
    case 'option':
      toCase = (v) => (v === undefined || v === null ? [0, undefined] : [1, v]);
      fromCase = (i, p) => (i === 0 ? undefined : p);
      break;
    case 'enum': {
      const names = (t as WitType & { kind: 'enum' }).cases;
      toCase = (v) => [names.indexOf(v as string), undefined];
      fromCase = (i) => names[i];
      break;
    }
    default: {
      const names = t.kind === 'option' ? ['none', 'some'] : t.kind === 'result' ? ['ok', 'err'] : (t as WitType & { kind: 'variant' }).cases.map((c) => c.name);
      toCase = (v) => { const o = v as { tag: string; val?: unknown }; return [names.indexOf(o.tag), o.val]; };
      fromCase = (i, p) => (codecs[i] ? { tag: names[i], val: p } : { tag: names[i] });
    }
  }
  const badCase = (i: number): never => { throw liftError(`invalid discriminant ${i} for ${t.kind}`); };
  return {
    ...base,
    lower: (cx, v, out) => {
      const [i, payload] = toCase(v);
      out.push(i);
      const c = codecs[i];
      const vals: Flat[] = [];
      if (c) c.lower(cx, payload, vals);
      slots.forEach((slot, k) => out.push(k < vals.length ? toJoined(vals[k]!, c!.flat[k]!, slot) : zeroOf(slot)));
    },
    lift: (cx, f, i) => {
      const d = f[i] as number;
      if (d < 0 || d >= cases.length) badCase(d);
      const c = codecs[d];
      if (!c) return fromCase(d, undefined);
      const vals = c.flat.map((want, k) => fromJoined(f[i + 1 + k]!, slots[k]!, want));
      return fromCase(d, c.lift(cx, vals, 0));
    },
    store: (cx, v, p) => {
      const [i, payload] = toCase(v);
      const { dv } = cx.view();
      if (dsize === 1) dv.setUint8(p, i); else if (dsize === 2) dv.setUint16(p, i, true); else dv.setUint32(p, i, true);
      codecs[i]?.store(cx, payload, p + off);
    },
    load: (cx, p) => {
      const { dv } = cx.view();
      const d = dsize === 1 ? dv.getUint8(p) : dsize === 2 ? dv.getUint16(p, true) : dv.getUint32(p, true);
      if (d >= cases.length) badCase(d);
      const c = codecs[d];
      return fromCase(d, c ? c.load(cx, p + off) : undefined);
    },
  };
}
