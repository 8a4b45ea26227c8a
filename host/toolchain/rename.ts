/** Gives compiled exports their canonical-ABI names, which AssemblyScript cannot spell. */
import binaryen from 'assemblyscript/binaryen';

export function renameExports(core: Uint8Array, renames: Map<string, string>): Uint8Array {
  const mod = binaryen.readBinary(core);
  try {
    const exports: { name: string; value: string; kind: number }[] = [];
    for (let i = 0; i < mod.getNumExports(); i++) {
      const info = binaryen.getExportInfo(mod.getExportByIndex(i));
      exports.push({ name: info.name, value: info.value, kind: info.kind });
    }
    for (const e of exports) {
      const to = renames.get(e.name);
      if (to === undefined || e.kind !== binaryen.ExternalFunction) continue;
      mod.removeExport(e.name);
      mod.addFunctionExport(e.value, to);
    }
    binaryen.setDebugInfo(true); // keep the name section: guest stacks and allocator traps are read by name
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
