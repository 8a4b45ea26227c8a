/**
 * Guest text on its way to a terminal or a log file: one line per message,
 * prefixed with who wrote it, with every character that could start a new
 * line, move the cursor, recolour the terminal or reorder text escaped.
 */
import { LOG_LINE_CHARS, LOG_TASK_BYTES } from './limits.js';

/**
 * C0 controls (newlines included), DEL, C1 controls, the backslash (so an
 * escape in the output always means an escaped character), the line and
 * paragraph separators, and the bidirectional marks, embeddings, overrides and isolates.
 */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const c = ch.charCodeAt(0);
  return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/**
 * `message` as one safe line of at most about `max` characters: unsafe
 * characters escaped, the rest cut with a note of how much was cut.
 */
export function safeLine(message: string, max = LOG_LINE_CHARS): string {
  if (message.length <= max && !UNSAFE.test(message)) return message;
  let out = '';
  let i = 0;
  while (i < message.length && out.length < max) {
    const cp = message.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out += UNSAFE.test(ch) ? escapeChar(ch) : ch;
    i += ch.length;
  }
  if (i < message.length) out += ` ... [${message.length - i} more characters cut]`;
  return out;
}

/** One printed guest log line: `[who level] message`. */
export function logLine(who: string, level: string, message: string): string {
  return `[${safeLine(who, 256)} ${level}] ${safeLine(message)}\n`;
}

/**
 * Counts the log text one task prints: lines past `LOG_TASK_BYTES` are
 * dropped, and `end()` says how many.
 */
export class TaskLog {
  private printed = 0;
  private dropped = 0;
  private droppedChars = 0;

  constructor(private readonly who: string) {}

  /** The line to print for this message, or undefined when the task is over its log budget. */
  line(level: string, message: string): string | undefined {
    const line = this.printed < LOG_TASK_BYTES ? logLine(this.who, level, message) : undefined;
    const bytes = line === undefined ? Infinity : Buffer.byteLength(line);
    if (this.printed + bytes > LOG_TASK_BYTES) {
      this.dropped++;
      this.droppedChars += message.length;
      return undefined;
    }
    this.printed += bytes;
    return line;
  }

  /** The notice to print when the task ends, if it dropped lines. */
  end(): string | undefined {
    if (this.dropped === 0) return undefined;
    return logLine(this.who, 'warn', `${this.dropped} more log line${this.dropped === 1 ? '' : 's'} (${this.droppedChars} characters) dropped: a task prints at most ${LOG_TASK_BYTES} bytes of log text`);
  }
}
