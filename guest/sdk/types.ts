// Value types that WIT has and AssemblyScript lacks.

/** The empty payload of `result<_, E>` / `result<T>` sides. */
export class Unit {}

/** WIT `option<T>` for a value type T (a reference type uses `T | null` instead). */
export class Option<T> {
  constructor(public isSome: bool, public value: T) {}
  static some<T>(value: T): Option<T> { return new Option<T>(true, value); }
  static none<T>(): Option<T> { return new Option<T>(false, zero<T>()); }
}

/** WIT `result<T, E>`. Build one with `ok<T, E>(v)` or `err<T, E>(e)`. */
export class Result<T, E> {
  constructor(public isOk: bool, public value: T, public error: E) {}
}

export function ok<T, E>(value: T): Result<T, E> { return new Result<T, E>(true, value, zero<E>()); }
export function err<T, E>(error: E): Result<T, E> { return new Result<T, E>(false, zero<T>(), error); }

/** A zero of any type: null for references. Used for the unset side of Option/Result. */
// @ts-ignore: decorator
@inline export function zero<T>(): T {
  if (isReference<T>()) return changetype<T>(0);
  // @ts-ignore: a numeric zero converts to every value type
  return <T>0;
}

export class Tuple2<A, B> { constructor(public t0: A, public t1: B) {} }
export class Tuple3<A, B, C> { constructor(public t0: A, public t1: B, public t2: C) {} }
export class Tuple4<A, B, C, D> { constructor(public t0: A, public t1: B, public t2: C, public t3: D) {} }
export class Tuple5<A, B, C, D, E> { constructor(public t0: A, public t1: B, public t2: C, public t3: D, public t4: E) {} }
export class Tuple6<A, B, C, D, E, F> { constructor(public t0: A, public t1: B, public t2: C, public t3: D, public t4: E, public t5: F) {} }
