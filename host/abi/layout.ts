/**
 * Canonical ABI layout: sizes, alignments and flattened core types of WIT
 * types. The guest binding generator and the host engine both read these, so
 * the two sides agree on every byte by construction.
 */
import type { FuncDef, WitType } from '../wit/types.js';

export type CoreType = 'i32' | 'i64' | 'f32' | 'f64';

/** Flattened values beyond these limits travel through linear memory instead. */
export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;

/** Payload cases of a variant-like type (variant, option, result, enum). */
export function casesOf(t: WitType): (WitType | undefined)[] {
  switch (t.kind) {
    case 'variant': return t.cases.map((c) => c.type);
    case 'option': return [undefined, t.type];
    case 'result': return [t.ok, t.err];
    case 'enum': return t.cases.map(() => undefined);
    default: throw new Error(`not a variant type: ${t.kind}`);
  }
}

/** Byte width of a discriminant for `n` cases. */
export function discriminantSize(n: number): 1 | 2 | 4 {
  return n <= 256 ? 1 : n <= 65536 ? 2 : 4;
}

export function flagsWords(n: number): number {
  return Math.ceil(n / 32);
}

const cache = new WeakMap<WitType, { size: number; align: number; flat: CoreType[] }>();

function compute(t: WitType): { size: number; align: number; flat: CoreType[] } {
  const hit = cache.get(t);
  if (hit) return hit;
  let out: { size: number; align: number; flat: CoreType[] };
  switch (t.kind) {
    case 'bool': case 's8': case 'u8': out = { size: 1, align: 1, flat: ['i32'] }; break;
    case 's16': case 'u16': out = { size: 2, align: 2, flat: ['i32'] }; break;
    case 's32': case 'u32': case 'char': out = { size: 4, align: 4, flat: ['i32'] }; break;
    case 's64': case 'u64': out = { size: 8, align: 8, flat: ['i64'] }; break;
    case 'f32': out = { size: 4, align: 4, flat: ['f32'] }; break;
    case 'f64': out = { size: 8, align: 8, flat: ['f64'] }; break;
    case 'string': case 'list': out = { size: 8, align: 4, flat: ['i32', 'i32'] }; break;
    case 'own': case 'borrow': out = { size: 4, align: 4, flat: ['i32'] }; break;
    case 'record': case 'tuple': {
      const types = t.kind === 'record' ? t.fields.map((f) => f.type) : t.types;
      let size = 0;
      let align = 1;
      const flat: CoreType[] = [];
      for (const ft of types) {
        const l = compute(ft);
        size = alignTo(size, l.align) + l.size;
        align = Math.max(align, l.align);
        flat.push(...l.flat);
      }
      out = { size: alignTo(size, align), align, flat };
      break;
    }
    case 'flags': {
      const n = t.flags.length;
      const size = n <= 8 ? 1 : n <= 16 ? 2 : 4 * flagsWords(n);
      out = { size, align: Math.min(size, 4), flat: Array.from({ length: flagsWords(n) }, () => 'i32' as const) };
      break;
    }
    case 'variant': case 'option': case 'result': case 'enum': {
      const cases = casesOf(t);
      const d = discriminantSize(cases.length);
      let align = d as number;
      let maxSize = 0;
      const payload: CoreType[] = [];
      for (const c of cases) {
        if (!c) continue;
        const l = compute(c);
        align = Math.max(align, l.align);
        maxSize = Math.max(maxSize, l.size);
        l.flat.forEach((ct, i) => { payload[i] = i < payload.length ? join(payload[i]!, ct) : ct; });
      }
      const size = alignTo(alignTo(d, align) + maxSize, align);
      out = { size, align, flat: ['i32', ...payload] };
      break;
    }
  }
  cache.set(t, out);
  return out;
}

export function alignTo(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Widest core type that can carry both: the canonical ABI's `join`. */
export function join(a: CoreType, b: CoreType): CoreType {
  if (a === b) return a;
  if ((a === 'i32' && b === 'f32') || (a === 'f32' && b === 'i32')) return 'i32';
  return 'i64';
}

export const sizeOf = (t: WitType): number => compute(t).size;
export const alignOf = (t: WitType): number => compute(t).align;
export const flatten = (t: WitType): CoreType[] => compute(t).flat;

/** Offset of the payload after a variant's discriminant. */
export function payloadOffset(t: WitType): number {
  return alignTo(discriminantSize(casesOf(t).length), alignOf(t));
}

/** Byte offsets of the fields of a record or tuple. */
export function fieldOffsets(types: WitType[]): number[] {
  let off = 0;
  return types.map((ft) => {
    off = alignTo(off, alignOf(ft));
    const at = off;
    off += sizeOf(ft);
    return at;
  });
}

/** How a function's parameters and result cross the boundary. */
export interface CallShape {
  /** Flattened parameter types, or null when they go through memory as one tuple. */
  flatParams: CoreType[] | null;
  paramTuple: WitType;
  /** The one flat result type, null when the result goes through memory, undefined when there is none. */
  flatResult: CoreType | null | undefined;
}

export function callShape(f: FuncDef): CallShape {
  const paramTuple: WitType = { kind: 'tuple', types: f.params.map((p) => p.type) };
  const flat = flatten(paramTuple);
  const flatParams = flat.length > MAX_FLAT_PARAMS ? null : flat;
  let flatResult: CoreType | null | undefined;
  if (f.result) {
    const rf = flatten(f.result);
    flatResult = rf.length > MAX_FLAT_RESULTS ? null : rf[0]!;
  }
  return { flatParams, paramTuple, flatResult };
}

/** Core signature of an exported function, as the caller sees it. */
export function exportCoreSignature(f: FuncDef): { params: CoreType[]; results: CoreType[] } {
  const s = callShape(f);
  return {
    params: s.flatParams ?? ['i32'],
    results: s.flatResult === undefined ? [] : [s.flatResult ?? 'i32'],
  };
}

/** Core signature of an imported function, as the guest calls it (a return pointer comes last). */
export function importCoreSignature(f: FuncDef): { params: CoreType[]; results: CoreType[] } {
  const s = callShape(f);
  const params: CoreType[] = s.flatParams ? [...s.flatParams] : ['i32'];
  if (s.flatResult === null) params.push('i32');
  return { params, results: s.flatResult ? [s.flatResult] : [] };
}
