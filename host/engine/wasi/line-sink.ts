/**
 * Turns the bytes a guest writes to stdout or stderr into log lines: UTF-8
 * decoded across writes (a character split between two writes stays whole;
 * invalid bytes become U+FFFD), one line per newline (a `\r` before it is
 * dropped), a line longer than `STDIO_LINE_CHARS` passed on in pieces, and
 * whatever is left passed on at `flush()`.
 */
import { STDIO_LINE_CHARS } from './capabilities.js';

export class LineSink {
  readonly #emit: (line: string) => void;
  readonly #decoder = new TextDecoder('utf-8');
  #pending = '';

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  write(bytes: Uint8Array): void {
    // Decoded in slices, so that one huge write never becomes one huge string.
    for (let at = 0; at < bytes.length; at += STDIO_LINE_CHARS) {
      this.#take(this.#decoder.decode(bytes.subarray(at, at + STDIO_LINE_CHARS), { stream: true }));
    }
  }

  /** Passes on the unfinished line, if any. */
  flush(): void {
    this.#take(this.#decoder.decode());
    if (this.#pending !== '') this.#line(this.#pending);
    this.#pending = '';
  }

  #take(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.#line(this.#pending + text.slice(start, nl));
      this.#pending = '';
      start = nl + 1;
    }
    this.#pending += text.slice(start);
    while (this.#pending.length >= STDIO_LINE_CHARS) {
      this.#emit(this.#pending.slice(0, STDIO_LINE_CHARS));
      this.#pending = this.#pending.slice(STDIO_LINE_CHARS);
    }
  }

  #line(text: string): void {
    this.#emit(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}
