/**
 * `tsray.load()`: a component as the runtime API sees it, a `ComponentModule`
 * whose exports also run as remote functions (`mod.fn`) and whose resources
 * are actor classes (`mod.actor`).
 */
import { ComponentError } from '../errors.js';
import { ComponentModule } from '../component/module.js';
import { loadAs, type LoadOptions } from '../component/load.js';
import type { ActorOptions } from '../core/options.js';
import { RemoteFunction } from './remote-function.js';
import { ActorClass } from './actor-handle.js';
import type { ActorName, ActorOf, FunctionName, FunctionOf, UntypedComponent } from './typing.js';

/**
 * A loaded component whose functions run as tasks and whose resources run as
 * actors. `C` is its generated `Component` interface (`tsray types`), which
 * types `fn`, `actor` and everything they return; untyped by default.
 */
export class RemoteModule<C = UntypedComponent> extends ComponentModule {
  /**
   * The export `name` as a remote function: `mod.fn('sum').remote(arr)` runs
   * it as a task on the runtime started by `tsray.init()`.
   */
  fn<K extends FunctionName<C>>(name: K): RemoteFunction<FunctionOf<C, K>>;
  fn(name: string): RemoteFunction {
    if (!this.component) throw new ComponentError('this module was not loaded from component bytes');
    return new RemoteFunction(this.component, this.resolve(name));
  }

  /**
   * The exported resource `name` as an actor class: `mod.actor('counter').remote(10n)`
   * creates an actor on the runtime started by `tsray.init()`.
   */
  actor<K extends ActorName<C>>(name: K, opts?: ActorOptions): ActorClass<ActorOf<C, K>>;
  actor(name: string, opts: ActorOptions = {}): ActorClass {
    if (!this.component) throw new ComponentError('this module was not loaded from component bytes');
    const r = this.resolveResource(name);
    return new ActorClass(this.component, r.def, r.funcs.map((x) => x.func), opts);
  }
}

/**
 * Loads, validates and compiles a component. Throws `ComponentError` with the
 * reason. With the `Component` interface that `tsray build` / `tsray types`
 * generate, `load<Component>(path)` gives a typed module.
 */
export function load<C = UntypedComponent>(src: string | Uint8Array | ArrayBuffer, opts: LoadOptions = {}): Promise<RemoteModule<C>> {
  return loadAs(RemoteModule, src, opts) as Promise<RemoteModule<C>>;
}
