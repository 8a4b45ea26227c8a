/** Names: WIT kebab-case to JavaScript/AssemblyScript, and the canonical ABI's core names. */
import type { FuncDef, WorldItem } from '../wit/types.js';

export function camelCase(kebab: string): string {
  return kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Whether `name` names the WIT item `witName`: by its WIT name or by its camelCase (one rule for every lookup). */
export function nameMatches(witName: string, name: string): boolean {
  return witName === name || camelCase(witName) === name;
}

export function pascalCase(kebab: string): string {
  const c = camelCase(kebab);
  return c.charAt(0).toUpperCase() + c.slice(1);
}

/** Core export name of an exported function (`sum`, `demo#mid`, `ns:pkg/i#[method]r.m`). */
export function coreExportName(iface: string | undefined, f: Pick<FuncDef, 'name'>): string {
  return iface ? `${iface}#${f.name}` : f.name;
}

export function corePostReturnName(iface: string | undefined, f: FuncDef): string {
  return `cabi_post_${coreExportName(iface, f)}`;
}

export function coreDtorName(iface: string, resource: string): string {
  return `${iface}#[dtor]${resource}`;
}

/** Core import module of an imported world item. */
export function coreImportModule(item: WorldItem): string {
  return item.kind === 'func' ? '$root' : item.name;
}

/** Module of the resource intrinsics for a resource exported by `iface`. */
export function resourceIntrinsicModule(iface: string): string {
  return `[export]${iface}`;
}

/** Every exported function with the interface that holds it (undefined at world level). */
export function exportedFuncs(items: WorldItem[]): { iface?: string; func: FuncDef }[] {
  const out: { iface?: string; func: FuncDef }[] = [];
  for (const item of items) {
    if (item.kind === 'func') out.push({ func: item.func });
    else for (const f of item.iface.funcs) out.push({ iface: item.name, func: f });
  }
  return out;
}
