/**
 * Checks a JavaScript value against a WIT type before it is lowered, so bad
 * input fails with a clear `ArgumentTypeError` and nothing reaches the guest.
 *
 * JavaScript shapes of WIT values (the same as jco's):
 * bool -> boolean; s8..u32, f32, f64 -> number; s64/u64 -> bigint (a safe
 * integer number is accepted); char/string -> string; list of numbers -> the
 * matching typed array (a plain array of numbers is accepted); other lists ->
 * arrays; record -> object with camelCase fields; tuple -> array; option ->
 * value or undefined/null; result and variant -> `{ tag, val }`; enum -> the
 * case name; flags -> object of booleans; resources -> handles.
 */
import { ArgumentTypeError } from '../errors.js';
import { camelCase } from '../abi/names.js';
import { describeType } from '../wit/describe.js';
import type { WitType } from '../wit/types.js';

const INT_RANGE: Record<string, [number, number]> = {
  s8: [-128, 127], u8: [0, 255], s16: [-32768, 32767], u16: [0, 65535],
  s32: [-2147483648, 2147483647], u32: [0, 4294967295],
};

const BIG_RANGE: Record<string, [bigint, bigint]> = {
  s64: [-(2n ** 63n), 2n ** 63n - 1n], u64: [0n, 2n ** 64n - 1n],
};

export const TYPED_ARRAY_CTORS = {
  s8: Int8Array, u8: Uint8Array, s16: Int16Array, u16: Uint16Array, s32: Int32Array, u32: Uint32Array,
  s64: BigInt64Array, u64: BigUint64Array, f32: Float32Array, f64: Float64Array,
} as const;

export type NumericKind = keyof typeof TYPED_ARRAY_CTORS;

export function numericElem(t: WitType): NumericKind | undefined {
  return t.kind === 'list' && t.elem.kind in TYPED_ARRAY_CTORS ? (t.elem.kind as NumericKind) : undefined;
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '...' : v)}`;
  if (typeof v === 'object') return 'object';
  return `${typeof v} ${String(v)}`;
}

function fail(t: WitType, v: unknown, why?: string): never {
  throw new ArgumentTypeError(`expected ${describeType(t)}, got ${show(v)}${why ? ` (${why})` : ''}`);
}

function at(where: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (e instanceof ArgumentTypeError) throw new ArgumentTypeError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Throws `ArgumentTypeError` unless `v` is a valid JavaScript value of WIT type `t`. */
export function validate(t: WitType, v: unknown, isHandle?: (t: WitType, v: unknown) => boolean, taggedOption = false): void {
  if (taggedOption && t.kind === 'option') {
    // An option inside an option: `{ tag: 'none' }` or `{ tag: 'some', val }`.
    validate({ kind: 'variant', name: describeType(t), cases: [{ name: 'none' }, { name: 'some', type: t.type }] }, v, isHandle);
    return;
  }
  switch (t.kind) {
    case 'bool': if (typeof v !== 'boolean') fail(t, v); return;
    case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32': {
      const [lo, hi] = INT_RANGE[t.kind]!;
      if (typeof v !== 'number' || !Number.isInteger(v)) fail(t, v);
      if (v < lo || v > hi) fail(t, v, `out of range ${lo}..${hi}`);
      return;
    }
    case 's64': case 'u64': {
      const [lo, hi] = BIG_RANGE[t.kind]!;
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
      else fail(t, v);
      if (b < lo || b > hi) fail(t, v, 'out of range');
      return;
    }
    case 'f32': case 'f64': if (typeof v !== 'number') fail(t, v); return;
    case 'char': {
      if (typeof v !== 'string') fail(t, v);
      const cp = v.codePointAt(0);
      if (cp === undefined || String.fromCodePoint(cp) !== v || (cp >= 0xd800 && cp <= 0xdfff)) fail(t, v, 'need exactly one Unicode scalar value');
      return;
    }
    case 'string': if (typeof v !== 'string') fail(t, v); return;
    case 'list': {
      const num = numericElem(t);
      if (num && v instanceof TYPED_ARRAY_CTORS[num]) return;
      if (num && ArrayBuffer.isView(v)) fail(t, v, `use a ${TYPED_ARRAY_CTORS[num].name}`);
      if (!Array.isArray(v)) fail(t, v);
      for (let i = 0; i < v.length; i++) at(`[${i}]`, () => validate(t.elem, v[i], isHandle));
      return;
    }
    case 'record': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(t, v);
      for (const f of t.fields) {
        const o = v as Record<string, unknown>;
        const key = camelCase(f.name);
        if (!(key in o)) fail(t, v, `missing field '${key}'`);
        at(`field '${key}'`, () => validate(f.type, o[key], isHandle));
      }
      return;
    }
    case 'tuple':
      if (!Array.isArray(v) || v.length !== t.types.length) fail(t, v, `need an array of ${t.types.length}`);
      t.types.forEach((x, i) => at(`[${i}]`, () => validate(x, v[i], isHandle)));
      return;
    case 'option':
      if (v !== undefined && v !== null) validate(t.type, v, isHandle, true);
      return;
    case 'result': case 'variant': {
      if (typeof v !== 'object' || v === null) fail(t, v, "need { tag, val }");
      const { tag, val } = v as { tag?: unknown; val?: unknown };
      const cases = t.kind === 'result' ? [{ name: 'ok', type: t.ok }, { name: 'err', type: t.err }] : t.cases;
      const c = cases.find((x) => x.name === tag);
      if (!c) fail(t, v, `tag must be one of ${cases.map((x) => `'${x.name}'`).join(', ')}`);
      if (c.type) at(`case '${c.name}'`, () => validate(c.type!, val, isHandle));
      return;
    }
    case 'enum':
      if (typeof v !== 'string' || !t.cases.includes(v)) fail(t, v, `one of ${t.cases.map((c) => `'${c}'`).join(', ')}`);
      return;
    case 'flags': {
      if (typeof v !== 'object' || v === null) fail(t, v);
      const known = new Set(t.flags.map(camelCase));
      for (const [k, b] of Object.entries(v)) {
        if (!known.has(k)) fail(t, v, `unknown flag '${k}'`);
        if (typeof b !== 'boolean' && b !== undefined) fail(t, v, `flag '${k}' must be a boolean`);
      }
      return;
    }
    case 'own': case 'borrow':
      if (!isHandle || !isHandle(t, v)) fail(t, v, `need a live ${t.resource.name} handle from this instance`);
      return;
  }
}

/** Validates a whole argument list against named parameters; `signature` is only rendered for an error. */
export function validateArgs(fn: string, signature: () => string, params: { name: string; type: WitType }[], args: readonly unknown[],
  isHandle?: (t: WitType, v: unknown) => boolean): void {
  if (args.length !== params.length) {
    throw new ArgumentTypeError(`${fn}: expected ${params.length} argument${params.length === 1 ? '' : 's'}, got ${args.length}; signature: ${signature()}`);
  }
  params.forEach((p, i) => {
    try {
      validate(p.type, args[i], isHandle);
    } catch (e) {
      if (e instanceof ArgumentTypeError) throw new ArgumentTypeError(`${fn}: argument '${p.name}': ${e.message}; signature: ${signature()}`);
      throw e;
    }
  });
}
