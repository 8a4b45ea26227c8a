/**
 * `build()`: AssemblyScript file + WIT world -> WebAssembly component.
 *
 * Pipeline: resolve the world, check the user's exports against it, generate
 * canonical-ABI glue, compile glue + user code with asc, rename exports to
 * their canonical names, embed the WIT and wrap the core module as a
 * component, then attach tsray's metadata section so hosts can read the
 * world's full types back. With `out`, the component's TypeScript types go
 * beside it (`x.d.ts`), and with `cache` an unchanged build is skipped.
 */
import asc from 'assemblyscript/asc';
import { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appendCustomSection, componentParts, METADATA_SECTION, encodeMetadata } from '../component/binary.js';
import { BuildError, ComponentError } from '../errors.js';
import { loadWorld, readWitSources } from '../wit/load.js';
import { checkWorldImports } from '../wit/imports.js';
import type { ResolvedWorld } from '../wit/types.js';
import { remoteStubs } from './remote-stubs.js';
import { generateGlue } from './glue.js';
import { renameExports } from './rename.js';
import { checkSignatures, readAsExports } from './signature.js';
import { checkCoreImports, stdBindings } from './std-imports.js';
import { dtsPath, generateDts } from './dts.js';
import { buildKey, cachedBuild, recordBuild } from './build-cache.js';

export { dtsPath } from './dts.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SDK_DIR = join(ROOT, 'guest', 'sdk');
const ASCONFIG = join(ROOT, 'asconfig.json');

export interface BuildOptions {
  /** The AssemblyScript file with the world's exports. */
  entry: string;
  /** `.wit` files or directories of them (searched recursively); tsray:runtime and tsray:accel are always included. */
  wit: string | string[];
  /** World name, plain (`matrix`) or qualified (`tsray:examples/matrix`). */
  world: string;
  /** Where to write the component, and its TypeScript types beside it (`x.wasm` -> `x.d.ts`); nothing is written when absent. */
  out?: string;
  /** Build with debug info and no optimisation. */
  debug?: boolean;
  /** Called with a line per finished step. */
  onProgress?: (step: string) => void;
  /**
   * With `out`: skip the build when `out` was built from the same inputs
   * (sources, WIT, world, options, compiler and tsray versions) and is
   * unchanged since; record the inputs after a build. `tsray build` sets it.
   */
  cache?: boolean;
  /** With `cache`: build even when the inputs did not change (and record them). */
  force?: boolean;
}

export interface BuildResult {
  component: Uint8Array;
  /** The compiled core module inside the component. */
  core: Uint8Array;
  world: ResolvedWorld;
  /** The generated AssemblyScript glue, for inspection. */
  glue: string;
  /** Whether `out` was up to date and nothing was compiled (`cache`). */
  cached: boolean;
}

/** Builds a component from an AssemblyScript file and a WIT world. Throws `BuildError`/`WitError`/`ComponentError`. */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const progress = opts.onProgress ?? (() => {});
  const wit = readWitSources(opts.wit);
  const { world, source } = loadWorld(wit, opts.world);
  const importProblems = checkWorldImports(world);
  if (importProblems.length) throw new BuildError(importProblems);
  progress(`resolved world ${world.packageName}/${world.name}`);

  const entry = resolve(opts.entry);
  const key = opts.cache && opts.out ? buildKey({ entry, wit, world: opts.world, debug: !!opts.debug }) : undefined;
  const reused = key && !opts.force ? cachedBuild(opts.out!, dtsPath(opts.out!), key) : undefined;
  if (reused) {
    const glue = generateGlue(world, './' + basename(entry).replace(/\.ts$/, '')).source;
    return { component: reused, core: componentParts(reused).coreModules[0] ?? new Uint8Array(), world, glue, cached: true };
  }

  let text: string;
  try {
    text = readFileSync(entry, 'utf8');
  } catch (e) {
    throw new BuildError([`${opts.entry}: cannot read: ${(e as Error).message}`]);
  }
  const shown = displayPath(entry);
  const parsed = readAsExports(shown, text);
  if (parsed.errors.length) throw new BuildError(parsed.errors);
  const problems = checkSignatures(world, shown, parsed.exports);
  if (problems.length) throw new BuildError(problems);
  progress('checked exports against WIT');

  const glue = generateGlue(world, './' + basename(entry).replace(/\.ts$/, ''));
  const core = await compile(entry, glue.source, remoteStubs(world), stdBindings(world), !!opts.debug);
  const unbound = checkCoreImports(core, world, shown, text);
  if (unbound.length) throw new BuildError(unbound);
  progress(`compiled AssemblyScript (${core.length} bytes)`);
  const renamed = renameExports(core, glue.renames);

  let component: Uint8Array;
  try {
    const embedded = await componentEmbed({ binary: renamed, witSource: source, world: `${world.packageName}/${world.name}` });
    component = await componentNew(embedded);
  } catch (e) {
    throw new ComponentError(`component creation failed: ${(e as Error).message ?? e}`, { cause: e });
  }
  component = appendCustomSection(component, METADATA_SECTION, encodeMetadata({ world: `${world.packageName}/${world.name}`, wit: source }));
  progress(`created component (${component.length} bytes)`);
  if (opts.out) {
    mkdirSync(dirname(resolve(opts.out)), { recursive: true });
    writeFileSync(opts.out, component);
    const dts = generateDts(world, { source: basename(opts.out) });
    writeFileSync(dtsPath(opts.out), dts);
    if (key) recordBuild(opts.out, dtsPath(opts.out), key, component, dts);
    progress(`wrote ${opts.out} and its types ${dtsPath(opts.out)}`);
  }
  return { component, core: renamed, world, glue: glue.source, cached: false };
}

