/** `mod.fn('sum')`: a component export run as a remote task. */
import type { ExportRef } from '../engine/types.js';
import type { LoadedComponent } from '../component/loaded.js';
import { describeFunc } from '../wit/describe.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { checkRemoteArgs } from '../core/remote-args.js';
import { funcUsesRefs, passRefs } from '../core/ref-values.js';
import { checkNumReturns, mergeOptions, normalizeOptions, type NormalizedOptions, type TaskOptions } from '../core/options.js';
import { requireNode } from './current.js';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { ObjectRefGenerator } from './object-ref-generator.js';
import { checkCapabilities, type Each } from '../core/specs.js';
import type { FilePart } from '../files/part.js';
import { handlesIn } from './handle-args.js';
import { isActorHandle } from './actor-handle.js';
import { lifetimesOf } from './actor-lifetime.js';
import type { ParamsOf, RemoteArgs, RemoteResult, UntypedFunction } from './typing.js';

/** A function whose `remote()` streams the values its guest emits (`numReturns: 'streaming'`). */
export interface StreamingFunction<F = UntypedFunction> {
  readonly name: string;
  readonly signature: string;
  remote(...args: RemoteArgs<ParamsOf<F>>): ObjectRefGenerator;
}

/**
 * An exported function run as a task. `F` is its type from a generated
 * `Component` (`load<Component>()`): `.remote()` then checks the arguments
 * and its ref carries the result type; untyped, it takes and gives `unknown`.
 */
export class RemoteFunction<F = UntypedFunction> {
  private readonly opts: NormalizedOptions;
  private readonly fnKey: string;

  /** @internal */
  constructor(private readonly component: LoadedComponent, private readonly ref: ExportRef, private readonly defaults: TaskOptions = {}) {
    this.opts = normalizeOptions(defaults);
    this.fnKey = ref.iface ? `${ref.iface}#${ref.func.name}` : ref.func.name;
    checkNumReturns(ref.func, this.opts.numReturns);
  }

  /** The WIT name of the function. */
  get name(): string {
    return this.ref.func.name;
  }

  /** The WIT signature, e.g. `sum: func(m: list<f64>) -> f64`. */
  get signature(): string {
    return describeFunc(this.ref.func);
  }

  /**
   * A copy of this function with options merged over the current ones. With
   * `numReturns: 'streaming'` its `remote()` returns an `ObjectRefGenerator`.
   */
  options(opts: TaskOptions & { numReturns: 'streaming' }): StreamingFunction<F>;
  options(opts: TaskOptions): RemoteFunction<F>;
  options(opts: TaskOptions): RemoteFunction<F> | StreamingFunction<F> {
    return new RemoteFunction<F>(this.component, this.ref, mergeOptions(this.defaults, opts));
  }

  /**
   * Submits the task and returns at once: one `ObjectRef`, or an array of
   * `numReturns` refs (checked against the WIT result when the options are set). Top-level `ObjectRef` arguments are resolved to their
   * values before the task runs; arguments are checked against the WIT
   * signature here, so a wrong type fails at once.
   */
  remote(...args: RemoteArgs<ParamsOf<F>>): RemoteResult<F>;
  remote(...args: unknown[]): ObjectRef & ObjectRef[] {
    const node = requireNode();
    const f = this.ref.func;
    // Refs at object-ref positions go to the task as refs (held while it runs), not as their values.
    let borrowed: ObjectRef[] | undefined;
    if (funcUsesRefs(f)) ({ args, borrowed } = passRefs(f.name, f.params, args));
    checkRemoteArgs(f, f.params, args);
    checkCapabilities(this.component, `task '${f.name}'`, this.opts.capabilities);
    const passed = handlesIn(f, args, isActorHandle);
    const opts = this.opts;
    let stream: ObjectRefGenerator | undefined;
    if (opts.streaming) stream = new ObjectRefGenerator(node.objects);
    const refs = node.scheduler.submit({ component: this.component, name: f.name, fn: this.fnKey, args, opts, ...(borrowed?.length ? { borrowed } : {}), ...(stream ? { stream } : {}) });
    // Actors whose handles the task was given live at least until it finishes.
    if (passed.length > 0) lifetimesOf(node).holdUntil(passed, refs[0]!);
    if (stream) {
      stream.attach(refs[0]!);
      return stream as unknown as ObjectRef & ObjectRef[];
    }
    return (opts.numReturns === 1 ? refs[0] : refs) as ObjectRef & ObjectRef[];
  }

  /**
   * Submits this function with `next` fused after it in one task: each next
   * function gets the value before it, then its own `args` (tsray.data's
   * fused stages); `how.each`: how it takes its block (`TaskSpec.each`), `how.ran`: told its run time (`TaskSpec.ran`),
   * `how.read`: a file read task, its value read from this part instead of calling this function (`TaskSpec.read`),
   * `how.name`: the name it shows under (in state listings and errors) instead of its function's.
   * Only where the backend runs fused tasks (`fusesChains()`);
   * plain values only: no refs, handles, several returns or streaming.
   * @internal
   */
  remoteChain(how: { each?: Each; ran?: (ms: number) => void; read?: FilePart; name?: string }, next: readonly { fn: RemoteFunction; args: unknown[]; each?: Each }[], ...args: unknown[]): ObjectRef {
    const node = requireNode();
    if (!node.scheduler.fusesChains) throw new RuntimeStateError('this runtime does not run fused tasks');
    const f = this.ref.func;
    const opts = this.opts;
    if (opts.streaming || opts.numReturns !== 1 || funcUsesRefs(f)) throw new InvalidArgumentError(`${f.name}: a fused task has one return and no refs`);
    checkRemoteArgs(f, f.params, args);
    checkCapabilities(this.component, `task '${f.name}'`, opts.capabilities);
    const then = next.map(({ fn, args: more, each: stepEach }) => {
      const g = fn.ref.func;
      if (funcUsesRefs(g) || g.params.length !== 1 + more.length) {
        throw new InvalidArgumentError(`${g.name} cannot follow ${f.name} in a fused task: it must take the value before it and ${more.length} more argument${more.length === 1 ? '' : 's'}, and no refs (signature: ${describeFunc(g)})`);
      }
      checkRemoteArgs(g, g.params.slice(1), more);
      return { component: fn.component, name: g.name, fn: fn.fnKey, args: more, ...(stepEach ? { each: stepEach } : {}) };
    });
    return node.scheduler.submit({ component: this.component, name: how.name ?? f.name, fn: this.fnKey, args, opts, then, ...(how.each ? { each: how.each } : {}), ...(how.ran ? { ran: how.ran } : {}), ...(how.read ? { read: how.read } : {}) })[0]!;
  }
}

/** Whether the backend runs fused tasks (`RemoteFunction.remoteChain`). */
export function fusesChains(): boolean {
  return !!requireNode().scheduler.fusesChains;
}
