// What AssemblyScript's std imports from `env` (console.*, trace, seed), served by tsray:runtime/host instead.
// `tsray build` puts these in place of the std's own (`--use console=...`) when the world imports
// tsray:runtime/host; no component host provides an `env` module.
import { log, now, LogLevel } from "./host";

let timers: Map<string, f64> | null = null;

function timerStarts(): Map<string, f64> {
  let t = timers;
  if (t === null) {
    t = new Map<string, f64>();
    timers = t;
  }
  return t;
}

function elapsed(label: string, method: string, end: bool): void {
  const starts = timerStarts();
  if (!starts.has(label)) {
    log(LogLevel.Warn, "No such label '" + label + "' for console." + method + "()");
    return;
  }
  log(LogLevel.Info, label + ": " + (now() - starts.get(label)).toString() + "ms");
  if (end) starts.delete(label);
}

/** `console` as in JavaScript, one string per call: each line goes to the task log at its level. */
export namespace console {
  export function log(message: string = ""): void { write(LogLevel.Info, message); }
  export function info(message: string = ""): void { write(LogLevel.Info, message); }
  export function debug(message: string = ""): void { write(LogLevel.Debug, message); }
  export function trace(message: string = ""): void { write(LogLevel.Trace, message); }
  export function warn(message: string = ""): void { write(LogLevel.Warn, message); }
  export function error(message: string = ""): void { write(LogLevel.Error, message); }
  export function assert<T>(condition: T, message: string = ""): void {
    if (!condition) write(LogLevel.Error, message.length ? "Assertion failed: " + message : "Assertion failed");
  }
  export function time(label: string = "default"): void { timerStarts().set(label, now()); }
  export function timeLog(label: string = "default"): void { elapsed(label, "timeLog", false); }
  export function timeEnd(label: string = "default"): void { elapsed(label, "timeEnd", true); }
}

// Inside the namespace `log` names console.log; this is the SDK's.
function write(level: LogLevel, message: string): void { log(level, message); }

/** AssemblyScript's `trace(message, n, ...values)`: the message and the first `n` values, at trace level. */
export function tsrayTrace(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let text = message;
  const values = [a0, a1, a2, a3, a4];
  for (let i = 0; i < min(n, 5); i++) text += (i == 0 ? " " : ", ") + values[i].toString();
  log(LogLevel.Trace, text);
}

/** Seeds `Math.random` from the host clock. */
export function tsraySeed(): f64 {
  return now();
}
