/** The sandbox rule at the WIT level: a task may import only what tsray provides. */
import type { ResolvedWorld } from './types.js';

/** Interface prefixes the host implements; nothing else is reachable from a guest. */
export const ALLOWED_IMPORT_PREFIXES = ['tsray:runtime/'];
export const REQUIRED_IMPORT = 'tsray:runtime/host';

/** One message per import the host will not provide. */
export function checkWorldImports(world: ResolvedWorld): string[] {
  const problems: string[] = [];
  for (const item of world.imports) {
    const allowed = item.kind === 'interface' && ALLOWED_IMPORT_PREFIXES.some((p) => item.name.startsWith(p));
    if (!allowed) {
      problems.push(`world ${world.name} imports '${item.name}', which is outside tsray:runtime: a task may import only tsray:runtime interfaces (no ambient authority)`);
    }
  }
  if (!world.imports.some((i) => i.name.split('@')[0] === REQUIRED_IMPORT)) {
    problems.push(`world ${world.name} must import ${REQUIRED_IMPORT}: add 'include tsray:runtime/task;' to it`);
  }
  return problems;
}
