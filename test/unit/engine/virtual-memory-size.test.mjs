// The virtual memory size rewrite (host/engine/virtual-memory-size.ts) on hand-written core modules: what it
// rewrites, the modules it leaves alone, and the rewritten module's growth and size as a guest sees them.
import t from 'tap';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { source } from '../../helpers/source.mjs';

const { virtualizeMemorySize } = await source('host/engine/virtual-memory-size.ts');
const { VIRTUAL_MEMORY_SIZE_EXPORT } = await source('host/abi/sandbox-names.ts');

const grows = `(func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "size") (result i32) memory.size)`;

t.test('size and grow see the virtual size; the real memory grows only past what it has', async (t) => {
  const out = await virtualizeMemorySize(await parse(`(module (memory (export "memory") 2 10) ${grows})`));
  t.ok(out, 'a module with one memory is rewritten');
  const { exports: x } = new WebAssembly.Instance(new WebAssembly.Module(out));
  const vsize = x[VIRTUAL_MEMORY_SIZE_EXPORT];
  t.ok(vsize instanceof WebAssembly.Global, 'the virtual size is exported under the reserved name');
  t.equal(x.size(), 2);
  t.equal(x.grow(3), 2, 'grow returns the old size');
  t.equal(x.size(), 5);
  t.equal(x.memory.buffer.byteLength, 5 * 65536, 'and grows the real memory');
  vsize.value = 2; // what a reset does
  t.equal(x.grow(1), 2, 'after a reset growth starts from the fresh size again');
  t.equal(x.memory.buffer.byteLength, 5 * 65536, 'within the real memory, nothing really grows');
  t.equal(x.grow(9), -1, 'past the maximum it fails');
  t.equal(x.grow(0xffffffff), -1, 'a huge delta fails without wrapping around');
  t.equal(x.size(), 3, 'and failures change nothing');
});

t.test('modules it cannot rewrite exactly are left alone', async (t) => {
  t.equal(await virtualizeMemorySize(await parse(`(module (import "env" "m" (memory 1)) ${grows})`)), undefined, 'an imported memory');
  t.equal(await virtualizeMemorySize(await parse('(module (memory (export "memory") 1) (func (export "f") (result i32) i32.const 1))')), undefined, 'a module that never asks for its size');
  t.equal(await virtualizeMemorySize(await parse(`(module (memory (export "memory") 1) (memory 1) ${grows})`)), undefined, 'two memories');
  t.equal(await virtualizeMemorySize(await parse(`(module (memory (export "memory") 1) (global $__tsray_memory_size (mut i32) (i32.const 0)) ${grows})`)), undefined, 'a module that uses the name itself');
});
