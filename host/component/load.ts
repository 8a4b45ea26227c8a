/**
 * `load()`: bytes or a path -> a validated `ComponentModule`.
 *
 * Validation: the binary must be a component (not a core module), carry
 * tsray's WIT metadata, import nothing outside `tsray:runtime`, and hold a
 * core module whose imports and exports match its world, signature for
 * signature, and leave the host's reserved export names alone. Compiled core modules are cached
 * by the sha256 of the component, so loading the same bytes twice compiles once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ComponentError } from '../errors.js';
import { JcoInstance, loadJcoGlue } from '../engine/jco.js';
import { LeanInstance } from '../engine/lean.js';
import { ALLOWED_IMPORT_PREFIXES, checkWorldImports } from '../wit/imports.js';
import { componentWit } from '@bytecodealliance/jco-transpile/wasm-tools';
import { worldFromText } from '../wit/load.js';
import type { ResolvedWorld } from '../wit/types.js';
import { snapshotRestores } from '../engine/core-module.js';
import { componentParts, METADATA_SECTION } from './binary.js';
import type { LoadedComponent } from './loaded.js';
import { checkCore } from './core-check.js';
import { ComponentModule, type EngineName, type InstanceFactory } from './module.js';

export interface LoadOptions {
  /** `lean` (default): tsray's own canonical-ABI engine. `jco`: jco's generated glue, the reference. */
  engine?: EngineName;
}

export type { LoadedComponent };

const coreCache = new Map<string, LoadedComponent>();

async function readBytes(src: string | Uint8Array | ArrayBuffer): Promise<Uint8Array> {
  if (typeof src === 'string') {
    try {
      return new Uint8Array(await readFile(src));
    } catch (e) {
      throw new ComponentError(`cannot read component ${src}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (src instanceof ArrayBuffer) return new Uint8Array(src);
  if (src instanceof Uint8Array) return src;
  throw new ComponentError('load() takes a file path, a Uint8Array or an ArrayBuffer');
}

async function compileCore(bytes: Uint8Array, hash: string): Promise<LoadedComponent> {
  const hit = coreCache.get(hash);
  if (hit) return hit;
  const parts = componentParts(bytes);
  if (!parts.metadata) throw new ComponentError(`component has no ${METADATA_SECTION} metadata section: build it with \`tsray build\``);
  let world: ResolvedWorld;
  try {
    world = worldFromText(parts.metadata.wit, parts.metadata.world);
  } catch (e) {
    throw new ComponentError(`component metadata does not resolve: ${(e as Error).message}`, { cause: e });
  }
  // The metadata is the component's own claim; the binary's real imports must agree with the sandbox rule too.
  await checkBinaryImports(bytes);
  const refused = checkWorldImports(world);
  if (refused.length) throw new ComponentError(`component refused: ${refused.join('; ')}`);
  let core: WebAssembly.Module | undefined;
  let coreBytes: Uint8Array | undefined;
  for (const m of parts.coreModules) {
    let compiled: WebAssembly.Module;
    try {
      compiled = await WebAssembly.compile(m as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new ComponentError(`invalid core module inside the component: ${(e as Error).message}`, { cause: e });
    }
    const names = new Set(WebAssembly.Module.exports(compiled).map((x) => x.name));
    if (names.has('cabi_realloc') && names.has('memory')) { core = compiled; coreBytes = m; break; }
  }
  if (!core || !coreBytes) throw new ComponentError('component has no core module exporting memory and cabi_realloc');
  checkCore(coreBytes, world);
  const resettable = await snapshotRestores(coreBytes);
  const out: LoadedComponent = { hash, bytes, world, metadata: parts.metadata, coreBytes: coreBytes.slice(), core, resettable };
  coreCache.set(hash, out);
  return out;
}

/** Reads and validates a component (cached by content hash); the runtime builds on this. */
export async function loadComponent(src: string | Uint8Array | ArrayBuffer): Promise<LoadedComponent> {
  const bytes = await readBytes(src);
  return compileCore(bytes, createHash('sha256').update(bytes).digest('hex'));
}

/** Decodes the component with wasm-tools (a full validation) and refuses imports outside tsray:runtime. */
async function checkBinaryImports(bytes: Uint8Array): Promise<void> {
  let wit: string;
  try {
    wit = await componentWit(bytes);
  } catch (e) {
    throw new ComponentError(`malformed component: ${(e as Error).message ?? String(e)}`, { cause: e });
  }
  for (const m of wit.matchAll(/^\s*import\s+([^\s;:]+(?::[^\s;]+)?)\s*(;|:)/gm)) {
    const name = m[1]!;
    if (!ALLOWED_IMPORT_PREFIXES.some((p) => name.startsWith(p))) {
      throw new ComponentError(`component refused: it imports '${name}', which is outside tsray:runtime (tasks get no ambient authority)`);
    }
  }
}

/** A class of module `load` can make: `ComponentModule` or one built on it (the public API's adds `fn` and `actor`). */
export type ModuleClass<M extends ComponentModule> = new (hash: string, world: ResolvedWorld, engineName: EngineName, factory: InstanceFactory, component?: LoadedComponent) => M;

/** Loads, validates and compiles a component. Throws `ComponentError` with the reason. */
export function load(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<ComponentModule> {
  return loadAs(ComponentModule, src, opts);
}

/** `load`, making a module of class `Module`. */
export async function loadAs<M extends ComponentModule>(Module: ModuleClass<M>, src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<M> {
  const bytes = await readBytes(src);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const loaded = await compileCore(bytes, hash);
  const { world, core } = loaded;
  const engine = opts.engine ?? 'lean';
  if (engine === 'jco') {
    const glue = await loadJcoGlue(bytes);
    return new Module(hash, world, 'jco', (makeHandle, env) => JcoInstance.create(glue, world, env, makeHandle), loaded);
  }
  if (engine !== 'lean') throw new ComponentError(`unknown engine '${engine as string}'; use 'lean' or 'jco'`);
  return new Module(hash, world, 'lean', async (makeHandle, env) => new LeanInstance(core, world, env, makeHandle), loaded);
}
