/**
 * The core module must be what the component's WIT metadata says it is: the
 * host lowers arguments and lifts results by the metadata's signatures, so a
 * core export or import of another shape would be called wrongly. Checked
 * once at load, so a lying component fails there with `ComponentError`.
 */
import { exportCoreSignature, importCoreSignature } from '../abi/layout.js';
import { coreDtorName, coreExportName, corePostReturnName, resourceIntrinsicModule } from '../abi/names.js';
import { RESERVED_EXPORT_PREFIX } from '../abi/sandbox-names.js';
import { ComponentError } from '../errors.js';
import type { ResolvedWorld } from '../wit/types.js';
import { KIND, readCore, sameSig, showSig, type CoreInfo, type FuncSig } from '../engine/core-sections.js';

const I32_TO_I32: FuncSig = { params: ['i32'], results: ['i32'] };
const I32_TO_NONE: FuncSig = { params: ['i32'], results: [] };
const REALLOC: FuncSig = { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] };

function exportedFunc(info: CoreInfo, name: string): { found: boolean; sig?: FuncSig } {
  const e = info.exports.find((x) => x.name === name);
  if (!e) return { found: false };
  if (e.kind !== KIND.func) throw new ComponentError(`component's core module exports '${name}' as something other than a function`);
  const sig = info.funcs[e.index];
  return sig ? { found: true, sig } : { found: true };
}

function expectExport(info: CoreInfo, name: string, want: FuncSig, required: boolean): void {
  const got = exportedFunc(info, name);
  if (!got.found) {
    if (required) throw new ComponentError(`component's core module lacks export '${name}' required by its world`);
    return;
  }
  if (!sameSig(got.sig, want)) {
    throw new ComponentError(`component's core export '${name}' has signature ${showSig(got.sig)}, but its component type needs ${showSig(want)}: the component's type does not describe this module`);
  }
}

/** Throws `ComponentError` unless `coreBytes` matches `world` and leaves the host's export names alone. */
export function checkCore(coreBytes: Uint8Array, world: ResolvedWorld): void {
  const info = readCore(coreBytes);
  const reserved = info.exports.find((e) => e.name.startsWith(RESERVED_EXPORT_PREFIX));
  if (reserved) {
    throw new ComponentError(`component's core module exports '${reserved.name}': names starting with '${RESERVED_EXPORT_PREFIX}' are reserved for the host's sandbox`);
  }
  const memory = info.exports.find((e) => e.name === 'memory');
  if (memory?.kind !== KIND.memory) throw new ComponentError("component's core module must export its linear memory as 'memory'");
  expectExport(info, 'cabi_realloc', REALLOC, true);

  const imports = new Map<string, FuncSig>();
  for (const item of world.imports) {
    if (item.kind !== 'interface') continue;
    for (const f of item.iface.funcs) imports.set(`${item.name}#${f.name}`, importCoreSignature(f));
    // A host-defined resource: the guest drops its handles through the interface itself.
    for (const r of item.iface.resources) imports.set(`${item.name}#[resource-drop]${r.name}`, I32_TO_NONE);
  }
  for (const item of world.exports) {
    const iface = item.kind === 'func' ? undefined : item.name;
    for (const f of item.kind === 'func' ? [item.func] : item.iface.funcs) {
      const sig = exportCoreSignature(f);
      expectExport(info, coreExportName(iface, f), sig, true);
      expectExport(info, corePostReturnName(iface, f), { params: sig.results, results: [] }, false);
    }
    if (item.kind !== 'interface') continue;
    for (const r of item.iface.resources) {
      expectExport(info, coreDtorName(item.name, r.name), I32_TO_NONE, false);
      const mod = resourceIntrinsicModule(item.name);
      imports.set(`${mod}#[resource-new]${r.name}`, I32_TO_I32);
      imports.set(`${mod}#[resource-rep]${r.name}`, I32_TO_I32);
      imports.set(`${mod}#[resource-drop]${r.name}`, I32_TO_NONE);
    }
  }
  for (const imp of info.imports) {
    const key = `${imp.module}#${imp.name}`;
    const want = imports.get(key);
    if (!want || imp.kind !== KIND.func) throw new ComponentError(`component's core module imports ${key}, which the host does not provide`);
    if (!sameSig(imp.sig, want)) {
      throw new ComponentError(`component's core module imports ${key} with signature ${showSig(imp.sig)}, but its component type gives it ${showSig(want)}`);
    }
  }
}
