/**
 * A loaded component: what it exports (for listings and checks), and the
 * in-process calls that the runtime builds on. Names may be given as WIT
 * spells them (`word-count`) or in camelCase (`wordCount`); an interface
 * function may be qualified (`counters#make`) when its plain name is ambiguous.
 */
import { camelCase, nameMatches } from '../abi/names.js';
import { ComponentError, TaskError } from '../errors.js';
import { validateArgs } from '../engine/validate.js';
import type { HostEnv } from '../engine/host-imports.js';
import { detachedAccelImports } from '../accel/guest-api.js';
import type { EngineInstance, ExportRef } from '../engine/types.js';
import { describeFunc, describeType } from '../wit/describe.js';
import type { ResolvedWorld, ResourceDef, WitType } from '../wit/types.js';
import type { LoadedComponent } from './loaded.js';

export type { EngineName } from './loaded.js';
import type { EngineName } from './loaded.js';

/** A parameter as listed by `functions` / `resources`. */
export interface ParamInfo { name: string; type: string }

/** An exported function, as `ComponentModule.functions` lists it. */
export interface FunctionInfo {
  /** The WIT name (`word-count`), or `[method]counter.incr` style for resource functions. */
  name: string;
  /** The exporting interface, absent for world-level functions. */
  interface?: string;
  params: ParamInfo[];
  /** The WIT result type, absent when the function returns nothing. */
  result?: string;
  /** The whole WIT signature, e.g. `sum: func(m: list<f64>) -> f64`. */
  signature: string;
}

export interface ResourceInfo {
  name: string;
  interface: string;
  /** The constructor, when the resource has one. */
  ctor?: FunctionInfo;
  methods: FunctionInfo[];
  statics: FunctionInfo[];
}

function info(ref: ExportRef): FunctionInfo {
  const f = ref.func;
  const params = (f.kind === 'method' ? f.params.slice(1) : f.params).map((p) => ({ name: p.name, type: describeType(p.type) }));
  const out: FunctionInfo = { name: f.name, params, signature: describeFunc(f) };
  if (ref.iface) out.interface = ref.iface;
  if (f.result && f.kind !== 'constructor') out.result = describeType(f.result);
  return out;
}

/** A resource instance living inside a component instance. Drop it when done. */
export class ResourceHandle {
  /** @internal */
  constructor(readonly resource: string, readonly interfaceName: string, /** @internal */ readonly token: unknown,
    private readonly owner: ComponentInstance, private readonly def: ResourceDef) {}

  /** Calls a method (`incr`, camelCase accepted) on this resource. */
  call(method: string, args: readonly unknown[] = []): unknown {
    return this.owner.callMethod(this, this.def, method, args);
  }

  /** Runs the guest's destructor; the handle is unusable afterwards. */
  drop(): void {
    this.owner.engine.drop(this.token, this.def);
  }

  [Symbol.dispose](): void {
    this.drop();
  }
}

/** One instance of a component, with its own linear memory and state. */
export class ComponentInstance {
  /** @internal */
  constructor(readonly module: ComponentModule, /** @internal */ readonly engine: EngineInstance) {}

  /** Calls an exported function with JavaScript values; returns its result. */
  call(name: string, args: readonly unknown[] = []): unknown {
    return this.invoke(this.module.resolve(name), args);
  }

  /** Creates a resource (`counter`) with its constructor's arguments. */
  construct(resource: string, args: readonly unknown[] = []): ResourceHandle {
    const r = this.module.resolveResource(resource);
    const ctor = r.funcs.find((x) => x.func.kind === 'constructor');
    if (!ctor) throw new ComponentError(`resource ${resource} has no constructor`);
    return this.invoke(ctor, args) as ResourceHandle;
  }

  /** Calls a static function of a resource (`box`, `make`). */
  callStatic(resource: string, name: string, args: readonly unknown[] = []): unknown {
    const r = this.module.resolveResource(resource);
    const f = r.funcs.find((x) => x.func.kind === 'static' && nameMatches(x.func.shortName, name));
    if (!f) throw new ComponentError(`resource ${resource} has no static function '${name}'`);
    return this.invoke(f, args);
  }

