/** How WIT types appear in AssemblyScript source (the contract a guest author writes to). */
import { pascalCase } from '../abi/names.js';
import type { WitType } from '../wit/types.js';

const TYPED_ARRAYS: Partial<Record<WitType['kind'], string>> = {
  s8: 'Int8Array', u8: 'Uint8Array', s16: 'Int16Array', u16: 'Uint16Array', s32: 'Int32Array',
  u32: 'Uint32Array', s64: 'Int64Array', u64: 'Uint64Array', f32: 'Float32Array', f64: 'Float64Array',
};

const SCALARS: Partial<Record<WitType['kind'], string>> = {
  bool: 'bool', s8: 'i8', u8: 'u8', s16: 'i16', u16: 'u16', s32: 'i32', u32: 'u32',
  s64: 'i64', u64: 'u64', f32: 'f32', f64: 'f64', char: 'string', string: 'string',
};

/** Types tsray:runtime defines; the guest SDK provides their classes. */
export function isSdkType(t: WitType): boolean {
  return t.kind === 'record' && (t.owner ?? '').startsWith('tsray:runtime/');
}

/** The typed-array class a numeric `list<T>` maps to, if any. */
export function typedArrayOf(t: WitType): string | undefined {
  return t.kind === 'list' ? TYPED_ARRAYS[t.elem.kind] : undefined;
}

/** True when the AssemblyScript type of `t` is a reference (nullable) type. */
export function isReference(t: WitType): boolean {
  switch (t.kind) {
    case 'bool': case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32':
    case 's64': case 'u64': case 'f32': case 'f64': case 'enum':
      return false;
    default:
      return true;
  }
}

/** `option<T>` is `T | null` for a reference T that is not itself an option. */
export function optionIsNullable(t: WitType & { kind: 'option' }): boolean {
  return isReference(t.type) && t.type.kind !== 'option';
}

/** The AssemblyScript type text for a WIT type. */
export function asType(t: WitType): string {
  const s = SCALARS[t.kind];
  if (s) return s;
  switch (t.kind) {
    case 'list': return typedArrayOf(t) ?? `Array<${asType(t.elem)}>`;
    case 'record': case 'variant': case 'flags': case 'enum': return pascalCase(t.name);
    case 'tuple':
      if (t.types.length < 2 || t.types.length > 6) throw new Error(`tuples of ${t.types.length} are not supported (2 to 6)`);
      return `Tuple${t.types.length}<${t.types.map(asType).join(', ')}>`;
    case 'option': return optionIsNullable(t) ? `${asType(t.type)} | null` : `Option<${asType(t.type)}>`;
    case 'result': return `Result<${t.ok ? asType(t.ok) : 'Unit'}, ${t.err ? asType(t.err) : 'Unit'}>`;
    case 'own': case 'borrow': return pascalCase(t.resource.name);
    default: throw new Error(`no AssemblyScript type for ${t.kind}`);
  }
}

/** Canonical spelling for comparing types as written: no spaces, `T[]` as `Array<T>`. */
export function normalizeAsType(text: string): string {
  let s = text.replace(/\s+/g, '');
  // Rewrite innermost `X[]` first until none remain.
  for (let prev = ''; prev !== s;) {
    prev = s;
    s = s.replace(/([A-Za-z0-9_]+(?:<[^<>]*>)?)\[\]/, 'Array<$1>');
  }
  return s.replace(/^null\|(.*)$/, '$1|null');
}
