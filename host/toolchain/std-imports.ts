/**
 * AssemblyScript's std imports a few functions from `env` (console.*, trace,
 * seed for Math.random, abort) that no component host provides. A world that
 * imports tsray:runtime/host gets the SDK's stand-ins, which write to the task
 * log; any other world gets an abort that only traps, and the build names each
 * host-bound function the guest still uses, with the fix.
 */
import type { ResolvedWorld } from '../wit/types.js';

const HOST = 'tsray:runtime/host';
const FIX = "add 'include tsray:runtime/task;' to it";

function importsInterface(world: ResolvedWorld, name: string): boolean {
  const bare = name.split('@')[0];
  return world.imports.some((i) => i.kind === 'interface' && i.name.split('@')[0] === bare);
}

/** The `asc` options that bind abort, console, trace and seed for this world. */
export function stdBindings(world: ResolvedWorld): string[] {
  // asc emits `unreachable` for an empty abort, with no import
  if (!importsInterface(world, HOST)) return ['--use', 'abort=', '--use', 'console=~lib/tsray/console-unbound/console'];
  return [
    '--use', 'abort=~lib/tsray/host/tsrayAbort',
    '--use', 'console=~lib/tsray/env/console',
    '--use', 'trace=~lib/tsray/env/tsrayTrace',
    '--use', 'seed=~lib/tsray/env/tsraySeed',
  ];
}

/** The SDK function (by the name a guest calls it) behind each tsray:runtime import. */
const SDK_NAMES: Record<string, string> = { log: 'log', now: 'now', sleep: 'sleep', 'task-context': 'taskContext' };

/** Why the guest needs `module.name` (undefined: no tsray host provides it) and how its use reads in source. */
function need(module: string, name: string): { why?: string; use?: RegExp } {
  if (module === 'env') {
    if (name.startsWith('console.')) return { why: `${name} writes to the task log`, use: callOf(name) };
    if (name === 'trace') return { why: 'trace() writes to the task log', use: callOf(name) };
    if (name === 'seed') return { why: 'Math.random is seeded from the host clock', use: /\bMath\.random\b/ };
    return {};
  }
  if (!module.startsWith('tsray:runtime/')) return {};
  const sdk = SDK_NAMES[name];
  return sdk ? { why: `the SDK's ${sdk}() calls the host`, use: callOf(sdk) } : { why: `the SDK's ${name} calls the host` };
}

/** A call of `name` (not a method of something else). */
function callOf(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.])${escaped}\\s*\\(`);
}

/** The first use of `pattern` in the entry source as `file:line:col` (sortable), or just the file. */
function locate(file: string, text: string, pattern: RegExp | undefined): { where: string; at: number } {
  const m = pattern?.exec(text);
  if (!m) return { where: file, at: Infinity };
  const before = text.slice(0, m.index).split('\n');
  return { where: `${file}:${before.length}:${before[before.length - 1]!.length + 1}`, at: m.index };
}

/** The message for a core import `module.name` the world does not provide, and where its first use is. */
function problem(module: string, name: string, world: ResolvedWorld, file: string, text: string): { at: number; message: string } {
  const { why, use } = need(module, name);
  const { where, at } = locate(file, text, use);
  if (why !== undefined) return { at, message: `${where}: ${why}, and world ${world.name} does not import ${module === 'env' ? HOST : module}: ${FIX}` };
  if (module === 'env') return { at, message: `${where}: the guest imports env.${name}, which no tsray host provides` };
  return { at, message: `${where}: the guest imports '${name}' from '${module}' (an @external declaration?), which world ${world.name} does not import` };
}

/**
 * One message per core import the world does not provide (`env.*` always), so
 * the component holds no import its world lacks. In source order where found.
 */
export function checkCoreImports(core: Uint8Array, world: ResolvedWorld, file: string, text: string): string[] {
  const problems = new Map<string, { at: number; message: string }>();
  for (const { module, name } of WebAssembly.Module.imports(new WebAssembly.Module(core as Uint8Array<ArrayBuffer>))) {
    if (module.startsWith('[export]') || importsInterface(world, module)) continue; // resource intrinsics; the world's own
    const key = module === 'env' ? name : module;
    if (problems.has(key)) continue;
    problems.set(key, problem(module, name, world, file, text));
  }
  return [...problems.values()].sort((a, b) => a.at - b.at).map((p) => p.message);
}
