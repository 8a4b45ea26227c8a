/**
 * What one task may cost its host, beyond the linear memory its `maxMemoryMb`
 * caps: the limit contract the lean engine (which runs every task) and the
 * worker threads enforce. Sizes are bytes.
 *
 * - Lifted values: everything the host builds from guest memory in one lift
 *   (a call's result, or one host call's arguments) is counted as it is read,
 *   before it is allocated: a string by its UTF-8 length, a list of numbers by
 *   its byte length, any other list by `max(element size, LIST_SLOT_BYTES)`
 *   per element (plus whatever its elements point to). Aliasing is counted each
 *   time it is read, so a guest cannot make the host copy one region a thousand
 *   times. Past the budget the call fails with `OutOfMemoryError`.
 * - Strings: one string is at most `MAX_STRING_BYTES` of UTF-8 (what a
 *   JavaScript string can hold) and must be valid UTF-8; otherwise the call
 *   fails with `TaskError`, as the canonical ABI traps.
 * - Log text: each printed line is cut to `LOG_LINE_CHARS` characters; a task
 *   prints at most `LOG_TASK_BYTES` of log text, and the lines past that are
 *   counted and dropped (the task goes on; one notice says how many).
 * - Pooled memory: an idle pooled instance keeps the linear memory its last
 *   task grew (zeroed, so the next task finds fresh pages already mapped) only
 *   up to `POOLED_MEMORY_BYTES`; past that it is dropped after the task.
 * - Abort messages: a guest's last words are kept up to `ABORT_MESSAGE_CHARS`;
 *   `TaskError.message` shows them as one escaped line (`guestMessage` keeps the text).
 */
import { constants } from 'node:buffer';
import { SAFE_LINE_CHARS } from '../util/safe-line.js';

export const MiB = 2 ** 20;

/** The lift budget of a task with `maxMemoryMb`: this many times its linear-memory cap... */
export const LIFT_FACTOR = 2;
/** ...but never more than this, which is also the budget of a task without a cap. */
export const MAX_LIFT_BYTES = 1024 * MiB;
/** What each element of a list of non-numbers counts at least (a JavaScript array slot). */
export const LIST_SLOT_BYTES = 8;
/** The longest string, in UTF-8 bytes, the host lifts. */
export const MAX_STRING_BYTES = constants.MAX_STRING_LENGTH;
/** Characters of one printed log line, after escaping; the rest is cut. */
export const LOG_LINE_CHARS = SAFE_LINE_CHARS;
/** Log text one task (or actor call) may print. */
export const LOG_TASK_BYTES = MiB;
/** Linear memory a pooled instance may keep between tasks (see virtual-memory-size.ts). */
export const POOLED_MEMORY_BYTES = 256 * MiB;
/** Characters of a guest's abort message kept for its `TaskError`; the rest is cut. */
export const ABORT_MESSAGE_CHARS = 64 * 1024;

/** The lift budget for a module capped at `maxMemoryBytes` of linear memory (undefined: uncapped). */
export function liftBudget(maxMemoryBytes?: number): number {
  return maxMemoryBytes === undefined ? MAX_LIFT_BYTES : Math.min(LIFT_FACTOR * maxMemoryBytes, MAX_LIFT_BYTES);
}
