/** Which of a task's own errors its `retryExceptions` option retries (see `TaskOptions.retryExceptions`). */
import { TaskError } from '../errors.js';

/** The case name of an `err` payload whose WIT type is an enum (a string) or a variant (`{ tag }`). */
function errCase(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  if (payload !== null && typeof payload === 'object' && typeof (payload as { tag?: unknown }).tag === 'string') return (payload as { tag: string }).tag;
  return undefined;
}

/** Whether `rule` asks to retry `error`, which the task's own run produced. */
export function retriesError(rule: true | string[] | undefined, error: Error): boolean {
  if (rule === undefined) return false;
  if (rule === true) return error instanceof TaskError;
  if (rule.includes(error.name)) return true;
  if (!(error instanceof TaskError) || !('payload' in error)) return false;
  const c = errCase(error.payload);
  return c !== undefined && rule.includes(c);
}

/**
 * Whether work's own `error` is retried under its `retryExceptions`, counting
 * the attempt (within `maxRetries`, which crash retries share).
 */
export function retriesOwnError(work: { attempt: number }, opts: { maxRetries: number; retryExceptions?: true | string[] }, error: Error): boolean {
  if (work.attempt >= opts.maxRetries || !retriesError(opts.retryExceptions, error)) return false;
  work.attempt++;
  return true;
}
