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

export class TaskInfo {
  constructor(
    public taskId: string,
    public nodeId: string,
    public attempt: u32,
    public acceleratorIds: Uint32Array,
  ) {}
}

/** Where and how this task runs. */
export function taskContext(): TaskInfo {
  hostTaskContext(RETURN_AREA);
  const r = RETURN_AREA;
  const n = load<u32>(r, 24);
  const ids = n == 0 ? new Uint32Array(0) : Uint32Array.wrap(changetype<ArrayBuffer>(load<usize>(r, 20)), 0, n);
  return new TaskInfo(
    String.UTF8.decodeUnsafe(load<usize>(r, 0), load<u32>(r, 4)),
    String.UTF8.decodeUnsafe(load<usize>(r, 8), load<u32>(r, 12)),
    load<u32>(r, 16),
    ids,
  );
}

/** The abort handler every tsray build installs: the message reaches the host, then the task traps. */
export function tsrayAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = message !== null ? message : "abort";
  if (fileName !== null) text += " (" + fileName + ":" + line.toString() + ":" + column.toString() + ")";
  log(LogLevel.Fatal, text);
  unreachable();
}
