/**
 * The reference engine: jco's generated glue. Slower to instantiate and call
 * than the lean engine, but an independent implementation of the canonical
 * ABI, so tests run every type through both and compare.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { camelCase, pascalCase } from '../abi/names.js';
import { userSubdir } from '../util/private-dir.js';
import { ComponentError, OutOfMemoryError, TaskError } from '../errors.js';
import type { ResolvedWorld, ResourceDef } from '../wit/types.js';
import { runtimeHost, type HostEnv } from './host-imports.js';
import { snapshotRestoresAll } from './core-module.js';
import { InstanceSnapshot } from './instance-snapshot.js';
import type { EngineInstance, ExportRef, HandleFactory } from './types.js';

interface JcoModule {
  instantiate(getCoreModule: (path: string) => WebAssembly.Module, imports: Record<string, unknown>,
    instantiateCore: (m: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance): Record<string, unknown>;
}

/**
 * A component transpiled by jco: where its glue lives (an ES module a worker
 * can import by path) and its core modules, compiled once and shared with
 * workers. The glue instantiates synchronously, so a task runs start to end
 * without returning to the event loop, as on the lean engine.
 */
export interface JcoGlue {
  entry: string;
  /** Core module bytes by the file name the glue asks for. */
  cores: Map<string, Uint8Array>;
  /** The same, compiled. */
  compiled: Map<string, WebAssembly.Module>;
  /** Whether restoring memories and globals resets an instance exactly (see instance-snapshot.ts). */
  restorable: boolean;
  module?: JcoModule;
}

/**
 * jco's glue decodes strings with a lenient TextDecoder, which replaces
 * invalid UTF-8 where the canonical ABI traps; make it strict (and keep a
 * leading BOM, as the ABI does). The suffix marks glue patched this way in the cache.
 */
const STRICT_UTF8 = { from: 'new TextDecoder()', to: "new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })", suffix: '-sync-strict-utf8' };

/** Transpiles a component once per content hash into a cache directory and compiles its core modules. */
export async function loadJcoGlue(bytes: Uint8Array): Promise<JcoGlue> {
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  // In this user's private directory: the glue found there is imported and run.
  const dir = join(userSubdir('jco'), hash + STRICT_UTF8.suffix);
  const entry = join(dir, 'component.js');
  if (!existsSync(entry) || !existsSync(join(dir, 'package.json'))) {
    let out: { files: Record<string, Uint8Array> | Map<string, Uint8Array> | [string, Uint8Array][] };
    try {
      // Loaded here, not at the top: worker threads import this file and never transpile.
      const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
      out = await transpileBytes(bytes, { name: 'component', instantiation: { tag: 'sync' } }) as typeof out;
    } catch (e) {
      throw new ComponentError(`jco could not transpile the component: ${(e as Error).message ?? e}`, { cause: e });
    }
    const files = out.files instanceof Map ? [...out.files] : Array.isArray(out.files) ? out.files : Object.entries(out.files);
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of files) {
      if (!name.endsWith('.js') && !name.endsWith('.wasm')) continue;
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), name.endsWith('.js') ? Buffer.from(data).toString('utf8').replaceAll(STRICT_UTF8.from, STRICT_UTF8.to) : data);
    }
    // Written last: its presence says the directory is complete.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  }
  const cores = new Map<string, Uint8Array>();
  const compiled = new Map<string, WebAssembly.Module>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.wasm'))) {
    const core = new Uint8Array(readFileSync(join(dir, name)));
    cores.set(name, core);
    try {
      compiled.set(name, await WebAssembly.compile(core));
    } catch (e) {
      throw new ComponentError(`invalid core module ${name} inside the component: ${(e as Error).message}`, { cause: e });
    }
  }
  return { entry, cores, compiled, restorable: await restorable(dir, cores) };
}

