/**
 * The core-module variants a node runs: the component's core module prepared
 * for pooled worker instances (see core-module.ts), and one copy per memory
 * cap in use. Compiled once per process and shared with workers.
 */
import type { LoadedComponent } from '../component/loaded.js';
import { capMemory, sandboxCore } from '../engine/core-module.js';

export interface Variant {
  key: string;
  module: WebAssembly.Module;
  maxBytes?: number;
}

const sandboxed = new Map<string, Uint8Array>();
const variants = new Map<string, Variant>();
const shortIds = new Map<string, string>();

const PAGE = 65536;

/** The variant of `c` capped at `maxMemoryMb` (uncapped when undefined). */
export function variantFor(c: LoadedComponent, maxMemoryMb?: number): Variant {
  const pages = maxMemoryMb === undefined ? undefined : Math.max(1, Math.floor((maxMemoryMb * 2 ** 20) / PAGE));
  // Keys travel with every task message: keep them short.
  let short = shortIds.get(c.hash);
  if (short === undefined) shortIds.set(c.hash, (short = shortIds.size.toString(36)));
  const key = pages === undefined ? short : `${short}:${pages}`;
  let v = variants.get(key);
  if (!v) {
    let bytes = sandboxed.get(c.hash);
    if (!bytes) sandboxed.set(c.hash, (bytes = sandboxCore(c.coreBytes, c.resettable)));
    if (pages !== undefined) bytes = capMemory(bytes, pages);
    v = { key, module: new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>) };
    if (pages !== undefined) v.maxBytes = pages * PAGE;
    variants.set(key, v);
  }
  return v;
}
