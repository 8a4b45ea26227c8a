/**
 * One error codec for every boundary a typed error crosses: a worker thread
 * posting a failure to its node, and a node answering a driver over the
 * wire. An error is flattened to its class name, `code`, message and plain
 * fields, and rebuilt as the same class with the same `code` on the other
 * side. Fields named like the object's own machinery are never copied back.
 */
import * as errors from '../errors.js';

/** A typed error in transit (also a cluster frame's shape: see cluster/protocol.ts). */
export interface WireError {
  /** The error class's name, e.g. `TaskError`; `Error` for anything that is not a tsray error. */
  name: string;
  code: string;
  message: string;
  /** The class's own fields (`functionName`, `payload`, ...). */
  fields?: Record<string, unknown>;
}

const CLASSES = new Map<string, new (...a: never[]) => errors.TsrayError>(
  Object.entries(errors).filter(([, v]) => typeof v === 'function' && (v === errors.TsrayError || v.prototype instanceof errors.TsrayError))
    .map(([k, v]) => [k, v as new (...a: never[]) => errors.TsrayError]),
);

/** Keys never copied from a wire error onto the rebuilt object. */
const RESERVED = new Set(['code', 'name', 'message', 'stack', 'cause', '__proto__', 'constructor', 'prototype']);

/** A field travels when it is plain data; a `result` err's payload travels whatever its shape. */
function travels(key: string, v: unknown): boolean {
  return key === 'payload' || v === null || typeof v !== 'object' || ArrayBuffer.isView(v);
}

export function toWire(e: unknown): WireError {
  if (e instanceof errors.TsrayError) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (!RESERVED.has(k) && travels(k, v)) fields[k] = v;
    return { name: e.name, code: e.code, message: e.message, fields };
  }
  const err = e as Error;
  return { name: 'Error', code: 'ERR_INTERNAL', message: err?.stack ?? String(e) };
}

/**
 * The typed error `w` describes. An error of no known class (an internal
 * error) keeps its code, with `where` said first when given.
 */
export function fromWire(w: WireError, where?: string): Error {
  const Cls = CLASSES.get(w.name);
  const e = new errors.TsrayError(w.code, Cls || where === undefined ? w.message : `${where}: ${w.message}`);
  if (Cls) {
    Object.setPrototypeOf(e, Cls.prototype);
    e.name = w.name;
  }
  if (w.fields) for (const [k, v] of Object.entries(w.fields)) if (!RESERVED.has(k)) (e as unknown as Record<string, unknown>)[k] = v;
  return e;
}
