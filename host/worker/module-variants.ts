/**
 * The core-module variants a node runs, one per component and memory cap in
 * use, compiled once per process and shared with workers. Lean: the
 * component's core module prepared for pooled worker instances (see
 * core-module.ts). jco: the glue's core modules, with every memory they
 * define capped.
 */
import type { LoadedComponent } from '../component/loaded.js';
import { ComponentError } from '../errors.js';
import { capMemory, definesMemory, sandboxCore } from '../engine/core-module.js';

export type Variant =
  | { engine: 'lean'; key: string; module: WebAssembly.Module; maxBytes?: number }
  | { engine: 'jco'; key: string; entry: string; cores: [string, WebAssembly.Module][]; restorable: boolean; maxBytes?: number };

const sandboxed = new Map<string, Uint8Array>();
const variants = new Map<string, Variant>();
const shortIds = new Map<string, string>();

const PAGE = 65536;

function compile(bytes: Uint8Array): WebAssembly.Module {
  return new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
}

/** The variant of `c` capped at `maxMemoryMb` (uncapped when undefined). */
export function variantFor(c: LoadedComponent, maxMemoryMb?: number): Variant {
  const pages = maxMemoryMb === undefined ? undefined : Math.max(1, Math.floor((maxMemoryMb * 2 ** 20) / PAGE));
  // Keys travel with every task message: keep them short.
  let short = shortIds.get(c.hash);
  if (short === undefined) shortIds.set(c.hash, (short = shortIds.size.toString(36)));
  const key = pages === undefined ? short : `${short}:${pages}`;
  let v = variants.get(key);
  if (!v) {
    const cap = pages === undefined ? {} : { maxBytes: pages * PAGE };
    if (c.engine === 'jco') {
      if (!c.jco) throw new ComponentError('component was loaded without its jco glue');
      const { restorable } = c.jco;
      const cores: [string, WebAssembly.Module][] = [...c.jco.cores].map(([name, bytes]) => {
        const capped = pages !== undefined && definesMemory(bytes) ? capMemory(bytes, pages) : bytes;
        return [name, restorable ? compile(sandboxCore(capped, true)) : capped === bytes ? c.jco!.compiled.get(name)! : compile(capped)];
      });
      v = { engine: 'jco', key, entry: c.jco.entry, cores, restorable, ...cap };
    } else {
      if (!c.lean) throw new ComponentError('component has no core module for the lean engine');
      let bytes = sandboxed.get(c.hash);
      if (!bytes) sandboxed.set(c.hash, (bytes = sandboxCore(c.lean.coreBytes, c.lean.resettable)));
      if (pages !== undefined) bytes = capMemory(bytes, pages);
      v = { engine: 'lean', key, module: compile(bytes), ...cap };
    }
    variants.set(key, v);
  }
  return v;
}
