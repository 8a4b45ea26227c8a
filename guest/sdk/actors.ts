// Calling actors from a guest: a WIT parameter of type `actor-handle`
// (from tsray:runtime/actors) arrives as an ActorHandle.
import { CborReader, CborWriter } from "./cbor";
import { RETURN_AREA } from "./memory";

// @ts-ignore: decorator
@external("tsray:runtime/actors", "call")
declare function hostCall(idPtr: usize, idLen: usize, methodPtr: usize, methodLen: usize, argsPtr: usize, argsLen: usize, ret: usize): void;

/** A handle to an actor, received as a task or method parameter. */
export class ActorHandle {
  id: string = "";

  /**
   * Calls `method` with `args` (a CBOR array: `new CborWriter().array(1).int(5)`),
   * waits for it, and returns a reader over its CBOR-encoded result. Calls from
   * one guest to one actor run in the order made. Traps with the error message if the call fails.
   */
  call(method: string, args: CborWriter): CborReader {
    const id = String.UTF8.encode(this.id);
    const m = String.UTF8.encode(method);
    const a = args.bytes();
    hostCall(changetype<usize>(id), id.byteLength, changetype<usize>(m), m.byteLength, a.dataStart, a.byteLength, RETURN_AREA);
    const isErr = load<u8>(RETURN_AREA) != 0;
    const ptr = load<usize>(RETURN_AREA, 4);
    const len = load<u32>(RETURN_AREA, 8);
    if (isErr) throw new Error("actor call " + method + " failed: " + String.UTF8.decodeUnsafe(ptr, len));
    const out = len == 0 ? new Uint8Array(0) : Uint8Array.wrap(changetype<ArrayBuffer>(ptr), 0, len);
    return new CborReader(out);
  }
}
