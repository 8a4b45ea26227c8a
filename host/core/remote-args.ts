/** The argument check every `.remote()` does before submitting anything. */
import { ArgumentTypeError } from '../errors.js';
import { validate } from '../engine/validate.js';
import { describeFunc } from '../wit/describe.js';
import type { FuncDef, Param } from '../wit/types.js';
import { ObjectRef } from '../../store/object-ref.js';

const NESTED_REFS = ' (it holds an ObjectRef: only a top-level ObjectRef argument is resolved to its value; get() the nested refs first, or pass each ref as an argument of its own)';

/** Whether `v` holds an ObjectRef anywhere inside (a bounded walk: messages only). */
function holdsRef(v: unknown, depth: number): boolean {
  if (v instanceof ObjectRef) return true;
  if (depth > 32 || v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
  return Object.values(v).some((x) => holdsRef(x, depth + 1));
}

/**
 * Checks `args` against `params` of `f`: arity, and the WIT type of every
 * argument that is not a top-level `ObjectRef` (those are checked when they
 * resolve). Throws `ArgumentTypeError` naming the function and its signature.
 */
export function checkRemoteArgs(f: FuncDef, params: Param[], args: unknown[]): void {
  const fail = (why: string): never => { throw new ArgumentTypeError(`${f.name}: ${why}; signature: ${describeFunc(f)}`); };
  if (args.length !== params.length) fail(`expected ${params.length} argument${params.length === 1 ? '' : 's'}, got ${args.length}`);
  for (let i = 0; i < params.length; i++) {
    if (args[i] instanceof ObjectRef) continue;
    try {
      validate(params[i]!.type, args[i]);
    } catch (e) {
      if (e instanceof ArgumentTypeError) fail(`argument '${params[i]!.name}': ${e.message}${holdsRef(args[i], 0) ? NESTED_REFS : ''}`);
      throw e;
    }
  }
}
