// Calling actors from a guest: a WIT parameter of type `actor-handle`
// (from tsray:runtime/actors) arrives as an ActorHandle.
import { CborReader, CborWriter } from "./cbor";
import { RETURN_AREA } from "./memory";

// @ts-ignore: decorator
@external("tsray:runtime/actors", "call")
declare function hostCall(idPtr: usize, idLen: usize, methodPtr: usize, methodLen: usize, argsPtr: usize, argsLen: usize, ret: usize): void;

// @ts-ignore: decorator
@external("tsray:runtime/actors", "create")
declare function hostCreate(resPtr: usize, resLen: usize, argsPtr: usize, argsLen: usize, optsPtr: usize, optsLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/actors", "kill")
declare function hostKill(idPtr: usize, idLen: usize, noRestart: i32, ret: usize): void;

function failedWith(): string | null {
  if (load<u8>(RETURN_AREA) == 0) return null;
  return String.UTF8.decodeUnsafe(load<usize>(RETURN_AREA, 4), load<u32>(RETURN_AREA, 8));
}

let lastCreateError = "";

/** A handle to an actor, received as a task or method parameter, or made with `create`. */
export class ActorHandle {
  id: string = "";

  /**
   * Creates an actor of `resource`, a resource this guest's own component
   * exports, with constructor `args` (a CBOR array) and `options` (a CBOR map
   * such as `new CborWriter().map(1).str("lifetime").str("detached")`).
   * It is killed when this task ends unless detached. Traps if refused.
   */
  static create(resource: string, args: CborWriter, options: CborWriter | null = null): ActorHandle {
    const h = ActorHandle.tryCreate(resource, args, options);
    if (h === null) throw new Error("actor " + resource + " was not created: " + lastCreateError);
    return h;
  }

  /** `create`, returning null when refused (the reason is then in `ActorHandle.lastError()`). */
  static tryCreate(resource: string, args: CborWriter, options: CborWriter | null = null): ActorHandle | null {
    const r = String.UTF8.encode(resource);
    const a = args.bytes();
    const o = options ? options.bytes() : new Uint8Array(0);
    hostCreate(changetype<usize>(r), r.byteLength, a.dataStart, a.byteLength, o.dataStart, o.byteLength, RETURN_AREA);
    const f = failedWith();
    if (f !== null) { lastCreateError = f; return null; }
    const h = new ActorHandle();
    h.id = String.UTF8.decodeUnsafe(load<usize>(RETURN_AREA, 4), load<u32>(RETURN_AREA, 8));
    return h;
  }

  /** Why the last `tryCreate` returned null ("CODE: message"). */
  static lastError(): string {
    return lastCreateError;
  }

  /** Kills the actor (`noRestart`: even if restarts remain). Traps if refused. */
  kill(noRestart: bool = true): void {
    const id = String.UTF8.encode(this.id);
    hostKill(changetype<usize>(id), id.byteLength, noRestart ? 1 : 0, RETURN_AREA);
    const f = failedWith();
    if (f !== null) throw new Error("kill failed: " + f);
  }

  /**
   * Calls `method` with `args` (a CBOR array: `new CborWriter().array(1).int(5)`),
   * waits for it, and returns a reader over its CBOR-encoded result. Calls from
   * one guest to one actor run in the order made. Traps with the error message if the call fails.
   */
  call(method: string, args: CborWriter): CborReader {
    const r = this.callRaw(method, args.bytes());
    if (!r.ok) throw new Error("actor call " + method + " failed: " + r.error);
    return new CborReader(r.value);
  }

  /** Calls `method` with the CBOR array `args` as given; a failure is returned, not trapped. */
  callRaw(method: string, args: Uint8Array): CallResult {
    const id = String.UTF8.encode(this.id);
    const m = String.UTF8.encode(method);
    hostCall(changetype<usize>(id), id.byteLength, changetype<usize>(m), m.byteLength, args.dataStart, args.byteLength, RETURN_AREA);
    const isErr = load<u8>(RETURN_AREA) != 0;
    const ptr = load<usize>(RETURN_AREA, 4);
    const len = load<u32>(RETURN_AREA, 8);
    if (isErr) return new CallResult(false, new Uint8Array(0), String.UTF8.decodeUnsafe(ptr, len));
    return new CallResult(true, len == 0 ? new Uint8Array(0) : Uint8Array.wrap(changetype<ArrayBuffer>(ptr), 0, len), "");
  }
}

/** What an actor call gave: its CBOR-encoded result, or why it failed. */
export class CallResult {
  constructor(readonly ok: bool, readonly value: Uint8Array, readonly error: string) {}
}
