/**
 * Guest log lines on their way to the driver, one mechanism for the
 * embedded node and the cluster: a worker filters each line by the level
 * the driver asked for, cuts it and counts it against the task's budget
 * (`TaskLog`), and hands on a `GuestLog` record; whoever prints it (the
 * driver's process, for its own tasks on any node) escapes it there, once,
 * and prefixes it with the task and where it ran, as Ray prints
 * `(name pid=N)`. Records cross threads and the wire unescaped: the printer
 * trusts nothing in them.
 */
import { LOG_LINE_CHARS } from './limits.js';
import { safeLine } from '../util/safe-line.js';

/** Guest log levels, lowest first (`tsray:runtime/host.log`). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Which guest lines reach the driver: those at this level and above, or none (`'off'`). */
export type LogFilter = LogLevel | 'off';

/** What prints when nothing says otherwise (as Ray prints a task's output by default, but not debug chatter). */
export const DEFAULT_LOG_FILTER: LogFilter = 'info';

/** The longest record text: a line cut at `LOG_LINE_CHARS` plus the note saying how much was cut. */
export const LOG_TEXT_CHARS = LOG_LINE_CHARS + 64;
/** The longest task or method name in a record. */
export const LOG_WHO_CHARS = 256;

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);
}

export function isLogFilter(v: unknown): v is LogFilter {
  return v === 'off' || isLogLevel(v);
}

/** Whether a line at `level` passes `filter`. */
export function logPasses(filter: LogFilter, level: LogLevel): boolean {
  return filter !== 'off' && LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(filter);
}

/** One guest log line, unescaped: its level, the task or actor method that wrote it, and its text. */
export interface GuestLog {
  level: LogLevel;
  who: string;
  text: string;
}

/** Where a record was written: the process and the node. */
export interface LogOrigin {
  pid: number;
  node: string;
}

/** `message` cut to at most `LOG_TEXT_CHARS` characters, saying how much was cut. */
export function cutLogText(message: string): string {
  if (message.length <= LOG_LINE_CHARS) return message;
  return `${message.slice(0, LOG_LINE_CHARS)} ... [${message.length - LOG_LINE_CHARS} more characters cut]`;
}

/** The printed line: `(who pid=N node=abcd1234) [level] text`, every part escaped. */
export function guestLogLine(r: GuestLog, from: LogOrigin): string {
  const node = safeLine(from.node.slice(0, 8), 8);
  return `(${safeLine(r.who, LOG_WHO_CHARS)} pid=${Math.trunc(from.pid)} node=${node}) [${r.level}] ${safeLine(r.text, LOG_TEXT_CHARS)}\n`;
}

/**
 * Prints a record in this process, as Ray's driver prints its workers'
 * output: info and below to stdout, warnings and errors to stderr.
 */
export function printGuestLog(r: GuestLog, from: LogOrigin): void {
  const out = LOG_LEVELS.indexOf(r.level) >= LOG_LEVELS.indexOf('warn') ? process.stderr : process.stdout;
  out.write(guestLogLine(r, from));
}

/**
 * Where a task's or actor's guest log goes: the lowest level that passes,
 * and on a cluster node the id its lines travel under (the cluster's task
 * or actor id, by which the head finds the driver that submitted it).
 */
export interface LogTarget {
  level: LogFilter;
  route?: string;
}
