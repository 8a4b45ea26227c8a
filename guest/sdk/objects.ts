// Objects and nested tasks from a guest (tsray:runtime/objects and /tasks):
// `put`, `get`, `wait`, `cancel` and `remote`, with values as CBOR.
import { CborReader, CborWriter } from "./cbor";
import { RETURN_AREA } from "./memory";
import { ObjectRef } from "./object-ref";

export { ObjectRef };

// @ts-ignore: decorator
@external("tsray:runtime/objects", "put")
declare function hostPut(ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/objects", "get")
declare function hostGet(idPtr: usize, idLen: usize, hasTimeout: i32, timeout: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/objects", "wait")
declare function hostWait(refsPtr: usize, refsLen: usize, numReturns: u32, hasTimeout: i32, timeout: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/objects", "cancel")
declare function hostCancel(idPtr: usize, idLen: usize, force: i32, recursive: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/tasks", "emit")
declare function hostEmit(ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/tasks", "submit")
declare function hostSubmit(fnPtr: usize, fnLen: usize, argsPtr: usize, argsLen: usize, optsPtr: usize, optsLen: usize, ret: usize): void;

/** Why a host call failed: a stable code such as `ERR_NOT_GIVEN` and a message. */
export class Failure {
  constructor(public code: string, public message: string) {}

  toString(): string {
    return this.code + ": " + this.message;
  }
}

/** A call's outcome: `failure` is null when it succeeded. */
export class Outcome<T> {
  constructor(public value: T, public failure: Failure | null) {}

  /** The value, or a trap that carries the failure (a child's error propagates). */
  unwrap(): T {
    const f = this.failure;
    if (f !== null) throw new Error(f.toString());
    return this.value;
  }
}

function str(at: usize): string {
  return String.UTF8.decodeUnsafe(load<usize>(at), load<u32>(at, 4));
}

/** The failure in the return area, if its tag says `err`. */
function failed(): Failure | null {
  if (load<u8>(RETURN_AREA) == 0) return null;
  return new Failure(str(RETURN_AREA + 4), str(RETURN_AREA + 12));
}

function bytesAt(at: usize): Uint8Array {
  const len = load<u32>(at, 4);
  return len == 0 ? new Uint8Array(0) : Uint8Array.wrap(changetype<ArrayBuffer>(load<usize>(at)), 0, len);
}

function refsAt(at: usize): ObjectRef[] {
  const ptr = load<usize>(at);
  const n = load<u32>(at, 4);
  const out = new Array<ObjectRef>(n);
  for (let i: u32 = 0; i < n; i++) out[i] = ObjectRef.of(str(ptr + <usize>i * 8));
  return out;
}

/** Stores the CBOR value `value` and returns its ref. */
export function tryPut(value: CborWriter): Outcome<ObjectRef> {
  const b = value.bytes();
  hostPut(b.dataStart, b.byteLength, RETURN_AREA);
  const f = failed();
  return new Outcome<ObjectRef>(f ? new ObjectRef() : ObjectRef.of(str(RETURN_AREA + 4)), f);
}

export function put(value: CborWriter): ObjectRef {
  return tryPut(value).unwrap();
}

/** Waits for `ref`'s value (at most `timeoutMs`, -1: no limit) and returns a reader over it. */
export function tryGet(ref: ObjectRef, timeoutMs: i64 = -1): Outcome<CborReader> {
  const id = String.UTF8.encode(ref.objectId);
  hostGet(changetype<usize>(id), id.byteLength, timeoutMs >= 0 ? 1 : 0, timeoutMs >= 0 ? <u32>timeoutMs : 0, RETURN_AREA);
  const f = failed();
  return new Outcome<CborReader>(new CborReader(f ? new Uint8Array(0) : bytesAt(RETURN_AREA + 4)), f);
}

/** `ref`'s value; traps with the producing task's error if it failed. */
export function get(ref: ObjectRef, timeoutMs: i64 = -1): CborReader {
  return tryGet(ref, timeoutMs).unwrap();
}

/** Waits until `numReturns` of `refs` are ready (or the timeout, -1: none); returns the ready positions, first ready first. */
export function wait(refs: ObjectRef[], numReturns: u32, timeoutMs: i64 = -1): Uint32Array {
  const n = refs.length;
  const ids = new Array<ArrayBuffer>(n);
  const table = new Uint32Array(n * 2);
  for (let i = 0; i < n; i++) {
    ids[i] = String.UTF8.encode(refs[i].objectId);
    table[i * 2] = <u32>changetype<usize>(ids[i]);
    table[i * 2 + 1] = <u32>ids[i].byteLength;
  }
  hostWait(table.dataStart, n, numReturns, timeoutMs >= 0 ? 1 : 0, timeoutMs >= 0 ? <u32>timeoutMs : 0, RETURN_AREA);
  const f = failed();
  if (f !== null) throw new Error(f.toString());
  const ptr = load<usize>(RETURN_AREA, 4);
  const len = load<u32>(RETURN_AREA, 8);
  return len == 0 ? new Uint32Array(0) : Uint32Array.wrap(changetype<ArrayBuffer>(ptr), 0, len);
}

/** Cancels the task behind `ref` (`recursive`: and its children); null when it was cancelled or had already ended. */
export function cancel(ref: ObjectRef, force: bool = false, recursive: bool = true): Failure | null {
  const id = String.UTF8.encode(ref.objectId);
  hostCancel(changetype<usize>(id), id.byteLength, force ? 1 : 0, recursive ? 1 : 0, RETURN_AREA);
  return failed();
}

/**
 * Submits a task of `fn`, a function of this guest's own component, with
 * `args` (a CBOR array) and `options` (a CBOR map such as
 * `new CborWriter().map(1).str("numReturns").int(2)`); its result refs come
 * back at once. A submit the host refuses (no such function, wrong
 * arguments, bad options) fails those results with the reason, met at `get`.
 */
export function trySubmit(fn: string, args: CborWriter, options: CborWriter | null = null): Outcome<ObjectRef[]> {
  const name = String.UTF8.encode(fn);
  const a = args.bytes();
  const o = options ? options.bytes() : new Uint8Array(0);
  hostSubmit(changetype<usize>(name), name.byteLength, a.dataStart, a.byteLength, o.dataStart, o.byteLength, RETURN_AREA);
  const f = failed();
  return new Outcome<ObjectRef[]>(f ? new Array<ObjectRef>(0) : refsAt(RETURN_AREA + 4), f);
}

/**
 * Emits the next value of a task submitted with `numReturns: 'streaming'`:
 * the driver's `for await` gets its ref now, while this task goes on. Traps
 * in a task that is not streaming (or when it was cancelled).
 */
export function emit(value: CborWriter): void {
  const b = value.bytes();
  hostEmit(b.dataStart, b.byteLength, RETURN_AREA);
  const f = failed();
  if (f !== null) throw new Error(f.toString());
}

/** `trySubmit` for one result: its ref, or a trap. */
export function remote(fn: string, args: CborWriter, options: CborWriter | null = null): ObjectRef {
  return trySubmit(fn, args, options).unwrap()[0];
}
