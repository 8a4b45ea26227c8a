/**
 * Actors as the driver sees them: `mod.actor('counter')` is an `ActorClass`;
 * `.remote(...)` creates an actor and returns its `ActorHandle`, whose methods
 * are properties: `handle.incr.remote(1n)`.
 */
import { ComponentError, InvalidArgumentError } from '../errors.js';
import type { LoadedComponent } from '../component/load.js';
import { camelCase } from '../abi/names.js';
import { describeType } from '../wit/describe.js';
import type { FuncDef, ResourceDef } from '../wit/types.js';
import type { ActorSpec } from './manager.js';
import type { ObjectRef } from '../objects/object-ref.js';
import { mergeOptions, normalizeActorOptions, type ActorOptions } from '../scheduler/options.js';
import { requireNode } from '../runtime/current.js';
import { checkRemoteArgs } from '../runtime/remote-args.js';

/** One method of one actor. */
export class ActorMethod {
  /** @internal */
  constructor(private readonly actorId: string, readonly func: FuncDef, private readonly numReturns = 1) {}

  /** Options for this call: `numReturns` (the WIT result must then be a tuple of that size). */
  options(opts: { numReturns?: number }): ActorMethod {
    const n = opts.numReturns ?? 1;
    const r = this.func.result;
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`numReturns must be a whole number >= 1, got ${n}`);
    if (n > 1 && (!r || r.kind !== 'tuple' || r.types.length !== n)) {
      throw new InvalidArgumentError(`${this.func.name}: numReturns is ${n}, but its result is ${r ? describeType(r) : 'nothing'}; it must be a tuple of ${n}`);
    }
    return new ActorMethod(this.actorId, this.func, n);
  }

  /** Queues the call on the actor; returns its ObjectRef (or `numReturns` refs) at once. */
  remote(...args: unknown[]): ObjectRef & ObjectRef[] {
    const node = requireNode();
    checkRemoteArgs(this.func, this.func.params.slice(1), args);
    const refs = node.actors.call(this.actorId, this.func, args, this.numReturns);
    return (this.numReturns === 1 ? refs[0] : refs) as ObjectRef & ObjectRef[];
  }
}

/**
 * A handle to an actor. Pass it to a task or another actor for a WIT parameter
 * of type `actor-handle` (from `tsray:runtime/actors`): it travels as `{ id }`.
 */
export class ActorHandle {
  /** @internal */
  constructor(/** The actor's unique id. */ readonly id: string) {}

  /** A method by WIT name or camelCase: the same as the `handle.<method>` property. */
  method(name: string): ActorMethod {
    const spec = requireNode().actors.spec(this.id);
    const f = spec?.methods.find((m) => m.shortName === name || camelCase(m.shortName) === name);
    if (!f) throw new ComponentError(`actor has no method '${name}'${spec ? `; methods: ${spec.methods.map((m) => m.shortName).join(', ')}` : ''}`);
    return new ActorMethod(this.id, f);
  }

  toString(): string {
    return `ActorHandle(${this.id})`;
  }
}

/** Handle classes with one getter per method, made once per resource. */
const handleClasses = new WeakMap<FuncDef[], new (id: string) => ActorHandle>();

/** A handle whose methods are properties (`handle.incr`); only `id` is its own, so it clones as `{ id }`. */
export function handleFor(id: string, methods: FuncDef[]): ActorHandle {
  let Cls = handleClasses.get(methods);
  if (!Cls) {
    Cls = class extends ActorHandle {};
    for (const m of methods) {
      for (const key of new Set([m.shortName, camelCase(m.shortName)])) {
        if (key in ActorHandle.prototype) continue;
        Object.defineProperty(Cls.prototype, key, { get(this: ActorHandle) { return new ActorMethod(this.id, m); } });
      }
    }
    handleClasses.set(methods, Cls);
  }
  return new Cls(id);
}

/** A WIT resource used as an actor class. */
export class ActorClass {
  private readonly methods: FuncDef[];
  private readonly ctor: FuncDef;

  /** @internal */
  constructor(private readonly component: LoadedComponent, private readonly resource: ResourceDef, funcs: FuncDef[], private readonly opts: ActorOptions = {}) {
    const ctor = funcs.find((f) => f.kind === 'constructor');
    if (!ctor) throw new ComponentError(`resource ${resource.name} has no constructor, so it cannot be an actor`);
    this.ctor = ctor;
    this.methods = funcs.filter((f) => f.kind === 'method');
    normalizeActorOptions(opts);
  }

  /** A copy with options merged over the current ones. */
  options(opts: ActorOptions): ActorClass {
    return new ActorClass(this.component, this.resource, [this.ctor, ...this.methods], mergeOptions(this.opts, opts));
  }

  /** Creates the actor with its constructor's arguments; returns its handle at once. */
  remote(...args: unknown[]): ActorHandle & Record<string, ActorMethod> {
    const node = requireNode();
    checkRemoteArgs(this.ctor, this.ctor.params, args);
    const id = node.actors.create(this.spec(args));
    return handleFor(id, this.methods) as ActorHandle & Record<string, ActorMethod>;
  }

  /** @internal What a runtime creates the actor from. */
  spec(args: unknown[]): ActorSpec {
    const o = normalizeActorOptions(this.opts);
    return {
      component: this.component, resource: this.resource, ctor: this.ctor, methods: this.methods, args,
      request: o.request, maxRestarts: o.maxRestarts, maxTaskRetries: o.maxTaskRetries, options: { ...this.opts },
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      ...(o.maxMemoryMb === undefined ? {} : { maxMemoryMb: o.maxMemoryMb }),
      ...(o.strategy ? { strategy: o.strategy } : {}),
    };
  }
}
