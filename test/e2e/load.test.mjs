// load(): listings, validation, caching, isolation and the engine option, through the public API.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { build, load, ComponentModule, ComponentInstance, ComponentError, TaskError } from 'tsray';
import { ROOT, scratch, prebuilt } from '../helpers/components.mjs';
import { withMetadata } from '../helpers/wat-components.mjs';

/** Awaits `p`, expecting a ComponentError with code ERR_COMPONENT whose message matches `re`. */
async function refuses(t, p, re, what) {
  const e = await p.then(() => undefined, (err) => err);
  t.ok(e instanceof ComponentError, `${what}: rejects with ComponentError (got ${e?.constructor?.name ?? 'no error'})`);
  t.equal(e?.code, 'ERR_COMPONENT', `${what}: code ERR_COMPONENT`);
  t.match(e?.message, re, `${what}: message says why`);
}

/** Walks the top-level sections of a wasm binary (module or component). */
function sections(bytes) {
  const out = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++];
    let size = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    out.push({ id, start: pos, end: pos + size });
    pos += size;
  }
  return out;
}

/** tsray:runtime rewritten as a nested package block, for a self-contained witSource. */
const RUNTIME_NESTED = readFileSync(join(ROOT, 'wit', 'runtime.wit'), 'utf8')
  .replace(/^package tsray:runtime;/m, 'package tsray:runtime {') + '\n}\n';

const matrixBuild = build({ entry: join(ROOT, 'guest', 'examples', 'matrix.ts'), wit: join(ROOT, 'wit'), world: 'matrix' });

t.test('a built example lists its functions', async (t) => {
  const mod = await load(await prebuilt('matrix'));
  t.ok(mod instanceof ComponentModule);
  t.equal(mod.engineName, 'lean', 'lean is the default engine');
  t.equal(`${mod.world.packageName}/${mod.world.name}`, 'tsray:examples/matrix');
  t.strictSame(mod.functions.map((f) => f.name), ['sum', 'scale', 'matmul', 'add', 'sum-rows']);
  const byName = Object.fromEntries(mod.functions.map((f) => [f.name, f]));
  t.strictSame(byName.sum.params, [{ name: 'm', type: 'list<f64>' }]);
  t.equal(byName.sum.result, 'f64');
  t.equal(byName.sum.signature, 'sum: func(m: list<f64>) -> f64');
  t.strictSame(byName.scale.params, [{ name: 'm', type: 'list<f64>' }, { name: 'k', type: 'f64' }]);
  t.equal(byName.scale.result, 'list<f64>');
  t.equal(byName.scale.signature, 'scale: func(m: list<f64>, k: f64) -> list<f64>');
  t.strictSame(byName.matmul.params, [{ name: 'a', type: 'matrix' }, { name: 'b', type: 'matrix' }]);
  t.equal(byName.matmul.result, 'result<matrix, string>');
  t.equal(byName.matmul.signature, 'matmul: func(a: matrix, b: matrix) -> result<matrix, string>');
  t.strictSame(byName.add.params, [{ name: 'a', type: 's32' }, { name: 'b', type: 's32' }]);
  t.equal(byName.add.result, 's32');
  t.equal(byName.add.signature, 'add: func(a: s32, b: s32) -> s32');
  for (const f of mod.functions) t.equal(f.interface, undefined, `${f.name} is a world-level export`);
  t.strictSame(mod.resources, [], 'matrix exports no resources');
  t.equal(mod.function('sum').signature, 'sum: func(m: list<f64>) -> f64', 'function() looks one up');
});

t.test('the counter example lists its resource', async (t) => {
  const mod = await load(await prebuilt('counter'));
  t.strictSame(mod.functions, [], 'no freestanding functions');
  t.equal(mod.resources.length, 1);
  const [r] = mod.resources;
  t.equal(r.name, 'counter');
  t.equal(r.interface, 'tsray:examples/counters');
  t.ok(r.ctor, 'has a constructor');
  t.strictSame(r.ctor.params, [{ name: 'start', type: 's64' }]);
  t.equal(r.ctor.result, undefined, 'the constructor lists no result');
  t.match(r.ctor.signature, /constructor\(start: s64\)/);
  t.strictSame(r.methods.map((m) => m.name), ['[method]counter.incr', '[method]counter.get', '[method]counter.slow-incr', '[method]counter.crash', '[method]counter.absorb', '[method]counter.placement']);
  const [incr, get] = r.methods;
  t.strictSame(incr.params, [{ name: 'by', type: 's64' }], 'self is not listed');
  t.equal(incr.result, 's64');
  t.equal(incr.signature, 'counter.incr: func(by: s64) -> s64');
  t.strictSame(get.params, []);
  t.equal(get.result, 's64');
  t.equal(get.signature, 'counter.get: func() -> s64');
  t.strictSame(r.statics, []);
});

