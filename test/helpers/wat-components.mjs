// Hand-assembled components: a core module written in WAT, wrapped the way `tsray build` wraps one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ROOT } from './components.mjs';

/** tsray:runtime rewritten as a nested package block, for a self-contained witSource. */
export const RUNTIME_NESTED = readFileSync(join(ROOT, 'wit', 'runtime.wit'), 'utf8')
  .replace(/^package tsray:runtime;/m, 'package tsray:runtime {') + '\n}\n';

/** Unsigned LEB128 bytes of `n`. */
export function leb(n) {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** A custom section `name` holding `data`, as bytes (id 0, size, name, data). */
export function customSection(name, data) {
  const n = new TextEncoder().encode(name);
  const payload = [...leb(n.length), ...n, ...data];
  return new Uint8Array([0, ...leb(payload.length), ...payload]);
}

/** Appends a custom section `name` holding `data` to wasm bytes. */
export function withCustomSection(bytes, name, data) {
  return new Uint8Array([...bytes, ...customSection(name, data)]);
}

/** Appends a `tsray:wit` metadata section (what `tsray build` adds) to component bytes. */
export function withMetadata(bytes, meta) {
  return withCustomSection(bytes, 'tsray:wit', new TextEncoder().encode(JSON.stringify(meta)));
}

/** WIT text of package `demo:hand` with world `w` exporting `exports` (WIT lines). */
export function handWit(exports) {
  return `package demo:hand;\nworld w {\n  include tsray:runtime/task;\n${exports.map((e) => `  export ${e}\n`).join('')}}\n${RUNTIME_NESTED}`;
}

/**
 * A component from a WAT core module (which must export `memory` and
 * `cabi_realloc`) and the WIT lines its world exports. To make it lie,
 * `opts.metaWit` replaces the WIT text put in the tsray:wit metadata and
 * `opts.embedWit` the WIT the component itself is built from. `opts.metadata: false`
 * leaves tsray's metadata out (a component as any other toolchain makes it).
 */
export async function watComponent(wat, exports, opts = {}) {
  const wit = handWit(exports);
  const core = await parse(wat);
  const component = await componentNew(await componentEmbed({ binary: core, witSource: opts.embedWit ?? wit, world: 'demo:hand/w' }));
  return opts.metadata === false ? component : withMetadata(component, { world: 'demo:hand/w', wit: opts.metaWit ?? wit });
}

/** The two exports every hand-made core module needs. */
export const CORE_BASICS = `(memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)`;
