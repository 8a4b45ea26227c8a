/**
 * Values crossing between the node and a worker: arguments stored in the
 * object store's arenas are read in place, and results move the buffers
 * they own outright instead of copying them.
 */
import { ResourceHandle } from '../component/module.js';
import { read as readStored } from '../../store/codec.js';
import { STORED_ARG } from '../../store/stored-arg.js';

/**
 * A reader of arguments: one stored in an arena arrives as
 * `[arena, offset, length]` and is read in place (its typed arrays are views
 * of the node's shared memory); any other is itself.
 */
export function argReader(arenas: readonly WebAssembly.Memory[]): (a: unknown) => unknown {
  return (a) => {
    if (a === null || typeof a !== 'object' || !(STORED_ARG in a)) return a;
    const [arena, off, len] = (a as Record<string, [number, number, number]>)[STORED_ARG]!;
    return readStored(new Uint8Array(arenas[arena]!.buffer, off, len), (id) => ({ id }));
  };
}

/** Each argument read in place (see `argReader`). */
export function readArgs(args: unknown[], read: (a: unknown) => unknown): unknown[] {
  for (let i = 0; i < args.length; i++) args[i] = read(args[i]);
  return args;
}

/** Adds to `into` each ArrayBuffer inside `v` that a view covers whole, once (a view over part of one, or over shared memory, is copied). */
export function collectTransfer(v: unknown, into: ArrayBuffer[], seen = new Set<ArrayBuffer>()): void {
  if (v === null || typeof v !== 'object') return;
  if (ArrayBuffer.isView(v)) {
    const b = v.buffer;
    if (b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength && !seen.has(b)) { seen.add(b); into.push(b); }
    return;
  }
  if (v instanceof ResourceHandle) return;
  for (const x of Array.isArray(v) ? v : Object.values(v)) collectTransfer(x, into, seen);
}
