// The tsray guest SDK: `import { log, Option, Result, ok, err, Tuple2, ActorHandle, CborWriter } from "tsray";`
export { log, now, sleep, taskContext, LogLevel, TaskInfo, tsrayAbort } from "./host";
export { Unit, Option, Result, ok, err, zero, Tuple2, Tuple3, Tuple4, Tuple5, Tuple6 } from "./types";
export { ActorHandle, CallResult } from "./actors";
export { CborWriter, CborReader, REF_TAG } from "./cbor";
export { ObjectRef, Failure, Outcome, tryPut, put, tryGet, get, wait, cancel, trySubmit, remote, emit } from "./objects";
// Accelerators (tsray:accel); also `import { Device, Tensor } from "tsray/accel"`.
export * from "./accel";
export { cabi_realloc, keepAlive, releaseCall, RETURN_AREA } from "./memory";
// Parsed always: `tsray build` puts one in place of std's console (and trace, seed) depending on the world.
import "./env";
import "./console-unbound";