/** A path as a user would type it: relative to the working directory when inside it. */
function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') ? rel : p;
}

/** `remote`: the source of `"tsray/remote"`, typed calls of the world's own functions (remote-stubs.ts). */
async function compile(entry: string, glueSource: string, remote: string, bindings: string[], debug: boolean): Promise<Uint8Array> {
  const dir = dirname(entry);
  const glueFile = join(dir, '__tsray_glue.ts');
  const rel = (p: string): string => relative(process.cwd(), p).split(sep).join('/');
  const outputs = new Map<string, Uint8Array>();
  let stderr = '';
  const args = [
    rel(glueFile), '-o', 'core.wasm', '--config', rel(ASCONFIG), '--target', debug ? 'debug' : 'release',
    '--runtime', 'minimal', ...bindings, '--noColors',
  ];
  const { error } = await asc.main(args, {
    readFile(name: string, baseDir: string) {
      const full = resolve(baseDir, name);
      if (full === glueFile) return glueSource;
      const pkg = `${sep}node_modules${sep}tsray${sep}`;
      const at = full.lastIndexOf(pkg);
      if (at >= 0) {
        const inSdk = full.slice(at + pkg.length);
        if (inSdk === 'remote.ts') return remote;
        try { return readFileSync(join(SDK_DIR, inSdk), 'utf8'); } catch { return null; }
      }
      try { return readFileSync(full, 'utf8'); } catch { return null; }
    },
    writeFile(name: string, contents: Uint8Array) { outputs.set(name, contents); },
    listFiles() { return []; },
    stdout: { write() { return true; } },
    stderr: { write(s: string | Uint8Array) { stderr += typeof s === 'string' ? s : Buffer.from(s).toString(); return true; } },
  } as unknown as Parameters<typeof asc.main>[1]);
  const wasm = outputs.get('core.wasm');
  if (error || !wasm) {
    const files = (d: string): string => d.replace(rel(glueFile), 'generated glue').replace(rel(entry), displayPath(entry));
    throw new BuildError(parseDiagnostics(stderr || String(error)).map(files));
  }
  return wasm;
}

/** asc prints `ERROR TS2322: message` then `   in file(line,col)`-style context; fold each into one line. */
function parseDiagnostics(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(ERROR|WARNING)\s+(\S+):\s*(.*)$/.exec(lines[i]!.trim());
    if (!m || m[1] !== 'ERROR') continue;
    let where = '';
    for (let j = i + 1; j < Math.min(lines.length, i + 8); j++) {
      const loc = /at\s+(\S+?)\((\d+),(\d+)\)|in\s+(\S+?)\((\d+),(\d+)\)|(\S+\.ts):(\d+):(\d+)/.exec(lines[j]!);
      if (loc) {
        const file = loc[1] ?? loc[4] ?? loc[7];
        const line = loc[2] ?? loc[5] ?? loc[8];
        const col = loc[3] ?? loc[6] ?? loc[9];
        where = `${file}:${line}:${col}: `;
        break;
      }
    }
    out.push(`${where}${m[2]}: ${m[3]}`);
  }
  return out.length ? out : [text.trim()];
}
