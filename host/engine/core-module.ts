/**
 * Rewrites of a component's core module that let the host run it as a
 * sandbox: every mutable global exported (so an instance can be reset to its
 * pristine state instead of re-instantiated), and the linear memory capped
 * (so `maxMemoryMb` is enforced by the wasm engine, not trusted to the guest).
 */
import binaryen from 'assemblyscript/binaryen';
import { ComponentError } from '../errors.js';
import { readU32, writeU32 } from '../component/leb128.js';
import { GLOBAL_EXPORT_PREFIX } from '../abi/sandbox-names.js';


/** Exports every mutable global as `__tsray_global_<n>`. */
export function exportMutableGlobals(core: Uint8Array): Uint8Array {
  const mod = binaryen.readBinary(core);
  try {
    const existing = new Set<string>();
    for (let i = 0; i < mod.getNumExports(); i++) existing.add(binaryen.getExportInfo(mod.getExportByIndex(i)).name);
    let n = 0;
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const g = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
      if (!g.mutable || g.module) continue;
      const name = `${GLOBAL_EXPORT_PREFIX}${n++}`;
      if (!existing.has(name)) mod.addGlobalExport(g.name, name);
    }
    binaryen.setDebugInfo(true); // keep the name section: guest stacks and allocator traps are read by name
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}

/** Sets the maximum of the module's own (first, 32-bit) linear memory to `maxPages` 64 KiB pages. */
export function capMemory(core: Uint8Array, maxPages: number): Uint8Array {
  let pos = 8;
  while (pos < core.length) {
    const id = core[pos]!;
    const [size, start] = readU32(core, pos + 1);
    const end = start + size;
    if (id === 5) {
      const [count, p] = readU32(core, start);
      if (count < 1) break;
      const flags = core[p]!;
      if (flags !== 0 && flags !== 1) throw new ComponentError('cannot cap a shared or 64-bit memory');
      const [initial, afterMin] = readU32(core, p + 1);
      const afterLimits = flags === 1 ? readU32(core, afterMin)[1] : afterMin;
      if (initial > maxPages) throw new ComponentError(`the component needs ${initial} pages of memory at start, above the cap of ${maxPages}`);
      const limits = [0x01, ...writeU32(initial), ...writeU32(maxPages)];
      const body = [...core.subarray(start, p), ...limits, ...core.subarray(afterLimits, end)];
      const section = [5, ...writeU32(body.length), ...body];
      const out = new Uint8Array(pos + section.length + (core.length - end));
      out.set(core.subarray(0, pos));
      out.set(section, pos);
      out.set(core.subarray(end), pos + section.length);
      return out;
    }
    pos = end;
  }
  throw new ComponentError('core module defines no memory to cap');
}
