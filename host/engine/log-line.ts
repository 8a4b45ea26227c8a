/**
 * Guest text on its way to a terminal or a log file: one line per message,
 * prefixed with who wrote it, with every character that could start a new
 * line, move the cursor, recolour the terminal or reorder text escaped.
 */
import { LOG_TASK_BYTES } from './limits.js';
import { safeLine } from '../util/safe-line.js';

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
