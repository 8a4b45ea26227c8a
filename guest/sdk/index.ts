// The tsray guest SDK: `import { log, Option, Result, ok, err, Tuple2 } from "tsray";`
export { log, now, sleep, taskContext, LogLevel, TaskInfo, tsrayAbort } from "./runtime";
export { Unit, Option, Result, ok, err, zero, Tuple2, Tuple3, Tuple4, Tuple5, Tuple6 } from "./types";
export { cabi_realloc, keepAlive, releaseCall, RETURN_AREA } from "./memory";
