/**
 * Actors as the driver sees them: `mod.actor('counter')` is an `ActorClass`;
 * `.remote(...)` creates an actor and returns its `ActorHandle`, whose methods
 * are properties: `handle.incr.remote(1n)`.
 */
import { ComponentError, InvalidArgumentError } from '../errors.js';
import type { LoadedComponent } from '../component/loaded.js';
import { camelCase } from '../abi/names.js';
import type { FuncDef, ResourceDef } from '../wit/types.js';
import { actorSpec, findMethod } from '../core/specs.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { checkNumReturns, mergeOptions, type ActorOptions } from '../core/options.js';
import { requireNode } from './current.js';
import { checkRemoteArgs } from '../core/remote-args.js';
import { lifetimesOf, type ActorLifetimes } from './actor-lifetime.js';
import { handlesIn } from './handle-args.js';
import type { CreateParams, MethodName, MethodOf, ParamsOf, RemoteArgs, RemoteResult, UntypedActor, UntypedFunction } from './typing.js';

/** One method of one actor; `F` is its type from a generated `Component` (untyped: `unknown`). */
export class ActorMethod<F = UntypedFunction> {
  /** @internal The method keeps its handle, so the actor lives while the method object does. */
  constructor(private readonly handle: ActorHandle, readonly func: FuncDef, private readonly numReturns = 1) {}

  /** Options for this call: `numReturns` (the WIT result must then be a tuple of that size). */
  options(opts: { numReturns?: number }): ActorMethod<F> {
    const n = opts.numReturns ?? 1;
    checkNumReturns(this.func, n);
    return new ActorMethod<F>(this.handle, this.func, n);
  }

  /** Queues the call on the actor; returns its ObjectRef (or `numReturns` refs) at once. */
  remote(...args: RemoteArgs<ParamsOf<F>>): RemoteResult<F>;
  remote(...args: unknown[]): ObjectRef & ObjectRef[] {
    const node = requireNode();
    const id = this.handle.usableId();
    checkRemoteArgs(this.func, this.func.params.slice(1), args);
    const passed = handlesIn(this.func, args, isActorHandle);
    const refs = node.actors.call(id, this.func, args, this.numReturns);
    // Handles passed to the call live at least until it finishes (the actor itself counts its open calls).
    if (passed.length > 0) lifetimesOf(node).holdUntil(passed, refs[0]!);
    return (this.numReturns === 1 ? refs[0] : refs) as ObjectRef & ObjectRef[];
  }
}

/**
 * A handle to an actor. Pass it to a task or another actor for a WIT parameter
 * of type `actor-handle` (from `tsray:runtime/actors`): it travels as `{ id }`.
 * A typed driver's handles are `ActorHandleOf<A>`, which adds the methods.
 */
export class ActorHandle {
  // Private fields do not travel: a handle passed to a task still clones as `{ id }`.
  #lifetimes: ActorLifetimes | undefined;
  #released = false;

  /** @internal */
  constructor(/** The actor's unique id. */ readonly id: string) {}

  /** @internal Counts this handle in `lifetimes` until it is released or collected. */
  adoptInto(lifetimes: ActorLifetimes): void {
    this.#lifetimes = lifetimes;
    lifetimes.adopt(this, this.id);
  }

  /** Whether `release()` was called on this handle. */
  get released(): boolean {
    return this.#released;
  }

  /** @internal The id, for a call through this handle; refused once it was released. */
  usableId(): string {
    if (this.#released) throw new InvalidArgumentError(`${this} was released; get another handle (getActor for a named actor) to call it`);
    return this.id;
  }

  /**
   * Gives up this handle. An actor ends, and its resources return, once no
   * handle to it is left: none in the driver (released, or collected by the
   * garbage collector), no call on it unfinished, no running task or call it
   * was passed to, no live actor constructed with it. Named actors and
   * `lifetime: 'detached'` ones live until killed. Releasing twice does nothing;
   * the handle cannot be used after.
   */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#lifetimes?.release(this, this.id);
  }

  /** `using h = Actor.remote()` releases the handle at the end of the block. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** A method by WIT name or camelCase: the same as the `handle.<method>` property. */
  method(name: string): ActorMethod {
    const spec = requireNode().actors.spec(this.id);
    const f = spec && findMethod(spec.methods, name);
    if (!f) throw new ComponentError(`actor has no method '${name}'${spec ? `; methods: ${spec.methods.map((m) => m.shortName).join(', ')}` : ''}`);
    return new ActorMethod(this, f);
  }

  toString(): string {
    return `ActorHandle(${this.id})`;
  }
}

/** Whether `x` is a driver's `ActorHandle` (for `handlesIn`). */
export function isActorHandle(x: object): x is ActorHandle {
  return x instanceof ActorHandle;
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
        Object.defineProperty(Cls.prototype, key, { get(this: ActorHandle) { return new ActorMethod(this, m); } });
      }
    }
    handleClasses.set(methods, Cls);
  }
  return new Cls(id);
}

/**
 * A handle whose methods are properties, typed by actor types `A`:
 * `handle.incr.remote(1n)`. Methods named like a member of `ActorHandle`
 * (`release`, `method`, ...) are reached with `handle.method(name)`, which
 * is typed for the actor's own method names first.
 */
export type ActorHandleOf<A = UntypedActor> =
  { method<K extends MethodName<A>>(name: K): ActorMethod<MethodOf<A, K>> }
  & ActorHandle
  & { [M in Exclude<MethodName<A>, keyof ActorHandle>]: ActorMethod<MethodOf<A, M>> };

/** A WIT resource used as an actor class; `A` is its type from a generated `Component`. */
export class ActorClass<A = UntypedActor> {
  private readonly methods: FuncDef[];

  /** @internal */
  constructor(private readonly component: LoadedComponent, private readonly resource: ResourceDef, private readonly funcs: FuncDef[], private readonly opts: ActorOptions = {}) {
    // Checks the constructor and the options now, so a bad class fails where it is made.
    this.methods = actorSpec(component, resource, funcs, opts, []).methods;
  }

  /** The resource's WIT name (`counter`). */
  get name(): string {
    return this.resource.name;
  }

  /** A copy with options merged over the current ones. */
  options(opts: ActorOptions): ActorClass<A> {
    return new ActorClass<A>(this.component, this.resource, this.funcs, mergeOptions(this.opts, opts));
  }

  /** Creates the actor with its constructor's arguments; returns its handle at once. */
  remote(...args: RemoteArgs<CreateParams<A>>): ActorHandleOf<A>;
  remote(...args: unknown[]): ActorHandleOf {
    const node = requireNode();
    const spec = actorSpec(this.component, this.resource, this.funcs, this.opts, args);
    checkRemoteArgs(spec.ctor, spec.ctor.params, args);
    const passed = handlesIn(spec.ctor, args, isActorHandle);
    const id = node.actors.create(spec);
    const lifetimes = lifetimesOf(node);
    if (spec.name === undefined && !spec.detached) lifetimes.track(id);
    lifetimes.holdFor(id, passed);
    const handle = handleFor(id, this.methods);
    handle.adoptInto(lifetimes);
    return handle as ActorHandleOf;
  }
}
