/**
 * A world's exported function by the name a guest submits it under: its WIT
 * name (`tree-sum`) or `iface#name`. One lookup for the node and for a
 * worker that runs a claimed task itself, so both accept the same names.
 */
import { exportedFuncs } from '../abi/names.js';
import type { FuncDef, ResolvedWorld } from '../wit/types.js';

const byWorld = new WeakMap<ResolvedWorld, Map<string, { key: string; func: FuncDef }>>();

/** `key`: what a worker runs (`iface#name`, or the name at world level). */
export function exportFunc(world: ResolvedWorld, name: string): { key: string; func: FuncDef } | undefined {
  let m = byWorld.get(world);
  if (!m) {
    m = new Map();
    for (const e of exportedFuncs(world.exports)) {
      if (e.func.kind !== 'freestanding') continue;
      const key = e.iface ? `${e.iface}#${e.func.name}` : e.func.name;
      m.set(key, { key, func: e.func });
      if (!m.has(e.func.name)) m.set(e.func.name, { key, func: e.func });
    }
    byWorld.set(world, m);
  }
  return m.get(name);
}