t.test('validation refuses bad input with ComponentError', async (t) => {
  const real = await prebuilt('matrix');
  const { core } = await matrixBuild;

  let seed = 12345;
  const random = new Uint8Array(4096).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
  await refuses(t, load(random), /not a WebAssembly binary/, 'random bytes');
  await refuses(t, load(new Uint8Array(0)), /not a WebAssembly binary/, 'empty bytes');
  await refuses(t, load(real.slice(0, real.length >> 1)), /malformed|truncated|past the end/, 'first half of a component');
  await refuses(t, load(core), /core WebAssembly module, not a component/, 'a core module');
  await refuses(t, load(join(scratch(), 'missing.wasm')), /cannot read component .*missing\.wasm/, 'a missing file');
  await refuses(t, load(42), /file path, a Uint8Array or an ArrayBuffer/, 'a number');

  // Flip bytes in the middle of the code section of the core module inside the component.
  const coreSection = sections(real).find((s) => s.id === 1);
  const inner = real.subarray(coreSection.start, coreSection.end);
  const code = sections(inner).find((s) => s.id === 10);
  t.ok(code, 'the embedded core module has a code section');
  const broken = real.slice();
  const mid = coreSection.start + Math.floor((code.start + code.end) / 2);
  for (let i = mid; i < mid + 16; i++) broken[i] ^= 0xff;
  await refuses(t, load(broken), /invalid core module|malformed/, 'corrupted code section');

  // Flip bytes inside a component-level (non-core) section: the component type section at the start.
  const typeSection = sections(real).find((s) => s.id === 7);
  const broken2 = real.slice();
  const mid2 = Math.floor((typeSection.start + typeSection.end) / 2);
  for (let i = mid2; i < mid2 + 8; i++) broken2[i] ^= 0xff;
  await refuses(t, load(broken2), /malformed component/, 'corrupted component type section');

  // The originals still load (the corruptions above worked on copies).
  const ok = await load(real);
  t.equal(ok.functions.length, 5);
});

t.test('a component importing something no host serves is refused', async (t) => {
  const { core } = await matrixBuild;
  const wit = `package demo:sneaky;
world matrix {
  include tsray:runtime/task;
  import wasi:filesystem/types@0.2.0;
  record matrix { rows: u32, cols: u32, data: list<f64> }
  export sum: func(m: list<f64>) -> f64;
  export scale: func(m: list<f64>, k: f64) -> list<f64>;
  export matmul: func(a: matrix, b: matrix) -> result<matrix, string>;
  export add: func(a: s32, b: s32) -> s32;
}
package wasi:filesystem@0.2.0 { interface types { descriptor-flags: func() -> u32; } }
${RUNTIME_NESTED}`;
  const component = await componentNew(await componentEmbed({ binary: core, witSource: wit, world: 'demo:sneaky/matrix' }));
  // The core module never calls the import, so the component does not import it: what counts is the binary, not the WIT it came from.
  const unused = await load(withMetadata(component, { world: 'demo:sneaky/matrix', wit }));
  t.strictSame(unused.world.imports.map((i) => i.name), ['tsray:runtime/host'], 'an import the core module never uses is not in the component');

  // A core module that really calls a wasi import, wrapped with metadata that hides it:
  // the binary's own imports are checked, not just the metadata's claim.
  const clean = `package demo:sneaky;
world w {
  include tsray:runtime/task;
  export add: func(a: s32, b: s32) -> s32;
}
${RUNTIME_NESTED}`;
  const dirty = clean.replace('export add', 'import wasi:filesystem/types@0.2.0;\n  export add') +
    'package wasi:filesystem@0.2.0 { interface types { descriptor-flags: func() -> u32; } }\n';
  const sneakyCore = await parse(`(module
    (import "wasi:filesystem/types@0.2.0" "descriptor-flags" (func $df (result i32)))
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
    (func (export "add") (param i32 i32) (result i32) call $df local.get 0 i32.add local.get 1 i32.add))`);
  const sneaky = await componentNew(await componentEmbed({ binary: sneakyCore, witSource: dirty, world: 'demo:sneaky/w' }));
  await refuses(t, load(withMetadata(sneaky, { world: 'demo:sneaky/w', wit: clean })), /'wasi:filesystem\/types@0\.2\.0#descriptor-flags' \(the WASI host has no such function\)/, 'metadata hiding a real import of a WASI function the host does not have');

  // Control: the same construction without the wasi import loads and runs.
  const honestCore = await parse(`(module
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))`);
  const honest = await componentNew(await componentEmbed({ binary: honestCore, witSource: clean, world: 'demo:sneaky/w' }));
  const mod = await load(withMetadata(honest, { world: 'demo:sneaky/w', wit: clean }));
  t.equal(await mod.call('add', [2, 3]), 5, 'the control component loads and runs');
});

