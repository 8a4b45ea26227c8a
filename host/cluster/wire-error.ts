/** Typed errors across the wire: flattened on the node, rebuilt (same class, same `code`) on the driver. */
import * as errors from '../errors.js';
import type { WireError } from './protocol.js';

const CLASSES = new Map<string, new (...a: never[]) => errors.TsrayError>(
  Object.entries(errors).filter(([, v]) => typeof v === 'function' && (v === errors.TsrayError || v.prototype instanceof errors.TsrayError))
    .map(([k, v]) => [k, v as new (...a: never[]) => errors.TsrayError]),
);

export function toWire(e: unknown): WireError {
  if (e instanceof errors.TsrayError) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (k !== 'code' && k !== 'name' && (v === null || typeof v !== 'object' || ArrayBuffer.isView(v))) fields[k] = v;
    return { name: e.name, code: e.code, message: e.message, fields };
  }
  const err = e as Error;
  return { name: 'Error', code: 'ERR_INTERNAL', message: err?.stack ?? String(e) };
}

export function fromWire(w: WireError): Error {
  const Cls = CLASSES.get(w.name);
  const e = new errors.TsrayError(w.code, w.message);
  if (Cls) {
    Object.setPrototypeOf(e, Cls.prototype);
    e.name = w.name;
  }
  if (w.fields) Object.assign(e, w.fields);
  return e;
}
