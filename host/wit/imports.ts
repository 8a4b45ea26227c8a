/** The sandbox rule at the WIT level: a task may import only what tsray provides, and types. */
import type { InterfaceDef, ResolvedWorld } from './types.js';

/** Interface prefixes the host implements; nothing else is reachable from a guest. */
export const ALLOWED_IMPORT_PREFIXES = ['tsray:runtime/', 'tsray:accel/'];

/** An interface with no functions and no resources: importing it reaches nothing, it only names types. */
export function isTypesOnly(iface: InterfaceDef): boolean {
  return iface.funcs.length === 0 && iface.resources.length === 0;
}

/** One message per import the host will not provide. The runtime imports are optional. */
export function checkWorldImports(world: ResolvedWorld): string[] {
  const problems: string[] = [];
  for (const item of world.imports) {
    if (item.kind === 'interface' && (ALLOWED_IMPORT_PREFIXES.some((p) => item.name.startsWith(p)) || isTypesOnly(item.iface))) continue;
    problems.push(`world ${world.name} imports '${item.name}', which is outside tsray:runtime: a task may import only tsray:runtime interfaces and interfaces that hold only types (no ambient authority)`);
  }
  return problems;
}
