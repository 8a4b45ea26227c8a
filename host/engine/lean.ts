/**
 * The lean engine: runs a component's core module with `new
 * WebAssembly.Instance` and does the canonical ABI in precompiled codecs,
 * instead of instantiating jco's generated glue. A fresh instance costs
 * about as much as instantiating the core module itself.
 */
import { callShape, fieldOffsets, type CallShape } from '../abi/layout.js';
import {
  coreDtorName, coreExportName, corePostReturnName, resourceIntrinsicModule,
} from '../abi/names.js';
import { ComponentError, OutOfMemoryError, TaskError, TsrayError } from '../errors.js';
// Not core-module.ts: that one loads wasm-tools, which worker threads must not pay for.
import { FRESH_ONLY_SECTION, GLOBAL_EXPORT_PREFIX, VIRTUAL_MEMORY_SIZE_EXPORT } from '../abi/sandbox-names.js';
import { INTERRUPT } from './host-imports.js';
import type { FuncDef, ResolvedWorld, ResourceDef } from '../wit/types.js';
import { codecFor, liftError, type Codec, type CodecContext, type Flat, type MemoryViews } from './codec.js';
import { liftBudget, LIFT_FACTOR, MAX_LIFT_BYTES, MiB, POOLED_MEMORY_BYTES } from './limits.js';
import { runtimeHost, type HostEnv, type HostResourceClass } from './host-imports.js';
import { HostHandles, resourceFunction } from './host-resources.js';
import type { EngineInstance, ExportRef, HandleFactory } from './types.js';

/** Per-function call plan, shared by every instance of a module. */
interface Plan {
  core: string;
  post: string;
  shape: CallShape;
  params: Codec[];
  offsets: number[];
  result?: Codec;
}

const plans = new WeakMap<FuncDef, Plan>();

function planFor(ref: ExportRef): Plan {
  let p = plans.get(ref.func);
  if (!p) {
    const f = ref.func;
    const shape = callShape(f);
    p = {
      core: coreExportName(ref.iface, f),
      post: corePostReturnName(ref.iface, f),
      shape,
      params: f.params.map((x) => codecFor(x.type)),
      offsets: fieldOffsets(f.params.map((x) => x.type)),
      ...(f.result ? { result: codecFor(f.result) } : {}),
    };
    plans.set(ref.func, p);
  }
  return p;
}

