// A hand-assembled component whose results and log lines attack the host:
// aliased lists and strings, out-of-bounds pointers, a 600 MiB string,
// invalid UTF-8, log floods, forged log lines and forged last words.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { ROOT } from './components.mjs';
import { withMetadata } from './wat-components.mjs';

export const MiB = 2 ** 20;

/** The text `forge` logs: a newline and a fake host line, a carriage return, CSI and OSC sequences, a bidi override, a C1 CSI. */
export const FORGED = 'harmless\n[0123456789abcdef warn] forged host line\r\x1b[2J\x1b]0;title\x07\u202e reversed \u009b31m end';

const RUNTIME_NESTED = readFileSync(join(ROOT, 'wit', 'runtime.wit'), 'utf8')
  .replace(/^package tsray:runtime;/m, 'package tsray:runtime {') + '\n}\n';

export const WIT = `package demo:hostile;
world w {
  include tsray:runtime/task;
  export strs: func(n: u32) -> list<string>;
  export lists: func(n: u32) -> list<list<u8>>;
  export span: func(ptr: u32, len: u32) -> string;
  export huge: func() -> string;
  export bad-utf8: func() -> string;
  export oob: func() -> list<u8>;
  export spam: func(n: u32, len: u32);
  export forge: func();
  export die: func();
  export add: func(a: s32, b: s32) -> s32;
}
${RUNTIME_NESTED}`;

const wat = (s) => [...new TextEncoder().encode(s)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');

// Memory: 0..8 KiB list entries, 16384 the return area, 32768 data, 65536.. a 1 MiB region of 'a'.
const CORE = `(module
  (import "tsray:runtime/host" "log" (func $log (param i32 i32 i32)))
  (memory (export "memory") 18)
  (data (i32.const 32768) "ok\\ff\\fe")
  (data (i32.const 33024) "${wat(FORGED)}")
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 49152)
  (func $fill (local $p i32)
    (local.set $p (i32.const 65536))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (i32.const ${65536 + MiB})))
      (i32.store (local.get $p) (i32.const 0x61616161))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br $l))))
  ;; n list entries (ptr, len), each the whole 1 MiB region, then the list itself in the return area
  (func $alias (param $n i32) (result i32) (local $i i32)
    (call $fill)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store (i32.mul (local.get $i) (i32.const 8)) (i32.const 65536))
      (i32.store offset=4 (i32.mul (local.get $i) (i32.const 8)) (i32.const ${MiB}))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
    (i32.store (i32.const 16384) (i32.const 0))
    (i32.store (i32.const 16388) (local.get $n))
    (i32.const 16384))
  (func $pair (param i32 i32) (result i32)
    (i32.store (i32.const 16384) (local.get 0))
    (i32.store (i32.const 16388) (local.get 1))
    (i32.const 16384))
  (func (export "strs") (param i32) (result i32) (call $alias (local.get 0)))
  (func (export "lists") (param i32) (result i32) (call $alias (local.get 0)))
  (func (export "span") (param i32 i32) (result i32) (call $pair (local.get 0) (local.get 1)))
  (func (export "huge") (result i32)
    (drop (memory.grow (i32.const 9600)))
    (call $pair (i32.const 0) (i32.const ${600 * MiB})))
  (func (export "bad-utf8") (result i32) (call $pair (i32.const 32768) (i32.const 4)))
  (func (export "oob") (result i32) (i32.const -16))
  (func (export "spam") (param $n i32) (param $len i32) (local $i i32)
    (call $fill)
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $log (i32.const 3) (i32.const 65536) (local.get $len))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))))
  (func (export "forge") (call $log (i32.const 3) (i32.const 33024) (i32.const ${new TextEncoder().encode(FORGED).length})))
  ;; the forged text as its last words (what the SDK's abort handler sends), then a trap
  (func (export "die") (call $log (i32.const 5) (i32.const 33024) (i32.const ${new TextEncoder().encode(FORGED).length})) unreachable)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;

/** The component, with the `tsray:wit` metadata section `tsray build` adds. */
export async function hostileComponent() {
  const component = await componentNew(await componentEmbed({ binary: await parse(CORE), witSource: WIT, world: 'demo:hostile/w' }));
  return withMetadata(component, { world: 'demo:hostile/w', wit: WIT });
}
