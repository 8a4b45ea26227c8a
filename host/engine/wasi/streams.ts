/**
 * `wasi:io/streams`. Output streams exist only for granted stdio (whose bytes
 * become log lines) and for the bodies of HTTP requests that will be refused
 * (whose bytes are dropped); input streams only for stdin and are always at
 * their end. Stream errors are thrown as their WIT payload (`{ tag: 'closed' }`),
 * which jco's glue returns to the guest as the call's `err`.
 */
import { STDIO_WRITE_BYTES, type Capability } from './capabilities.js';
import { count, trap, type WasiContext } from './context.js';
import { Pollable } from './poll.js';

/** The `stream-error` that says the stream has ended. */
export const CLOSED = Object.freeze({ tag: 'closed' as const });

/** `wasi:io/streams.input-stream`: always at its end. */
export class InputStream {
  readonly #ctx: WasiContext;

  constructor(ctx: WasiContext) {
    this.#ctx = ctx;
  }

  read(_len: bigint): Uint8Array { return this.#closed(); }
  blockingRead(_len: bigint): Uint8Array { return this.#closed(); }
  skip(_len: bigint): bigint { return this.#closed(); }
  blockingSkip(_len: bigint): bigint { return this.#closed(); }

  subscribe(): Pollable {
    this.#ctx.io.checkpoint();
    return new Pollable(this.#ctx);
  }

  #closed(): never {
    this.#ctx.io.checkpoint();
    throw CLOSED;
  }
}

/** `wasi:io/streams.output-stream`: never blocks; every write goes to `sink` at once. */
export class OutputStream {
  readonly #ctx: WasiContext;
  readonly #sink: (bytes: Uint8Array) => void;
  /** The capability the stream is reached through, checked again on every call; undefined: none needed. */
  readonly #capability: Capability | undefined;

  constructor(ctx: WasiContext, sink: (bytes: Uint8Array) => void, capability?: Capability) {
    this.#ctx = ctx;
    this.#sink = sink;
    this.#capability = capability;
  }

  checkWrite(): bigint {
    this.#check('check-write');
    return BigInt(STDIO_WRITE_BYTES);
  }

  write(contents: Uint8Array): void {
    this.#check('write');
    this.#sink(contents);
  }

  blockingWriteAndFlush(contents: Uint8Array): void {
    this.#check('blocking-write-and-flush');
    this.#sink(contents);
  }

  // Writes reach the sink at once: there is never anything to flush.
  flush(): void { this.#check('flush'); }
  blockingFlush(): void { this.#check('blocking-flush'); }

  writeZeroes(len: bigint): void {
    this.#check('write-zeroes');
    this.#sink(this.#zeroes('write-zeroes', len));
  }

  blockingWriteZeroesAndFlush(len: bigint): void {
    this.#check('blocking-write-zeroes-and-flush');
    this.#sink(this.#zeroes('blocking-write-zeroes-and-flush', len));
  }

  // Every input stream is at its end, so a splice has nothing to move.
  splice(_src: InputStream, _len: bigint): bigint {
    this.#check('splice');
    throw CLOSED;
  }

  blockingSplice(_src: InputStream, _len: bigint): bigint {
    this.#check('blocking-splice');
    throw CLOSED;
  }

  subscribe(): Pollable {
    this.#check('subscribe');
    return new Pollable(this.#ctx);
  }

  #check(method: string): void {
    if (this.#capability) this.#ctx.need(this.#capability, `wasi:io/streams.output-stream.${method}`);
    else this.#ctx.io.checkpoint();
  }

  #zeroes(method: string, len: bigint): Uint8Array {
    const n = count(len);
    if (n > STDIO_WRITE_BYTES) trap(`wasi:io/streams.output-stream.${method}`, `asked to write ${len} zero bytes; check-write permits ${STDIO_WRITE_BYTES}`);
    return new Uint8Array(n);
  }
}

/** The `wasi:io/streams` interface. */
export function ioStreamsImports(): Record<string, Record<string, unknown>> {
  return { 'wasi:io/streams': { InputStream, OutputStream } };
}
