/**
 * Types of a component's exports, for typed drivers. `tsray build -o x.wasm`
 * and `tsray types x.wasm` write `x.d.ts` with a `Component` interface of
 * this shape; `tsray.load<Component>('x.wasm')` then types `mod.fn(name)`,
 * `mod.actor(name)`, their `.remote()` arguments and the refs they return.
 * Without a type argument everything is `unknown`, as in untyped code.
 *
 * Value types are what `get` returns (s64 -> bigint, list<f64> ->
 * Float64Array, ...); `Input<T>` widens them to what `.remote()` accepts.
 */
import type { ObjectRef } from '../../store/object-ref.js';

/** A WIT function as a JavaScript function type: parameters and result as values. */
export type AnyFunction = (...args: any[]) => unknown;

/** An exported resource used as an actor class: its constructor and its methods. */
export interface ActorTypes {
  /** The constructor's parameters (its result is the actor). */
  create: AnyFunction;
  /** Methods by WIT name and camelCase. */
  methods: object;
}

/** What a generated `Component` interface holds. */
export interface ComponentTypes {
  /** Exported functions by WIT name, camelCase and `iface#name`. */
  functions: object;
  /** Exported resources with a constructor, by WIT name and camelCase. */
  actors: object;
}

/** A function of an untyped component: any arguments, an unknown result. */
export type UntypedFunction = (...args: unknown[]) => unknown;

/** An actor class of an untyped component. */
export interface UntypedActor {
  create: UntypedFunction;
  methods: Record<string, UntypedFunction>;
}

/** An untyped component: the default, as `load(path)` without a type argument. */
export interface UntypedComponent {
  functions: Record<string, UntypedFunction>;
  actors: Record<string, UntypedActor>;
}

/** What an actor handle structurally is (values of `actor-handle` parameters pass as they are). */
interface HandleLike { readonly id: string; readonly released: boolean; release(): void }

type TypedArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/**
 * The values `.remote()` accepts for a value of type `T` (the run-time check
 * in host/engine/validate.ts): a bigint also as a safe integer number, a
 * typed array also as a plain array (of bigints for 64-bit lists), an option
 * also as `null`, lists as read-only arrays.
 */
export type Input<T> =
  T extends bigint ? bigint | number
  : T extends undefined ? undefined | null
  : T extends HandleLike ? T
  // Plain arrays for 64-bit lists hold bigints only: the engine copies them with BigInt64Array.from.
  : T extends BigInt64Array ? BigInt64Array | readonly bigint[]
  : T extends BigUint64Array ? BigUint64Array | readonly bigint[]
  : T extends Int8Array ? Int8Array | readonly number[]
  : T extends Uint8Array ? Uint8Array | readonly number[]
  : T extends Int16Array ? Int16Array | readonly number[]
  : T extends Uint16Array ? Uint16Array | readonly number[]
  : T extends Int32Array ? Int32Array | readonly number[]
  : T extends Uint32Array ? Uint32Array | readonly number[]
  : T extends Float32Array ? Float32Array | readonly number[]
  : T extends Float64Array ? Float64Array | readonly number[]
  : T extends TypedArray ? T
  : T extends readonly unknown[] ? { readonly [K in keyof T]: Input<T[K]> }
  : T extends object ? { [K in keyof T]: Input<T[K]> }
  : T;

/** The parameter types of `F`. */
export type ParamsOf<F> = F extends (...args: infer P) => unknown ? P : unknown[];

/** The result type of `F` (`void` for a function without one). */
export type ResultOf<F> = F extends (...args: never[]) => infer R ? R : unknown;

/**
 * `.remote()` arguments for parameters `P`: each a value (`Input`) or a
 * top-level `ObjectRef` of one, which the runtime resolves before the task runs.
 */
export type RemoteArgs<P> = P extends readonly unknown[] ? { [K in keyof P]: Input<P[K]> | ObjectRef<Input<P[K]>> } : unknown[];

/** What `.remote()` returns: the result's ref (and, with `numReturns`, an array of refs). */
export type RemoteResult<F> = ObjectRef<ResultOf<F>> & ObjectRef[];

/** Function names of component types `C`. */
export type FunctionName<C> = C extends { functions: infer F } ? keyof F & string : string;

/** The function type `K` of component types `C`. */
export type FunctionOf<C, K> = C extends { functions: infer F } ? K extends keyof F ? F[K] : never : UntypedFunction;

/** Actor class names of component types `C`. */
export type ActorName<C> = C extends { actors: infer A } ? keyof A & string : string;

/** The actor types `K` of component types `C`. */
export type ActorOf<C, K> = C extends { actors: infer A } ? K extends keyof A ? A[K] : never : UntypedActor;

/** Method names of actor types `A`. */
export type MethodName<A> = A extends { methods: infer M } ? keyof M & string : string;

/** The method type `K` of actor types `A`. */
export type MethodOf<A, K> = A extends { methods: infer M } ? K extends keyof M ? M[K] : never : UntypedFunction;

/** The constructor parameters of actor types `A`. */
export type CreateParams<A> = A extends { create: infer F } ? ParamsOf<F> : unknown[];
