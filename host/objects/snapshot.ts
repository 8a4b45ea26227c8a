import { ObjectRef } from './object-ref.js';

/**
 * Copies a value so later changes by the caller cannot reach the stored
 * object. Typed arrays are copied as one block; refs inside stay refs.
 */
export function snapshotValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof ObjectRef) return v;
  if (ArrayBuffer.isView(v)) return (v as unknown as { slice(): unknown }).slice?.() ?? structuredClone(v);
  if (v instanceof ArrayBuffer) return v.slice(0);
  if (Array.isArray(v)) return v.map(snapshotValue);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, snapshotValue(x)]));
  if (v instanceof Set) return new Set([...v].map(snapshotValue));
  if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = snapshotValue(x);
    return out;
  }
  return structuredClone(v);
}
