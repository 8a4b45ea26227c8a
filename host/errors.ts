/**
 * Errors a tsray user can catch. Every error carries a stable `code` string so
 * callers can branch on it without matching messages.
 */

/** Base class of every tsray error. */
export class TsrayError extends Error {
  /** Stable machine-readable code, e.g. `ERR_COMPONENT`. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bad component, bad WIT, a build failure, or values that do not match a WIT signature. */
export class ComponentError extends TsrayError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'ERR_COMPONENT', message, options);
  }
}

/** WIT text that does not parse or resolve; `file`, `line` and `column` locate it. */
export class WitError extends ComponentError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  constructor(file: string, line: number, column: number, message: string) {
    super(`${file}:${line}:${column}: ${message}`, { code: 'ERR_WIT' });
    this.file = file;
    this.line = line;
    this.column = column;
  }
}

/** An AssemblyScript source that does not compile or does not match its WIT world. */
export class BuildError extends ComponentError {
  /** Every diagnostic, each already formatted as `file:line:col: message`. */
  readonly diagnostics: string[];
  constructor(diagnostics: string[]) {
    super(`build failed:\n${diagnostics.join('\n')}`, { code: 'ERR_BUILD' });
    this.diagnostics = diagnostics;
  }
}

/** A value passed to a component function does not match the WIT type. */
export class ArgumentTypeError extends ComponentError {
  constructor(message: string) {
    super(message, { code: 'ERR_ARGUMENT_TYPE' });
  }
}

/**
 * A guest trap, a guest exception (AssemblyScript `throw`/`abort`), or an
 * `err` returned by a function whose WIT result is a `result`.
 */
export class TaskError extends TsrayError {
  /** The WIT name of the function that failed. */
  readonly functionName: string;
  /** The guest's own message (abort text, trap reason), when known. */
  readonly guestMessage: string;
  /** For a `result` err: the lifted error payload. */
  readonly payload?: unknown;
  constructor(functionName: string, guestMessage: string, options?: { cause?: unknown; payload?: unknown }) {
    super('ERR_TASK', `task '${functionName}' failed: ${guestMessage}`, options);
    this.functionName = functionName;
    this.guestMessage = guestMessage;
    if (options && 'payload' in options) this.payload = options.payload;
  }
}

/** A guest grew its linear memory past its cap. */
export class OutOfMemoryError extends TsrayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OUT_OF_MEMORY', message, options);
  }
}