/** Whether every core module can be snapshotted (computed once and kept beside the glue: it reads every instruction). */
async function restorable(dir: string, cores: Map<string, Uint8Array>): Promise<boolean> {
  const file = join(dir, 'restorable.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) === true;
  let all = true;
  for (const core of cores.values()) all &&= await snapshotRestoresAll(core);
  writeFileSync(file, JSON.stringify(all));
  return all;
}

/** Imports the glue's ES module (once per glue). */
export async function importGlue(glue: JcoGlue): Promise<JcoModule> {
  return (glue.module ??= await import(pathToFileURL(glue.entry).href) as JcoModule);
}

/** Options of one jco instance. */
export interface JcoOptions {
  /** Snapshot after instantiation so `reset()` can restore it (the cores must export their mutable globals). */
  resettable?: boolean;
  /** The memory cap the cores were built with, to tell running out of memory from a bug. */
  maxBytes?: number;
  /** What the guest said about its failure, if anything (e.g. the last lines it wrote to stderr). */
  explain?: () => string | undefined;
  /** Runs after every call (passes on unfinished WASI output lines). */
  afterCall?: () => void;
}

/** How close to its cap a memory must be for a trap to count as running out of memory. */
const NEAR_CAP = 4 * 2 ** 20;

function fail(path: string): never {
  throw new ComponentError(`jco glue asked for core module ${path}, which the component does not have`);
}

class JcoToken {
  constructor(readonly object: Record<string, (...a: unknown[]) => unknown>, readonly owner: JcoInstance) {}
  dropped = false;
}

export class JcoInstance implements EngineInstance {
  private fatal: string | undefined;
  private disposed = false;

  /** Set after a trap: the instance is not reset for another task. */
  private trapped = false;
  /** Handles this instance made that are still alive (while any is, no reset can be exact). */
  private readonly live = new Set<JcoToken>();

  private constructor(private readonly exportsObj: Record<string, unknown>, private readonly makeHandle: HandleFactory,
    private readonly snapshot: InstanceSnapshot | undefined, private readonly cores: WebAssembly.Instance[], private readonly opts: JcoOptions) {}

  /** Why the guest failed: its abort message, or what it wrote to stderr (language runtimes print the error there, then trap). */
  private failure(name: string, e: unknown): TaskError | OutOfMemoryError {
    const message = this.fatal ?? this.opts.explain?.() ?? (e as Error).message ?? String(e);
    const cap = this.opts.maxBytes;
    // Near the cap, a trap is the guest's allocator failing to grow memory: running out, not a bug.
    if (cap !== undefined && this.cores.some((i) => Object.values(i.exports).some((x) => x instanceof WebAssembly.Memory && x.buffer.byteLength + NEAR_CAP > cap))) {
      return new OutOfMemoryError(name, `task '${name}' needed more linear memory than its cap of ${cap / 2 ** 20} MiB allows (${message}); raise maxMemoryMb`, { cause: e });
    }
    return new TaskError(name, message, { cause: e });
  }

  get broken(): boolean {
    return this.trapped;
  }

  get memoryBytes(): number | undefined {
    return this.snapshot ? this.snapshot.bytes + this.snapshot.liveBytes : undefined;
  }

  /** Restores the just-instantiated state when that is exact (no trap, no live handle, no memory growth). */
  reset(): boolean {
    if (!this.snapshot || this.trapped || this.disposed || this.live.size > 0) return false;
    this.fatal = undefined;
    return this.snapshot.restore();
  }

  private token(object: JcoToken['object']): JcoToken {
    const t = new JcoToken(object, this);
    this.live.add(t);
    return t;
  }

  /** A fresh instance; `importGlue(glue)` must have run. `extra` serves imports beyond tsray:runtime (WASI). */
  static create(glue: JcoGlue, world: ResolvedWorld, env: HostEnv, makeHandle: HandleFactory, extra: Record<string, Record<string, unknown>> = {},
    opts: JcoOptions = {}): JcoInstance {
    let self: JcoInstance | undefined;
    const host = runtimeHost(env, (m) => { if (self) self.fatal = m; });
    const imports: Record<string, Record<string, unknown>> = { ...extra };
    const instances: WebAssembly.Instance[] = [];
    for (const item of world.imports) {
      if (item.kind !== 'interface') continue;
      const key = item.name.split('@')[0]!;
      const impls = host[key];
      if (!impls) continue;
      const obj: Record<string, unknown> = {};
      for (const f of item.iface.funcs) if (!f.resource && impls[f.name]) obj[camelCase(f.name)] = impls[f.name];
      for (const r of item.iface.resources) if (impls[`[resource]${r.name}`]) obj[pascalCase(r.name)] = impls[`[resource]${r.name}`];
      imports[key] = obj;
    }
    if (!glue.module) throw new ComponentError('jco glue used before it was imported');
    let exp: Record<string, unknown>;
    try {
      exp = glue.module.instantiate((p) => glue.compiled.get(p) ?? fail(p), imports, (m, i) => {
        const inst = new WebAssembly.Instance(m, i);
        instances.push(inst);
        return inst;
      });
    } catch (e) {
      throw new TaskError('instantiate', (e as Error).message ?? String(e), { cause: e });
    }
    self = new JcoInstance(exp, makeHandle, opts.resettable ? InstanceSnapshot.take(instances) : undefined, instances, opts);
    return self;
  }

  private target(ref: ExportRef): Record<string, unknown> {
    if (!ref.iface) return this.exportsObj;
    const short = ref.iface.replace(/@.*$/, '').split('/').pop()!;
    const obj = (this.exportsObj[ref.iface] ?? this.exportsObj[camelCase(short)]) as Record<string, unknown> | undefined;
    if (!obj) throw new ComponentError(`jco glue has no export for ${ref.iface}`);
    return obj;
  }

  call(ref: ExportRef, args: readonly unknown[]): unknown {
    const f = ref.func;
    if (this.disposed) throw new TaskError(f.name, 'instance is disposed');
    const scope = this.target(ref);
    const unwrap = (v: unknown): unknown => ((v as { token?: unknown } | null)?.token instanceof JcoToken ? ((v as { token: JcoToken }).token).object : v);
    const plain = args.map(unwrap);
    // An own<T> argument moves into the guest: the host handle is spent.
    f.params.forEach((p, i) => {
      const token = (args[i] as { token?: unknown } | null)?.token;
      if (p.type.kind === 'own' && token instanceof JcoToken) { token.dropped = true; this.live.delete(token); }
    });
    const run = (): unknown => {
      switch (f.kind) {
        case 'freestanding': return (scope[camelCase(f.name)] as (...a: unknown[]) => unknown)(...plain);
        case 'constructor': {
          const Cls = scope[pascalCase(f.resource!.name)] as new (...a: unknown[]) => Record<string, (...a: unknown[]) => unknown>;
          return this.makeHandle(this, f.resource!, this.token(new Cls(...plain)));
        }
        case 'method': {
          const self = plain[0] as Record<string, (...a: unknown[]) => unknown>;
          return self[camelCase(f.shortName)]!.call(self, ...plain.slice(1));
        }
        case 'static': {
          const Cls = scope[pascalCase(f.resource!.name)] as unknown as Record<string, (...a: unknown[]) => unknown>;
          return Cls[camelCase(f.shortName)]!(...plain);
        }
      }
    };
    this.fatal = undefined;
    try {
      const v = run();
      this.opts.afterCall?.();
      if (f.result?.kind === 'own' && f.kind !== 'constructor') {
        return this.makeHandle(this, f.result.resource, this.token(v as JcoToken['object']));
      }
      return f.result?.kind === 'result' ? { tag: 'ok', val: v } : v;
    } catch (e) {
      // jco throws a `result`'s err payload itself (older versions wrap it in an error with `payload`).
      if (f.result?.kind === 'result' && !(e instanceof Error)) return { tag: 'err', val: e };
      if (f.result?.kind === 'result' && e && typeof e === 'object' && 'payload' in e) return { tag: 'err', val: (e as { payload: unknown }).payload };
      this.opts.afterCall?.();
      this.trapped = true;
      throw this.failure(f.name, e);
    }
  }

  isHandle(r: ResourceDef, v: unknown): boolean {
    const t = (v as { token?: unknown } | null)?.token;
    return t instanceof JcoToken && !t.dropped && t.owner === this;
  }

  drop(token: unknown): void {
    const t = token as JcoToken;
    if (t.dropped) return;
    t.dropped = true;
    this.live.delete(t);
    const dispose = (t.object as unknown as Record<symbol, (() => void) | undefined>)[Symbol.for('dispose')] ?? (t.object as unknown as Record<symbol, (() => void) | undefined>)[(Symbol as unknown as { dispose?: symbol }).dispose ?? Symbol('none')];
    dispose?.call(t.object);
  }

  dispose(): void {
    this.disposed = true;
  }
}
