/**
 * Skips a `tsray build` whose inputs did not change. The key hashes
 * everything the output depends on: the entry file and the local files it
 * imports (recursively), every WIT file read, the world and options, the
 * AssemblyScript and wasm-tools versions, and tsray's own toolchain (every
 * compiled host file, the guest SDK, asconfig.json), so a changed tsray never
 * reuses a component it would now build differently. Beside `out` a stamp
 * (`out.inputs`) records the key and hashes of the component and its `.d.ts`:
 * a hit also needs both files unchanged since they were written.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WitSources } from '../wit/load.js';
import { dtsPath } from './dts.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The host's code (dist/host when compiled, host/ when run from source). */
const HOST_DIR = resolve(HERE, '..');
const ROOT = resolve(HERE, '..', '..', '..');
const FORMAT = 'tsray-build-cache 1';

export interface CacheInputs {
  /** Absolute path of the AssemblyScript entry. */
  entry: string;
  wit: WitSources;
  world: string;
  debug: boolean;
}

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, sorted (so the hash does not depend on listing order). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** The version of package `pkg` as installed (found from one of its entry points: not every package exports its package.json). */
function packageVersion(pkg: string, entry: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.resolve(entry))); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (json.name === pkg) return json.version ?? 'unknown';
  }
  return 'unknown';
}

let toolchainKey: string | undefined;

/** The toolchain's part of every key: computed once per process (a few ms: about 1 MB of files). */
function toolchain(): string {
  if (toolchainKey) return toolchainKey;
  const h = createHash('sha256').update(`${FORMAT}\n`);
  for (const [pkg, entry] of [['assemblyscript', 'assemblyscript/asc'], ['@bytecodealliance/jco-transpile', '@bytecodealliance/jco-transpile/wasm-tools']] as const) {
    h.update(`${pkg} ${packageVersion(pkg, entry)}\n`);
  }
  const code = files(HOST_DIR).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts'));
  for (const f of [...code, ...files(join(ROOT, 'guest', 'sdk')), join(ROOT, 'asconfig.json')]) {
    if (existsSync(f)) h.update(`${relative(ROOT, f)}\n`).update(readFileSync(f));
  }
  return (toolchainKey = h.digest('hex'));
}

/** Relative imports of an AssemblyScript file (`import ... from './x'`, `export ... from`, `import './x'`). */
const IMPORT = /(?:\bfrom|\bimport)\s*["']([^"']+)["']/g;

/**
 * The entry and the local files it imports, as `[path, contents]`; undefined
 * when it imports a package other than the guest SDK (`tsray`), whose files
 * the key cannot follow, so such builds always run.
 */
function sources(entry: string): [string, string][] | undefined {
  const out = new Map<string, string>();
  const visit = (file: string): boolean => {
    if (out.has(file)) return true;
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '<missing>';
    out.set(file, text);
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec === 'tsray' || spec.startsWith('tsray/')) continue;
      if (!spec.startsWith('.')) return false;
      const base = resolve(dirname(file), spec);
      const found = [`${base}.ts`, join(base, 'index.ts'), base].find((p) => existsSync(p) && statSync(p).isFile()) ?? `${base}.ts`;
      if (!visit(found)) return false;
    }
    return true;
  };
  return visit(entry) ? [...out].sort(([a], [b]) => a.localeCompare(b)) : undefined;
}

/** The key of a build, or undefined when its inputs cannot all be named (see `sources`). */
export function buildKey(inputs: CacheInputs): string | undefined {
  const src = sources(inputs.entry);
  if (!src) return undefined;
  const h = createHash('sha256').update(toolchain());
  h.update(`world ${inputs.world}\ndebug ${inputs.debug}\nentry ${inputs.entry}\n`);
  for (const [path, text] of src) h.update(`source ${path} ${sha256(text)}\n`);
  for (const f of inputs.wit.files) h.update(`wit ${resolve(f.path)} ${sha256(f.text)}\n`);
  return h.digest('hex');
}

interface Stamp { key: string; component: string; dts: string }

const stampPath = (out: string): string => `${out}.inputs`;

function fileHash(p: string): string | undefined {
  return existsSync(p) ? sha256(readFileSync(p)) : undefined;
}

/** The component at `out`, when it (and its `.d.ts` at `dts`) was built from inputs with `key` and is unchanged since. */
export function cachedBuild(out: string, dts: string, key: string): Uint8Array | undefined {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath(out), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (stamp.key !== key || !existsSync(out) || fileHash(dts) !== stamp.dts) return undefined;
  const component = readFileSync(out);
  return sha256(component) === stamp.component ? new Uint8Array(component) : undefined;
}

/** Records that `out` and `dts` were just built from inputs with `key`. */
export function recordBuild(out: string, dts: string, key: string, component: Uint8Array, dtsText: string): void {
  const stamp: Stamp = { key, component: sha256(component), dts: sha256(dtsText) };
  writeFileSync(stampPath(out), JSON.stringify(stamp) + '\n');
}

/**
 * Whether `out` and its types were built from exactly these inputs and are
 * unchanged since. Cheap: `tsray build` asks this before it loads the compiler.
 */
export function upToDate(inputs: CacheInputs, out: string): boolean {
  const key = buildKey(inputs);
  return key !== undefined && cachedBuild(out, dtsPath(out), key) !== undefined;
}