t.test('caching: the same bytes load twice to the same hash', async (t) => {
  const bytes = await prebuilt('matrix');
  const expected = createHash('sha256').update(bytes).digest('hex');
  const a = await load(bytes);
  const b = await load(bytes.slice());
  t.equal(a.hash, expected, 'hash is the sha256 of the component bytes');
  t.equal(b.hash, a.hash);
  t.not(a, b, 'each load returns its own module');
  t.strictSame(b.functions, a.functions);
  t.equal(await b.call('add', [2, 3]), 5, 'the second (cached) load works');
  t.equal(await a.call('add', [4, 5]), 9);

  // A file path and an ArrayBuffer give the same module.
  const file = join(scratch(), 'm.wasm');
  writeFileSync(file, bytes);
  const c = await load(file);
  t.equal(c.hash, expected, 'loaded from a path');
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const d = await load(ab);
  t.equal(d.hash, expected, 'loaded from an ArrayBuffer');
  t.equal(await d.call('sum', [[1, 2]]), 3);

  const other = await load(await prebuilt('text'));
  t.not(other.hash, a.hash, 'different bytes hash differently');
});

t.test('isolation between instances', async (t) => {
  const mod = await load(await prebuilt('counter'));
  const a = await mod.instantiate();
  const b = await mod.instantiate();
  t.ok(a instanceof ComponentInstance);
  t.not(a, b);
  const ca = a.construct('counter', [10n]);
  const cb = b.construct('counter', [10n]);
  t.equal(ca.call('incr', [5n]), 15n);
  t.equal(ca.call('incr', [5n]), 20n);
  t.equal(cb.call('get'), 10n, "B's counter does not see A's increments");
  t.equal(cb.call('incr', [1n]), 11n);
  t.equal(ca.call('get'), 20n, "A's counter does not see B's increments");
  a.dispose();
  t.throws(() => ca.call('get'), TaskError, "a disposed instance's handle is dead");
  t.equal(cb.call('get'), 11n, 'B outlives A');
  b.dispose();
});

t.test('call() uses a fresh instance each time', async (t) => {
  const faulty = await load(await prebuilt('faulty'));
  await t.rejects(faulty.call('trap'), TaskError);
  t.equal(await faulty.call('divide', [9, 3]), 3, 'a trap in one call does not poison the next');
  const inst = await faulty.instantiate();
  t.throws(() => inst.call('trap'), TaskError);
  t.throws(() => inst.call('divide', [9, 3]), TaskError, 'whereas a trapped instance stays dead');

  const slow = await load(await prebuilt('slow'));
  const env = (id) => ({ taskInfo: () => ({ taskId: id, nodeId: 'n', attempt: 0, acceleratorIds: new Uint32Array(0) }) });
  t.match(await slow.call('nap', [0], env('first')), /task first /);
  t.match(await slow.call('nap', [0], env('second')), /task second /, 'each call gets its own env');
});

t.test('engine option', async (t) => {
  const matrix = await prebuilt('matrix');
  const text = await prebuilt('text');
  const lean = await load(matrix);
  const jco = await load(matrix, { engine: 'jco' });
  t.equal(jco.engineName, 'jco');
  t.equal(jco.hash, lean.hash);
  t.strictSame(jco.functions, lean.functions);
  const m = new Float64Array([1.5, 2.25, -4]);
  t.equal(await jco.call('sum', [m]), -0.25);
  t.equal(await jco.call('sum', [m]), await lean.call('sum', [m]));
  const tl = await load(text);
  const tj = await load(text, { engine: 'jco' });
  t.equal(await tj.call('greet', ['Ada']), 'Hello, Ada!');
  t.equal(await tj.call('greet', ['Grace']), await tl.call('greet', ['Grace']));
  await refuses(t, load(matrix, { engine: 'wasmtime' }), /unknown engine 'wasmtime'/, 'unknown engine');
});
