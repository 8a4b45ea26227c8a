/**
 * `load()`: bytes or a path -> a validated `ComponentModule`.
 *
 * Any component loads, whatever toolchain made it: the binary is fully
 * validated, its world is read from its own type information (no tsray
 * metadata needed), imports that nothing can serve are refused, and the
 * engine is chosen (see engine-choice.ts). Loaded components are cached by
 * the sha256 of their bytes, so loading the same bytes twice does the work once.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { componentWit } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ComponentError } from '../errors.js';
import { JcoInstance, importGlue, loadJcoGlue } from '../engine/jco.js';
import { LeanInstance } from '../engine/lean.js';
import { wasiIoFrom, type HostEnv } from '../engine/host-imports.js';
import { checkImports, wasiHost, type WasiHost } from '../engine/wasi/index.js';
import { classifyImports } from './import-policy.js';
import type { ResolvedWorld } from '../wit/types.js';
import { componentParts } from './binary.js';
import { evaluateComponent } from './decode/evaluate.js';
import { worldOf } from './decode/to-world.js';
import { chooseEngine } from './engine-choice.js';
import type { EngineName, LoadedComponent } from './loaded.js';
import { ComponentModule, type InstanceFactory } from './module.js';

export interface LoadOptions {
  /** Forces an engine: `lean` (tsray's own canonical-ABI engine) or `jco` (jco's generated glue). Default: the one `inspect` reports. */
  engine?: EngineName;
}

export type { LoadedComponent };

const cache = new Map<string, Promise<LoadedComponent>>();

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

/** A full validation by wasm-tools: a binary that is not a valid component stops here. */
async function validate(bytes: Uint8Array): Promise<void> {
  try {
    await componentWit(bytes);
  } catch (e) {
    throw new ComponentError(`malformed component: ${(e as Error).message ?? String(e)}`, { cause: e });
  }
}

async function analyse(bytes: Uint8Array, hash: string): Promise<LoadedComponent> {
  const parts = componentParts(bytes);
  await validate(bytes);
  const ev = evaluateComponent(bytes);
  const world = worldOf(ev, parts.metadata ? namesOf(parts.metadata.world) : undefined);
  const imports = classifyImports(world);
  if (imports.refused.length) {
    throw new ComponentError(`component refused: it imports ${imports.refused.map((r) => `\n  ${r}`).join('')}\nA task reaches only tsray:runtime, tsray:accel, interfaces that hold only types, and WASI as host/engine/wasi/capabilities.ts serves it.`);
  }
  const choice = await chooseEngine(ev, world, parts.coreModules, (name) => imports.tsray.includes(name) || imports.typesOnly.includes(name));
  const jco = choice.engine === 'jco' ? await loadJcoGlue(bytes) : undefined;
  return {
    hash, bytes, world, engine: choice.engine, engineReason: choice.reason, wasiImports: imports.wasi,
    ...(parts.metadata ? { metadata: parts.metadata } : {}),
    ...(choice.lean ? { lean: choice.lean } : {}),
    ...(jco ? { jco } : {}),
  };
}

/**
 * The WASI host of an in-process instance, granted `env.capabilities` (refused,
 * as a task would be, when they do not cover the component's imports).
 */
function inProcessWasi(c: LoadedComponent, env: HostEnv): WasiHost | undefined {
  if (!c.wasiImports.length) return undefined;
  const granted = env.capabilities ?? [];
  checkImports('component', c.wasiImports, granted);
  return wasiHost(new Set(granted), wasiIoFrom(env));
}

/** `ns:pkg/world` -> its package and world names. */
function namesOf(world: string): { packageName: string; name: string } {
  const i = world.lastIndexOf('/');
  return i < 0 ? { packageName: 'root:component', name: world } : { packageName: world.slice(0, i), name: world.slice(i + 1) };
}

/** Reads and validates a component (cached by content hash); the runtime builds on this. */
export async function loadComponent(src: string | Uint8Array | ArrayBuffer): Promise<LoadedComponent> {
  const bytes = await readBytes(src);
  const hash = createHash('sha256').update(bytes).digest('hex');
  let p = cache.get(hash);
  if (!p) {
    cache.set(hash, (p = analyse(bytes, hash)));
    p.catch(() => cache.delete(hash));
  }
  return p;
}

/** A class of module `load` can make: `ComponentModule` or one built on it (the public API's adds `fn` and `actor`). */
export type ModuleClass<M extends ComponentModule> = new (hash: string, world: ResolvedWorld, engineName: EngineName, factory: InstanceFactory, component?: LoadedComponent) => M;

/** Loads, validates and compiles a component. Throws `ComponentError` with the reason. */
export function load(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<ComponentModule> {
  return loadAs(ComponentModule, src, opts);
}

/** `load`, making a module of class `Module`. */
export async function loadAs<M extends ComponentModule>(Module: ModuleClass<M>, src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<M> {
  const loaded = await loadComponent(src);
  const { world, hash } = loaded;
  const engine = opts.engine ?? loaded.engine;
  if (engine === 'jco') {
    const glue = loaded.jco ?? await loadJcoGlue(loaded.bytes);
    await importGlue(glue);
    return new Module(hash, world, 'jco', async (makeHandle, env) => {
      const wasi = inProcessWasi(loaded, env);
      return JcoInstance.create(glue, world, env, makeHandle, wasi?.imports, wasi ? { afterCall: () => wasi.flush() } : {});
    }, { ...loaded, engine: 'jco', jco: glue });
  }
  if (engine !== 'lean') throw new ComponentError(`unknown engine '${engine as string}'; use 'lean' or 'jco'`);
  const lean = loaded.lean;
  if (!lean) throw new ComponentError(`this component cannot run on the lean engine: ${loaded.engineReason}`);
  return new Module(hash, world, 'lean', async (makeHandle, env) => new LeanInstance(lean.core, world, env, makeHandle), loaded);
}
