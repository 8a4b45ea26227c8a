/**
 * The sandbox rule for a component's imports, applied at load: tsray's own
 * runtime interfaces are served by the host; interfaces that hold only
 * types carry no authority; WASI interfaces are served by the capability
 * host (each task must be granted what they reach, see engine/wasi);
 * anything else can never be served, so the component is refused.
 */
import { readFileSync } from 'node:fs';
import type { FuncDef, ResolvedWorld, WitType } from '../wit/types.js';
import { ALLOWED_IMPORT_PREFIXES } from '../wit/imports.js';
import { HOST_PACKAGES, worldFromText } from '../wit/load.js';
import { describeType } from '../wit/describe.js';
import { GRANTABLE, capabilityOf, stripVersion, systemNow, wasiHost } from '../engine/wasi/index.js';
import { camelCase, pascalCase } from '../abi/names.js';

export interface ImportClasses {
  tsray: string[];
  typesOnly: string[];
  wasi: string[];
  /** One line per import nothing can serve. */
  refused: string[];
}

/** Whether the WASI host serves this import (with or without a grant). */
function servedWasi(name: string): boolean {
  const c = capabilityOf(name);
  return 'grant' in c || 'inert' in c;
}

let probe: Record<string, Record<string, unknown>> | undefined;

/** The WASI host's imports with every grant, to see which functions and resources it implements. */
function wasiProbe(): Record<string, Record<string, unknown>> {
  const io = { write: () => undefined, sleep: () => undefined, checkpoint: () => undefined, now: systemNow };
  return (probe ??= wasiHost(new Set(GRANTABLE), io).imports);
}

/**
 * The first function or resource of a WASI interface the host does not
 * implement: jco's glue needs every imported function and resource class at
 * instantiation (a method the host lacks fails only the call that reaches it).
 */
function missingWasiFunc(iface: string, funcs: FuncDef[]): string | undefined {
  const obj = wasiProbe()[stripVersion(iface)] ?? {};
  for (const f of funcs) {
    const found = f.resource ? typeof obj[pascalCase(f.resource.name)] === 'function' : typeof obj[camelCase(f.name)] === 'function';
    if (!found) return `'${iface}#${f.resource ? f.resource.name : f.name}' (the WASI host has no such ${f.resource ? 'resource' : 'function'})`;
  }
  return undefined;
}

let runtime: Map<string, FuncDef> | undefined;

/** The functions of tsray's own packages as the host implements them, by `iface#name` (unversioned). */
function runtimeFuncs(): Map<string, FuncDef> {
  if (!runtime) {
    runtime = new Map();
    for (const { file, world } of HOST_PACKAGES) {
      for (const item of worldFromText(readFileSync(file, 'utf8'), world, file).imports) {
        if (item.kind === 'interface') for (const f of item.iface.funcs) runtime.set(`${item.name}#${f.name}`, f);
      }
    }
  }
  return runtime;
}

/** A signature in one line, for comparing and for messages. */
function signature(f: FuncDef): string {
  const t = (x: WitType): string => describeType(x);
  return `(${f.params.map((p) => `${p.name}: ${t(p.type)}`).join(', ')})${f.result ? ` -> ${t(f.result)}` : ''}`;
}

/**
 * Why a tsray:runtime import cannot be served as the component declares it,
 * or undefined: the host lowers and lifts by its own signatures, so a
 * component that declares another one is refused rather than misread.
 */
function runtimeMismatch(iface: string, funcs: FuncDef[]): string | undefined {
  const base = iface.split('@')[0]!;
  for (const f of funcs) {
    const real = runtimeFuncs().get(`${base}#${f.name}`);
    if (!real) return `'${base}#${f.name}' (${base.split('/')[0]} has no such function)`;
    if (signature(real) !== signature(f)) return `'${base}#${f.name}' as ${signature(f)}, but the host provides ${signature(real)}`;
  }
  return undefined;
}

export function classifyImports(world: ResolvedWorld): ImportClasses {
  const out: ImportClasses = { tsray: [], typesOnly: [], wasi: [], refused: [] };
  for (const item of world.imports) {
    const tsray = item.kind === 'interface' && ALLOWED_IMPORT_PREFIXES.some((p) => item.name.startsWith(p));
    const wasi = item.kind === 'interface' && !tsray && servedWasi(item.name);
    const bad = item.kind !== 'interface' ? undefined
      : tsray ? runtimeMismatch(item.name, item.iface.funcs)
        : wasi ? missingWasiFunc(item.name, item.iface.funcs) : undefined;
    if (bad) out.refused.push(bad);
    else if (tsray) out.tsray.push(item.name);
    else if (item.kind === 'interface' && item.iface.funcs.length === 0 && item.iface.resources.length === 0) out.typesOnly.push(item.name);
    else if (wasi) out.wasi.push(item.name);
    else out.refused.push(`'${item.name}' (${item.kind === 'func' ? 'a function' : 'an interface'} no host serves)`);
  }
  return out;
}
