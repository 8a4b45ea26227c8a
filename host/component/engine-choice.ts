/**
 * Which engine runs a component. The lean engine calls one core module's
 * exports by their canonical names and serves only tsray's own imports; it
 * is chosen only when the binary proves that is exactly what the component
 * does: every export lifted from the same core instance, under the
 * canonical name, with UTF-8 strings, and nothing imported but
 * tsray:runtime (or types). Everything else (several core modules with
 * memories, adapters, WASI imports, other names) runs on the jco engine,
 * which follows the component's own wiring.
 */
import { coreExportName } from '../abi/names.js';
import { ComponentError } from '../errors.js';
import { snapshotRestores, definesMemory } from '../engine/core-module.js';
import { virtualizeMemorySize } from '../engine/virtual-memory-size.js';
import { print } from '@bytecodealliance/jco-transpile/wasm-tools';
import type { ResolvedWorld } from '../wit/types.js';
import { checkCore } from './core-check.js';
import type { Entity, Lift } from './decode/entities.js';
import type { Evaluated } from './decode/evaluate.js';
import type { EngineName, LeanCore } from './loaded.js';

export interface EngineChoice { engine: EngineName; reason: string; lean?: LeanCore }

function jco(reason: string): EngineChoice {
  return { engine: 'jco', reason };
}

/** Every exported function by the canonical core export name it must be lifted from (`iface#name`), with its lift. */
function exportedLifts(ev: Evaluated): { want: string; lift?: Lift }[] {
  const out: { want: string; lift?: Lift }[] = [];
  const add = (iface: string | undefined, name: string, e: Entity): void => {
    if (e.sort === 'func') out.push({ want: coreExportName(iface, { name }), ...(e.lift ? { lift: e.lift } : {}) });
  };
  for (const [name, e] of ev.exports) {
    if (e.sort === 'instance') for (const [fname, fe] of e.instance.exports) add(name, fname, fe);
    else add(undefined, name, e);
  }
  return out;
}

/** Decides the engine; `coreModules` are the component's top-level core modules in index order. */
export async function chooseEngine(ev: Evaluated, world: ResolvedWorld, coreModules: Uint8Array[], servedByHost: (importName: string) => boolean): Promise<EngineChoice> {
  const foreign = world.imports.filter((i) => !servedByHost(i.name));
  if (foreign.length) {
    const names = foreign.map((i) => i.name);
    const shown = names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
    return jco(`it imports ${shown}, which only the jco engine serves`);
  }
  if (ev.coreModules !== coreModules.length) return jco('it imports or aliases core modules');
  const lifts = exportedLifts(ev);
  const instances = new Set<number>();
  for (const l of lifts) {
    if (!l.lift) return jco(`its export ${l.want} is not lifted straight from a core module export`);
    if (!l.lift.utf8) return jco(`its export ${l.want} passes strings as UTF-16`);
    if (l.lift.coreName !== l.want) return jco(`its export ${l.want} is core export '${l.lift.coreName}', not the canonical name`);
    instances.add(l.lift.coreInstance);
  }
  if (instances.size > 1) return jco('its exports come from several core instances');
  const [inst] = instances;
  const ci = inst === undefined ? undefined : ev.coreInstances[inst];
  const mainIndex = ci && 'module' in ci ? ci.module : coreModules.findIndex(definesMemory);
  const main = coreModules[mainIndex];
  if (!main) return jco('it has no core module the lean engine can run');
  const memories = coreModules.filter(definesMemory).length;
  if (memories > 1) return jco(`${memories} of its ${coreModules.length} core modules define memories (adapters or a language runtime)`);
  let core: WebAssembly.Module;
  try {
    core = await WebAssembly.compile(main as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw new ComponentError(`invalid core module inside the component: ${(e as Error).message}`, { cause: e });
  }
  const names = new Set(WebAssembly.Module.exports(core).map((x) => x.name));
  if (!names.has('memory') || !names.has('cabi_realloc')) return jco('its core module does not export memory and cabi_realloc');
  try {
    checkCore(main, world);
  } catch (e) {
    // Names under the host's reserved prefix are refused outright: only a component trying to pass for the host's sandbox uses them.
    if (/reserved for the host/.test((e as Error).message)) throw e;
    return jco((e as Error).message);
  }
  // Printed once: both the snapshot check and the memory-size rewrite read the text.
  const wat = await print(main);
  const resettable = await snapshotRestores(main, wat);
  // A pooled instance keeps the memory a task grew only when the guest cannot tell (virtual-memory-size.ts).
  const coreBytes = (resettable ? await virtualizeMemorySize(main, wat) : undefined) ?? main.slice();
  const lean: LeanCore = { coreBytes, core, resettable };
  return { engine: 'lean', reason: `one core module (${coreModules.length - 1} shim${coreModules.length === 2 ? '' : 's'}), exports lifted by their canonical names, only tsray imports`, lean };
}
