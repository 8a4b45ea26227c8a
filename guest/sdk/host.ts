// The `tsray:runtime/host` imports (log, now, sleep, task-context), with their canonical-ABI glue written once here.
import { RETURN_AREA } from "./memory";

// @ts-ignore: decorator
@external("tsray:runtime/host", "log")
declare function hostLog(level: i32, ptr: usize, len: usize): void;
// @ts-ignore: decorator
@external("tsray:runtime/host", "now")
declare function hostNow(): f64;
// @ts-ignore: decorator
@external("tsray:runtime/host", "sleep")
declare function hostSleep(ms: u32): void;
// @ts-ignore: decorator
@external("tsray:runtime/host", "task-context")
declare function hostTaskContext(ret: usize): void;

export enum LogLevel { Trace, Debug, Info, Warn, Error, Fatal }

/** Writes a line to the task's log. */
export function log(level: LogLevel, message: string): void {
  const buf = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(buf), buf.byteLength);
}

/** Wall-clock milliseconds since the Unix epoch. */
export function now(): f64 {
  return hostNow();
}

/** Blocks this task for `ms` milliseconds. */
export function sleep(ms: u32): void {
  hostSleep(ms);
}

/** The ids of one accelerator kind a task holds. */
export class AcceleratorIds {
  constructor(public kind: string, public ids: Uint32Array) {}
}

export class TaskInfo {
  constructor(
    public taskId: string,
    public nodeId: string,
    public attempt: u32,
    /** Its GPUs' ids, else those of the first other accelerator kind it holds. */
    public acceleratorIds: Uint32Array,
    /** The ids of every accelerator kind it holds. */
    public accelerators: AcceleratorIds[],
  ) {}
}

function u32List(ptr: usize, n: u32): Uint32Array {
  return n == 0 ? new Uint32Array(0) : Uint32Array.wrap(changetype<ArrayBuffer>(ptr), 0, n);
}

/** Where and how this task runs. */
export function taskContext(): TaskInfo {
  hostTaskContext(RETURN_AREA);
  const r = RETURN_AREA;
  const kinds = new Array<AcceleratorIds>();
  const at = load<usize>(r, 28);
  for (let i: u32 = 0, n = load<u32>(r, 32); i < n; i++) {
    const e = at + <usize>i * 16; // record { kind: string, ids: list<u32> }
    kinds.push(new AcceleratorIds(String.UTF8.decodeUnsafe(load<usize>(e, 0), load<u32>(e, 4)), u32List(load<usize>(e, 8), load<u32>(e, 12))));
  }
  return new TaskInfo(
    String.UTF8.decodeUnsafe(load<usize>(r, 0), load<u32>(r, 4)),
    String.UTF8.decodeUnsafe(load<usize>(r, 8), load<u32>(r, 12)),
    load<u32>(r, 16),
    u32List(load<usize>(r, 20), load<u32>(r, 24)),
    kinds,
  );
}

/** The abort handler every tsray build installs: the message reaches the host, then the task traps. */
export function tsrayAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message !== null ? message : "abort";
  if (fileName !== null) text += " (" + fileName + ":" + line.toString() + ":" + column.toString() + ")";
  log(LogLevel.Fatal, text);
  unreachable();
}
