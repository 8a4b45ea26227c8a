/**
 * Rewrites of a component's core module that let the host run it as a
 * sandbox: every mutable global exported (so an instance can be reset to its
 * pristine state instead of re-instantiated), or, when a snapshot of memory
 * and globals cannot restore the module exactly, a mark that it must be
 * instantiated afresh for every task; and the linear memory capped (so
 * `maxMemoryMb` is enforced by the wasm engine, not trusted to the guest).
 * The rewrites touch only the sections they change, byte for byte.
 */
import { print } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ComponentError } from '../errors.js';
import { KIND, SECTION, coreSections, readCore, type CoreSection } from './core-sections.js';
import { readU32, writeU32 } from '../util/leb128.js';
import { FRESH_ONLY_SECTION, GLOBAL_EXPORT_PREFIX } from '../abi/sandbox-names.js';

/**
 * Instructions whose effect a memory-and-globals snapshot cannot undo: they
 * change a table, or drop a passive segment (nothing can bring one back).
 */
const UNRESTORABLE = /^\s*(table\.(set|grow|fill|copy|init)|elem\.drop|data\.drop)\b/m;

/**
 * True when restoring linear memory and mutable globals returns an instance
 * of `core` exactly to its just-instantiated state. wasm-tools prints one
 * instruction per line, so a line-start match is an instruction, never a name
 * or data. `wat`: the module as wasm-tools prints it, when the caller has it.
 */
export async function snapshotRestores(core: Uint8Array, wat?: string): Promise<boolean> {
  // JavaScript can neither read nor write a v128 global, so no snapshot can hold one.
  if (readCore(core).globals.some((g) => g.mutable && g.type === 'v128')) return false;
  return !UNRESTORABLE.test(wat ?? await print(core));
}

function replaceSection(core: Uint8Array, s: CoreSection, body: number[]): Uint8Array {
  const head = [s.id, ...writeU32(body.length)];
  const from = s.at;
  const out = new Uint8Array(from + head.length + body.length + (core.length - s.end));
  out.set(core.subarray(0, from));
  out.set(head, from);
  out.set(body, from + head.length);
  out.set(core.subarray(s.end), from + head.length + body.length);
  return out;
}

function customSection(name: string): number[] {
  const n = new TextEncoder().encode(name);
  const payload = [...writeU32(n.length), ...n];
  return [0, ...writeU32(payload.length), ...payload];
}

/**
 * Prepares `core` for a worker pool: with `resettable`, exports every mutable
 * global as `__tsray_global_<n>` (load() refuses modules that use the prefix
 * themselves); without, marks the module fresh-only.
 */
export function sandboxCore(core: Uint8Array, resettable: boolean): Uint8Array {
  if (!resettable) {
    const mark = customSection(FRESH_ONLY_SECTION);
    const out = new Uint8Array(core.length + mark.length);
    out.set(core);
    out.set(mark, core.length);
    return out;
  }
  const info = readCore(core);
  if (!info.globals.some((g) => g.mutable)) return core;
  const exports = info.sections.find((s) => s.id === SECTION.export);
  if (!exports) throw new ComponentError('core module has mutable globals and no export section: it cannot be pooled');
  const added: number[] = [];
  let n = 0;
  info.globals.forEach((g, i) => {
    if (!g.mutable) return;
    const name = new TextEncoder().encode(`${GLOBAL_EXPORT_PREFIX}${n++}`);
    added.push(...writeU32(name.length), ...name, KIND.global, ...writeU32(info.importedGlobals + i));
  });
  if (n === 0) return core;
  const [count, entries] = readU32(core, exports.start);
  return replaceSection(core, exports, [...writeU32(count + n), ...core.subarray(entries, exports.end), ...added]);
}

/** Whether the module defines (rather than imports) a memory. */
export function definesMemory(core: Uint8Array): boolean {
  return memoryLimits(core) !== undefined;
}

/** Whether a snapshot of its exported memories and mutable globals restores an instance of `core` exactly. */
export async function snapshotRestoresAll(core: Uint8Array): Promise<boolean> {
  const exportsMemory = readCore(core).exports.some((e) => e.kind === KIND.memory);
  return (!definesMemory(core) || exportsMemory) && snapshotRestores(core);
}

/** The count of memories the module defines, and the limits of the first (its bytes too, for rewriting them). */
export function memoryLimits(core: Uint8Array): { count: number; flags: number; initial: number; at: number; end: number; section: CoreSection } | undefined {
  const s = coreSections(core).find((x) => x.id === SECTION.memory);
  const [count, p] = s ? readU32(core, s.start) : [0, 0];
  if (!s || count < 1) return undefined;
  const flags = core[p]!;
  const [initial, afterMin] = readU32(core, p + 1);
  const end = flags === 1 ? readU32(core, afterMin)[1] : afterMin;
  return { count, flags, initial, at: p, end, section: s };
}

/** Sets the maximum of the module's own (first, 32-bit) linear memory to `maxPages` 64 KiB pages. */
export function capMemory(core: Uint8Array, maxPages: number): Uint8Array {
  const m = memoryLimits(core);
  if (!m) throw new ComponentError('core module defines no memory to cap');
  if (m.flags !== 0 && m.flags !== 1) throw new ComponentError('cannot cap a shared or 64-bit memory');
  if (m.initial > maxPages) throw new ComponentError(`the component needs ${m.initial} pages of memory at start, above the cap of ${maxPages}`);
  const s = m.section;
  return replaceSection(core, s, [...core.subarray(s.start, m.at), 0x01, ...writeU32(m.initial), ...writeU32(maxPages), ...core.subarray(m.end, s.end)]);
}