  /** @internal */
  callMethod(handle: ResourceHandle, def: ResourceDef, method: string, args: readonly unknown[]): unknown {
    return this.invoke(this.module.resolveMethod(def.name, def.owner, method), [handle, ...args]);
  }

  private readonly isHandle = (t: WitType, v: unknown): boolean =>
    (t.kind === 'own' || t.kind === 'borrow') && v instanceof ResourceHandle && this.engine.isHandle(t.resource, v);

  /** @internal */
  invoke(ref: ExportRef, args: readonly unknown[]): unknown {
    const f = ref.func;
    validateArgs(f.name, () => describeFunc(f), f.params, args, this.isHandle);
    const out = this.engine.call(ref, args);
    if (f.result?.kind === 'result') {
      const r = out as { tag: 'ok' | 'err'; val?: unknown };
      if (r.tag === 'err') {
        const text = typeof r.val === 'string' ? r.val : r.val === undefined ? 'error' : JSON.stringify(r.val, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
        throw new TaskError(f.name, text, { payload: r.val });
      }
      return r.val;
    }
    return out;
  }

  /**
   * Returns the instance to its just-instantiated state, exactly, so it can
   * serve as a fresh sandbox again. False when that is not possible (the
   * engine cannot, the guest trapped, its memory grew, resources are alive);
   * then the instance should be disposed.
   */
  reset(): boolean {
    return this.engine.reset?.() ?? false;
  }

  /** True once a trap has made the instance unusable (the component model forbids re-entry). */
  get broken(): boolean {
    return this.engine.broken ?? false;
  }

  /** Ends the instance; its resources die with it. */
  dispose(): void {
    this.engine.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** An exported resource and its functions (constructor, methods, statics). */
export interface ResourceEntry { def: ResourceDef; funcs: ExportRef[] }

/** Every function `world` exports, with the interface it belongs to. */
function worldExports(world: ResolvedWorld): ExportRef[] {
  const refs: ExportRef[] = [];
  for (const item of world.exports) {
    if (item.kind === 'func') refs.push({ func: item.func });
    else for (const f of item.iface.funcs) refs.push({ iface: item.name, func: f });
  }
  return refs;
}

function resourceEntries(refs: ExportRef[]): ResourceEntry[] {
  const out: ResourceEntry[] = [];
  for (const ref of refs) {
    const r = ref.func.resource;
    if (!r) continue;
    let e = out.find((x) => x.def.name === r.name && x.def.owner === r.owner);
    if (!e) out.push((e = { def: r, funcs: [] }));
    e.funcs.push(ref);
  }
  return out;
}

function pickResource(entries: ResourceEntry[], name: string, owner?: string): ResourceEntry {
  const e = entries.filter((x) => (nameMatches(x.def.name, name) || `${x.def.owner}#${x.def.name}` === name) && (!owner || x.def.owner === owner));
  if (e.length !== 1) {
    throw new ComponentError(e.length ? `resource '${name}' is ambiguous` : `component has no resource '${name}'; it exports: ${entries.map((r) => r.def.name).join(', ') || 'none'}`);
  }
  return e[0]!;
}

/** The exported resource `name` (WIT name, camelCase or `iface#name`) of `world`; `ComponentError` when there is none or several. */
export function exportedResource(world: ResolvedWorld, name: string, owner?: string): ResourceEntry {
  return pickResource(resourceEntries(worldExports(world)), name, owner);
}

export type InstanceFactory = (makeHandle: (engine: EngineInstance, r: ResourceDef, token: unknown) => unknown, env: HostEnv) => Promise<EngineInstance>;

/** A validated, compiled component. Create instances with `instantiate()`, or `call()` each export in a fresh one. */
export class ComponentModule {
  /** Every exported freestanding function. */
  readonly functions: FunctionInfo[];
  /** Every exported resource with its constructor and methods. */
  readonly resources: ResourceInfo[];
  private readonly byName = new Map<string, ExportRef[]>();
  private readonly resourceEntries: ResourceEntry[];

  /** @internal */
  constructor(
    /** sha256 of the component bytes. */
    readonly hash: string,
    readonly world: ResolvedWorld,
    readonly engineName: EngineName,
    private readonly factory: InstanceFactory,
    /** The loaded component behind it (absent for modules made by hand). */
    readonly component?: LoadedComponent,
  ) {
    const refs = worldExports(world);
    this.resourceEntries = resourceEntries(refs);
    for (const ref of refs) {
      const f = ref.func;
      if (f.resource) continue;
      const keys = new Set([f.name, camelCase(f.name)]);
      if (ref.iface) keys.add(`${ref.iface}#${f.name}`);
      for (const k of keys) this.byName.set(k, [...(this.byName.get(k) ?? []), ref]);
    }
    this.functions = refs.filter((r) => !r.func.resource).map(info);
    this.resources = this.resourceEntries.map((e) => {
      const ctor = e.funcs.find((x) => x.func.kind === 'constructor');
      const out: ResourceInfo = {
        name: e.def.name,
        interface: e.def.owner,
        methods: e.funcs.filter((x) => x.func.kind === 'method').map(info),
        statics: e.funcs.filter((x) => x.func.kind === 'static').map(info),
      };
      if (ctor) out.ctor = info(ctor);
      return out;
    });
  }

  /** @internal */
  resolve(name: string): ExportRef {
    const refs = this.byName.get(name);
    if (!refs || refs.length === 0) {
      const r = this.resourceEntries.find((x) => nameMatches(x.def.name, name));
      if (r) throw new ComponentError(`'${name}' is a resource, not a function: create an actor of it with mod.actor('${name}')`);
      throw new ComponentError(`component has no exported function '${name}'; ${this.exportsList()}`);
    }
    if (refs.length > 1) {
      throw new ComponentError(`'${name}' is ambiguous; use one of ${refs.map((r) => `${r.iface}#${r.func.name}`).join(', ')}`);
    }
    return refs[0]!;
  }

  /** @internal The export of method `method` (WIT name or camelCase) of resource `name`. */
  resolveMethod(name: string, owner: string, method: string): ExportRef {
    const r = this.resolveResource(name, owner);
    const m = r.funcs.find((x) => x.func.kind === 'method' && nameMatches(x.func.shortName, method));
    if (!m) throw new ComponentError(`resource ${name} has no method '${method}'; methods: ${r.funcs.filter((x) => x.func.kind === 'method').map((x) => x.func.shortName).join(', ')}`);
    return m;
  }

  /** @internal */
  resolveResource(name: string, owner?: string): ResourceEntry {
    if (!owner && !this.resourceEntries.some((x) => nameMatches(x.def.name, name)) && this.byName.has(name)) {
      throw new ComponentError(`'${name}' is a function, not a resource: run it as a task with mod.fn('${name}')`);
    }
    return pickResource(this.resourceEntries, name, owner);
  }

  /** What the component exports, for messages. */
  private exportsList(): string {
    const fns = this.functions.map((f) => f.name).join(', ');
    const res = this.resources.map((r) => r.name).join(', ');
    return `it exports ${fns ? `functions ${fns}` : 'no functions'}${res ? ` and resources ${res} (actors: mod.actor(name))` : ''}`;
  }

  /** Looks up an export's info by name (WIT or camelCase). */
  function(name: string): FunctionInfo {
    return info(this.resolve(name));
  }

  /** Creates a fresh instance: new linear memory, no state shared with other instances. */
  async instantiate(env: HostEnv = {}): Promise<ComponentInstance> {
    let inst: ComponentInstance | undefined;
    const full = env.extraImports ? env : { ...env, extraImports: detachedAccelImports() };
    const engine = await this.factory((eng, r, token) => new ResourceHandle(r.name, r.owner, token, inst!, r), full);
    inst = new ComponentInstance(this, engine);
    return inst;
  }

  /** Calls one export in a fresh instance (the isolation every task gets), then discards the instance. */
  async call(name: string, args: readonly unknown[] = [], env: HostEnv = {}): Promise<unknown> {
    const ref = this.resolve(name);
    const inst = await this.instantiate(env);
    try {
      return inst.invoke(ref, args);
    } finally {
      inst.dispose();
    }
  }
}
