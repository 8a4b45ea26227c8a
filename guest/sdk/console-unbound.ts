// `console` for worlds that do not import tsray:runtime/host: the methods of env.ts's, each bound
// to an `env` import no host provides, so `tsray build` can name the method used and how to fix it.

// @ts-ignore: decorator
@external("env", "console.log") declare function logImport(message: string): void;
// @ts-ignore: decorator
@external("env", "console.info") declare function infoImport(message: string): void;
// @ts-ignore: decorator
@external("env", "console.debug") declare function debugImport(message: string): void;
// @ts-ignore: decorator
@external("env", "console.trace") declare function traceImport(message: string): void;
// @ts-ignore: decorator
@external("env", "console.warn") declare function warnImport(message: string): void;
// @ts-ignore: decorator
@external("env", "console.error") declare function errorImport(message: string): void;
// @ts-ignore: decorator
@external("env", "console.assert") declare function assertImport(condition: bool, message: string): void;
// @ts-ignore: decorator
@external("env", "console.time") declare function timeImport(label: string): void;
// @ts-ignore: decorator
@external("env", "console.timeLog") declare function timeLogImport(label: string): void;
// @ts-ignore: decorator
@external("env", "console.timeEnd") declare function timeEndImport(label: string): void;

export namespace console {
  export function log(message: string = ""): void { logImport(message); }
  export function info(message: string = ""): void { infoImport(message); }
  export function debug(message: string = ""): void { debugImport(message); }
  export function trace(message: string = ""): void { traceImport(message); }
  export function warn(message: string = ""): void { warnImport(message); }
  export function error(message: string = ""): void { errorImport(message); }
  export function assert<T>(condition: T, message: string = ""): void { assertImport(!!condition, message); }
  export function time(label: string = "default"): void { timeImport(label); }
  export function timeLog(label: string = "default"): void { timeLogImport(label); }
  export function timeEnd(label: string = "default"): void { timeEndImport(label); }
}