/** Names of the guest's wasm frames in a trap's stack (needs the core module's name section). */
function guestFrames(e: unknown): string[] {
  const stack = (e as Error | undefined)?.stack ?? '';
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /^\s*at (.+?) \(wasm:\/\//.exec(line) ?? /^\s*at (wasm:\/\/\S+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

const moduleImports = new WeakMap<WebAssembly.Module, WebAssembly.ModuleImportDescriptor[]>();
const freshOnlyModules = new WeakMap<WebAssembly.Module, boolean>();

/** True for a module marked as one a snapshot cannot restore (see core-module.ts). */
function freshOnly(module: WebAssembly.Module): boolean {
  let v = freshOnlyModules.get(module);
  if (v === undefined) freshOnlyModules.set(module, (v = WebAssembly.Module.customSections(module, FRESH_ONLY_SECTION).length > 0));
  return v;
}

interface HandleEntry { rep: number; r: ResourceDef }

/** A resource handle the guest created, as the lean engine tracks it. */
class LeanToken {
  constructor(readonly handle: number) {}
  dropped = false;
}

export class LeanInstance implements EngineInstance, CodecContext {
  private readonly instance: WebAssembly.Instance;
  private readonly exports: Record<string, unknown>;
  private readonly memory: WebAssembly.Memory;
  private readonly reallocFn: (a: number, b: number, c: number, d: number) => number;
  private views: MemoryViews | undefined;
  private readonly handles = new Map<number, HandleEntry>();
  private nextHandle = 1;
  /** The guest's handles to host objects (tsray:accel's resources). */
  private readonly hostHandles = new HostHandles(() => this.nextHandle++);
  private fatal: string | undefined;
  private trapped: string | undefined;

  private readonly snapshot: { memory: Uint8Array; globals: WebAssembly.Global[]; values: unknown[] } | undefined;
  /** Whether the guest sees a virtual memory size, so a reset may keep memory a task grew. */
  private readonly virtualSize: boolean;

  /**
   * `opts.resettable` takes a snapshot after instantiation so `reset()` can
   * restore it (the module must export its mutable globals, see core-module.ts;
   * a module marked fresh-only gets no snapshot, so every reset is refused).
   * `opts.maxBytes` is the memory cap the module was built with, for messages.
   */
  constructor(module: WebAssembly.Module, world: ResolvedWorld, env: HostEnv, private readonly makeHandle: HandleFactory,
    opts: { resettable?: boolean; maxBytes?: number } = {}) {
    this.maxBytes = opts.maxBytes;
    this.liftBytes = liftBudget(opts.maxBytes);
    const imports = this.buildImports(module, world, env);
    try {
      this.instance = new WebAssembly.Instance(module, imports);
    } catch (e) {
      throw new ComponentError(`instantiation failed: ${(e as Error).message}`, { cause: e });
    }
    this.exports = this.instance.exports as Record<string, unknown>;
    const mem = this.exports.memory;
    const realloc = this.exports.cabi_realloc;
    if (!(mem instanceof WebAssembly.Memory)) throw new ComponentError('core module does not export its memory');
    if (typeof realloc !== 'function') throw new ComponentError('core module does not export cabi_realloc');
    this.memory = mem;
    this.reallocFn = realloc as LeanInstance['reallocFn'];
    this.virtualSize = this.exports[VIRTUAL_MEMORY_SIZE_EXPORT] instanceof WebAssembly.Global;
    if (opts.resettable && !freshOnly(module)) {
      const globals = Object.entries(this.exports).filter(([k]) => k.startsWith(GLOBAL_EXPORT_PREFIX)).map(([, g]) => g as WebAssembly.Global);
      this.snapshot = { memory: new Uint8Array(mem.buffer).slice(), globals, values: globals.map((g) => g.value) };
    }
  }

  private readonly maxBytes: number | undefined;
  /** What one lift may build (limits.ts), and what is left of it in the lift in progress. */
  private readonly liftBytes: number;
  private liftLeft = 0;
  /** The export running now, to name it in errors raised while lifting. */
  private running = 'instantiation';

  get memoryBytes(): number {
    return this.memory.buffer.byteLength + (this.snapshot?.memory.byteLength ?? 0);
  }

  private refresh(): MemoryViews {
    const buffer = this.memory.buffer;
    this.views = { buffer, dv: new DataView(buffer), u8: new Uint8Array(buffer), buf: Buffer.from(buffer) };
    return this.views;
  }

  /** Views are made on first use: many calls pass only scalars and never touch memory from the host. */
  view(): MemoryViews {
    const v = this.views;
    return v && v.buffer === this.memory.buffer ? v : this.refresh();
  }

  realloc(align: number, size: number): number {
    return this.reallocFn(0, 0, align, size) >>> 0;
  }

  lowerHandle(kind: 'own' | 'borrow', r: ResourceDef, v: unknown): number {
    if (this.hostHandles.owns(r)) return this.hostHandles.give(r, v);
    const token = (v as { token?: unknown }).token as LeanToken;
    const entry = this.handles.get(token.handle)!;
    if (kind === 'borrow') return entry.rep; // the callee defines the resource: it sees the rep
    token.dropped = true; // ownership moves into the guest
    return token.handle;
  }

  liftHandle(kind: 'own' | 'borrow', r: ResourceDef, h: number): unknown {
    if (this.hostHandles.owns(r)) return this.hostHandles.take(r, h, kind === 'own');
    if (!this.handles.has(h)) throw liftError(`guest returned unknown ${r.name} handle ${h}`);
    return this.makeHandle(this, r, new LeanToken(h));
  }

  charge(bytes: number): void {
    this.liftLeft -= bytes;
    if (this.liftLeft >= 0) return;
    const name = this.running;
    const rule = this.maxBytes === undefined ? `${MAX_LIFT_BYTES / MiB} MiB without maxMemoryMb` : `${LIFT_FACTOR} x maxMemoryMb, at most ${MAX_LIFT_BYTES / MiB} MiB`;
    throw new OutOfMemoryError(name, `task '${name}' handed the host more than its budget of ${(this.liftBytes / MiB).toFixed(1)} MiB in one result or host call (${rule}); return less data, or raise maxMemoryMb`);
  }

  /**
   * Lifts values from guest memory within the lift budget. A value the
   * canonical ABI traps on, or one over the budget, poisons the instance as a
   * trap does and fails the call with `TaskError` / `OutOfMemoryError`.
   */
  private lift<T>(what: string | undefined, f: () => T): T {
    this.liftLeft = this.liftBytes;
    try {
      return f();
    } catch (e) {
      const err = e instanceof OutOfMemoryError ? e
        : new TaskError(this.running, `${what ? `${what}: ` : ''}${e instanceof TaskError ? e.guestMessage : `invalid value from the guest (${(e as Error).message})`}`, { cause: e });
      this.trapped ??= err.message;
      throw err;
    }
  }

  /** Traps unless `size` bytes at `ptr` lie inside guest memory. */
  private inMemory(ptr: number, size: number, what: string): number {
    const have = this.memory.buffer.byteLength;
    if (ptr + size > have) throw liftError(`${what} at ${ptr} is outside guest memory (${have} bytes)`);
    return ptr;
  }

  isHandle(r: ResourceDef, v: unknown): boolean {
    const token = (v as { token?: unknown } | null)?.token;
    if (!(token instanceof LeanToken) || token.dropped) return false;
    const e = this.handles.get(token.handle);
    return !!e && e.r.name === r.name && e.r.owner === r.owner;
  }

  drop(token: unknown, r: ResourceDef): void {
    const t = token as LeanToken;
    if (t.dropped) return;
    t.dropped = true;
    const e = this.handles.get(t.handle);
    if (!e || this.trapped) return;
    this.handles.delete(t.handle);
    const dtor = this.exports[coreDtorName(r.owner, r.name)];
    if (typeof dtor === 'function') this.guard(`${r.name}.drop`, () => dtor(e.rep));
  }

  dispose(): void {
    this.trapped ??= 'instance was disposed';
    this.hostHandles.clear();
  }

  /** True once a trap (or dispose) has made the instance unusable. */
  get broken(): boolean {
    return this.trapped !== undefined;
  }

  call(ref: ExportRef, args: readonly unknown[]): unknown {
    const name = ref.func.name;
    if (this.trapped) throw new TaskError(name, `instance is unusable: ${this.trapped}`);
    const plan = planFor(ref);
    const fn = this.exports[plan.core] as ((...a: Flat[]) => Flat) | undefined;
    if (typeof fn !== 'function') throw new ComponentError(`component does not export ${plan.core}`);
    let flat: Flat[];
    if (plan.shape.flatParams) {
      flat = [];
      for (let i = 0; i < plan.params.length; i++) plan.params[i]!.lower(this, args[i], flat);
    } else {
      const tuple = codecFor(plan.shape.paramTuple);
      const ptr = this.realloc(tuple.align, tuple.size);
      plan.params.forEach((c, i) => c.store(this, args[i], ptr + plan.offsets[i]!));
      flat = [ptr];
    }
    this.fatal = undefined;
    this.running = name;
    const ret = this.guard(name, () => fn(...flat));
    let result: unknown;
    const rc = plan.result;
    if (rc) {
      result = this.lift(undefined, () => (plan.shape.flatResult === null
        ? rc.load(this, this.inMemory((ret as number) >>> 0, rc.size, 'the result'))
        : rc.lift(this, [ret], 0)));
    }
    const post = this.exports[plan.post];
    if (typeof post === 'function') this.guard(name, () => (plan.result ? post(ret) : post()));
    return result;
  }

  /** Runs guest code; a trap poisons the instance (the component model forbids re-entry after one). */
  private guard<T>(name: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof TaskError && e.functionName !== '<lift>') throw e;
      if (e instanceof TsrayError && !(e instanceof TaskError)) { this.trapped = e.message; throw e; }
      // An interrupt (a cancel) unwinds from a host call, where the guest's state is consistent: no poisoning.
      if ((e as { [INTERRUPT]?: boolean } | null)?.[INTERRUPT]) throw new TaskError(name, (e as Error).message, { cause: e });
      const message = this.fatal ?? (e as Error).message ?? String(e);
      this.trapped = message;
      const frames = guestFrames(e);
      // The allocator traps when memory.grow fails: that is running out of memory, not a bug.
      if (frames[0]?.startsWith('~lib/rt/tlsf/')) {
        const cap = this.maxBytes === undefined ? 'wasm32 allows' : `its cap of ${this.maxBytes / 2 ** 20} MiB allows`;
        throw new OutOfMemoryError(name, `task '${name}' needed more linear memory than ${cap} (it had ${(this.memory.buffer.byteLength / 2 ** 20).toFixed(1)} MiB); raise maxMemoryMb`, { cause: e });
      }
      throw new TaskError(name, message, { cause: e, guestStack: frames.join('\n') });
    }
  }

  /**
   * Returns the instance to the state it had right after instantiation, so the
   * next task sees a fresh sandbox without paying for a new instance. Refused
   * (false) when that cannot be exact: after a trap, while resource handles
   * are alive, or after the memory grew (unless the guest sees a virtual size,
   * and then only up to `POOLED_MEMORY_BYTES`, so an idle pool holds little).
   */
  reset(): boolean {
    const snap = this.snapshot;
    if (!snap || this.trapped || this.handles.size > 0 || this.hostHandles.size > 0) return false;
    const have = this.memory.buffer.byteLength;
    const kept = snap.memory.byteLength;
    if (have !== kept && (!this.virtualSize || have > POOLED_MEMORY_BYTES)) return false;
    const { u8 } = this.view();
    u8.set(snap.memory);
    // Memory past the snapshot is what earlier tasks grew: the next sees zeros there, as it would in fresh pages.
    if (have > kept) u8.fill(0, kept);
    for (let i = 0; i < snap.globals.length; i++) snap.globals[i]!.value = snap.values[i];
    this.nextHandle = 1;
    this.fatal = undefined;
    return true;
  }

  private buildImports(module: WebAssembly.Module, world: ResolvedWorld, env: HostEnv): WebAssembly.Imports {
    const available = new Map<string, Map<string, (...a: Flat[]) => Flat | void>>();
    const add = (mod: string, name: string, fn: (...a: Flat[]) => Flat | void): void => {
      let m = available.get(mod);
      if (!m) available.set(mod, (m = new Map()));
      m.set(name, fn);
    };
    const host = runtimeHost(env, (msg) => { this.fatal = msg; });
    for (const item of world.imports) {
      if (item.kind !== 'interface') continue;
      const impls = host[item.name.split('@')[0]!] ?? {};
      for (const f of item.iface.funcs) {
        const impl = f.resource ? resourceFunction(f, impls[`[resource]${f.resource.name}`] as HostResourceClass | undefined) : impls[f.name];
        if (impl) add(item.name, f.name, this.importFn(f, impl as (...args: never[]) => unknown));
      }
      for (const r of item.iface.resources) {
        this.hostHandles.define(r);
        add(item.name, `[resource-drop]${r.name}`, (h) => this.hostHandles.drop(r, h as number));
      }
    }
    for (const item of world.exports) {
      if (item.kind !== 'interface') continue;
      for (const r of item.iface.resources) {
        const mod = resourceIntrinsicModule(item.name);
        add(mod, `[resource-new]${r.name}`, (rep) => {
          const h = this.nextHandle++;
          this.handles.set(h, { rep: rep as number, r });
          return h;
        });
        add(mod, `[resource-rep]${r.name}`, (h) => {
          const e = this.handles.get(h as number);
          if (!e) throw new TaskError(`[resource-rep]${r.name}`, `unknown handle ${h}`);
          return e.rep;
        });
        add(mod, `[resource-drop]${r.name}`, (h) => {
          const e = this.handles.get(h as number);
          if (!e) throw new TaskError(`[resource-drop]${r.name}`, `unknown handle ${h}`);
          this.handles.delete(h as number);
          const dtor = this.exports[coreDtorName(item.name, r.name)];
          if (typeof dtor === 'function') dtor(e.rep);
        });
      }
    }
    const imports: Record<string, Record<string, unknown>> = {};
    let wanted = moduleImports.get(module);
    if (!wanted) moduleImports.set(module, (wanted = WebAssembly.Module.imports(module)));
    for (const imp of wanted) {
      const fn = available.get(imp.module)?.get(imp.name);
      if (!fn || imp.kind !== 'function') {
        throw new ComponentError(`core module imports ${imp.module}#${imp.name}, which the host does not provide`);
      }
      (imports[imp.module] ??= {})[imp.name] = fn;
    }
    return imports as WebAssembly.Imports;
  }

  /** Adapts a host function taking JavaScript values to its core signature. */
  private importFn(f: FuncDef, impl: (...args: never[]) => unknown): (...a: Flat[]) => Flat | void {
    const shape = callShape(f);
    const params = f.params.map((p) => codecFor(p.type));
    const offsets = fieldOffsets(f.params.map((p) => p.type));
    const result = f.result ? codecFor(f.result) : undefined;
    const paramsSize = shape.flatParams ? 0 : codecFor(shape.paramTuple).size;
    return (...flat: Flat[]) => {
      const args = this.lift(f.name, () => {
        const out: unknown[] = [];
        if (shape.flatParams) {
          let at = 0;
          for (const c of params) { out.push(c.lift(this, flat, at)); at += c.flat.length; }
        } else {
          const ptr = this.inMemory((flat[0] as number) >>> 0, paramsSize, 'the arguments');
          params.forEach((c, i) => out.push(c.load(this, ptr + offsets[i]!)));
        }
        return out;
      });
      const value = (impl as (...a: unknown[]) => unknown)(...args);
      if (!result) return undefined;
      if (shape.flatResult === null) {
        const at = this.lift(f.name, () => this.inMemory((flat[flat.length - 1] as number) >>> 0, result.size, 'the result area'));
        result.store(this, value, at);
        return undefined;
      }
      const out: Flat[] = [];
      result.lower(this, value, out);
      return out[0];
    };
  }
}
