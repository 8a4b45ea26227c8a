/**
 * Guest text on its way to a terminal or a log file: one line per message,
 * prefixed with who wrote it, with every character that could start a new
 * line, move the cursor, recolour the terminal or reorder text escaped; and
 * the per-task budget that bounds how much of it a task may send.
 */
import { LOG_TASK_BYTES } from './limits.js';
import { safeLine } from '../util/safe-line.js';
import { cutLogText, logPasses, type GuestLog, type LogFilter, type LogLevel } from './guest-log.js';

/** One printed guest log line of an instance run outside the runtime: `[who level] message`. */
export function logLine(who: string, level: string, message: string): string {
  return `[${safeLine(who, 256)} ${level}] ${safeLine(message)}\n`;
}

/** What a record costs the budget beyond its text: about what its prefix prints. */
const PREFIX_BYTES = 48;

/**
 * The log of one task (or actor call): lines below `filter` are dropped
 * for free; the rest are cut to one line each, and past `LOG_TASK_BYTES`
 * counted and dropped, and `end()` says how many.
 */
export class TaskLog {
  private printed = 0;
  private dropped = 0;
  private droppedChars = 0;

  constructor(private readonly who: string, private readonly filter: LogFilter) {}

  /** The record to hand on for this message, or undefined when it is filtered out or over the budget. */
  admit(level: LogLevel, message: string): GuestLog | undefined {
    if (!logPasses(this.filter, level)) return undefined;
    const text = this.printed < LOG_TASK_BYTES ? cutLogText(message) : undefined;
    const bytes = text === undefined ? Infinity : Buffer.byteLength(text) + this.who.length + PREFIX_BYTES;
    if (this.printed + bytes > LOG_TASK_BYTES) {
      this.dropped++;
      this.droppedChars += message.length;
      return undefined;
    }
    this.printed += bytes;
    return { level, who: this.who, text: text! };
  }

  /** The notice to hand on when the task ends, if it dropped lines. */
  end(): GuestLog | undefined {
    if (this.dropped === 0 || !logPasses(this.filter, 'warn')) return undefined;
    const text = `${this.dropped} more log line${this.dropped === 1 ? '' : 's'} (${this.droppedChars} characters) dropped: a task prints at most ${LOG_TASK_BYTES} bytes of log text`;
    return { level: 'warn', who: this.who, text };
  }
}
