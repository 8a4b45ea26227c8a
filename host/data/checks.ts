/** The argument checks tsray.data's methods share. */
import { InvalidArgumentError } from '../errors.js';

/** `v`, which must be a whole number >= `min` (`what` names it in the error). */
export function wholeNumber(v: unknown, min: number, what: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < min) throw new InvalidArgumentError(`${what} must be a whole number >= ${min}, got ${String(v)}`);
  return v as number;
}
