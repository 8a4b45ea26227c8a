// Hand-made components that try to outwit load() or the pooled sandbox: reserved names,
// state a reset could miss, metadata that lies, and WIT built to exhaust the host.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ComponentError } from 'tsray';
import { CORE_BASICS, handWit, watComponent, withCustomSection } from '../helpers/wat-components.mjs';
import { STATEFUL } from '../helpers/fresh-modules.mjs';

/** Awaits `p`, expecting a ComponentError whose message matches `re`. */
async function refuses(t, p, re, what) {
  const e = await p.then(() => undefined, (err) => err);
  t.ok(e instanceof ComponentError, `${what}: rejects with ComponentError (got ${e?.constructor?.name ?? 'no error'}: ${e?.message})`);
  t.match(e?.message, re, `${what}: message says why`);
  return e;
}

const BUMP = ['bump: func() -> s32;'];

t.test('every task sees a fresh instance, whatever state the core module keeps', async (t) => {
  // One worker, so every task after the first runs in a pooled instance unless the reset refuses it.
  await tsray.init({ numCpus: 1, spillDir: mkdtempSync(join(tmpdir(), 'tsray-hostile-')) });
  t.teardown(() => tsray.shutdown());
  for (const [name, { wat, fresh }] of Object.entries(STATEFUL)) {
    const mod = await tsray.load(await watComponent(wat, BUMP));
    const one = [];
    for (let i = 0; i < 4; i++) one.push(await tsray.get(mod.fn('bump').remote()));
    t.strictSame(one, [fresh, fresh, fresh, fresh], `${name}: one task at a time`);
    const many = await tsray.get(Array.from({ length: 8 }, () => mod.fn('bump').remote()));
    t.strictSame(many, new Array(8).fill(fresh), `${name}: queued tasks`);
  }
});

t.test('core exports under the host\'s reserved prefix are refused at load', async (t) => {
  const counter = `(global $n (mut i32) (i32.const 0))
    (func (export "bump") (result i32) (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))`;
  const cases = {
    'a function named like a global the host exports': `(func (export "__tsray_global_0") (result i32) i32.const 0)`,
    'a global named like one the host exports': `(global (export "__tsray_global_0") i32 (i32.const 0))`,
    'any other name under the prefix': `(global (export "__tsray_anything") (mut i32) (i32.const 0))`,
  };
  for (const [what, extra] of Object.entries(cases)) {
    const wat = `(module\n    ${CORE_BASICS}\n    ${counter}\n    ${extra})`;
    const name = /export "([^"]+)"\) (?:\(result|i32|\(mut)/.exec(extra)[1];
    await refuses(t, tsray.load(await watComponent(wat, BUMP)), new RegExp(`'${name}'.*reserved`), what);
  }
});

t.test('metadata that lies about a signature is refused at load, not met on a call', async (t) => {
  const add = `(module\n    ${CORE_BASICS}\n    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;
  const honest = await tsray.load(await watComponent(add, ['add: func(a: s32, b: s32) -> s32;']));
  t.equal(await honest.call('add', [2, 3]), 5, 'control: the honest component loads and runs');

  const e = await refuses(t, tsray.load(await watComponent(add, ['add: func(a: s32, b: s32) -> s32;'], {
    metaWit: handWit(['add: func(a: u64, b: u64) -> u64;']),
  })), /core export 'add' has signature \(i32, i32\) -> \(i32\).*needs \(i64, i64\) -> \(i64\)/, 'params and result of another type');
  t.equal(e?.code, 'ERR_COMPONENT');

  await refuses(t, tsray.load(await watComponent(add, ['add: func(a: s32, b: s32) -> s32;'], {
    metaWit: handWit(['add: func(a: s32, b: s32, c: s32) -> s32;']),
  })), /core export 'add'.*\(i32, i32, i32\)/, 'one parameter more');

  await refuses(t, tsray.load(await watComponent(add, ['add: func(a: s32, b: s32) -> s32;'], {
    metaWit: handWit(['add: func(a: s32, b: s32) -> s32;', 'sub: func(a: s32, b: s32) -> s32;']),
  })), /lacks export 'sub'/, 'a function the core module does not have');

  // The component's own WIT says `now` returns s64 (so the core module may import it so); the metadata says f64.
  const now = `(module
    (import "tsray:runtime/host" "now" (func $now (result i64)))
    ${CORE_BASICS}
    (func (export "stamp") (result i64) (call $now)))`;
  const embedWit = handWit(['stamp: func() -> s64;']).replace(/now: func\(\) -> f64/, 'now: func() -> s64');
  await refuses(t, tsray.load(await watComponent(now, ['stamp: func() -> s64;'], { embedWit })),
    /imports tsray:runtime\/host#now with signature \(\) -> \(i64\).*\(\) -> \(f64\)/, 'an import of another type');
});

/** A component whose metadata carries `wit` (world demo:hand/w); the binary itself is an honest `add`. */
async function withWit(wit) {
  const add = `(module\n    ${CORE_BASICS}\n    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;
  return watComponent(add, ['add: func(a: s32, b: s32) -> s32;'], { metaWit: wit });
}

/** Expects `p` to reject with a ComponentError matching `re` within `ms`. */
async function refusesFast(t, p, re, what, ms = 2000) {
  const start = performance.now();
  const e = await refuses(t, p, re, what);
  const took = performance.now() - start;
  t.ok(took < ms, `${what}: refused in ${took.toFixed(0)} ms (limit ${ms})`);
  return e;
}

t.test('hostile WIT in metadata ends in a typed error, fast', async (t) => {
  /** The world's WIT with `defs` (type definitions) placed at the top of the world. */
  const worldWith = (defs, exports) => handWit(exports).replace('world w {', `world w {\n  ${defs.join('\n  ')}`);
  const doubling = ['type t0 = u8;', ...Array.from({ length: 40 }, (_, i) => `type t${i + 1} = tuple<t${i}, t${i}>;`)];
  const e = await refusesFast(t, tsray.load(await withWit(worldWith(doubling, ['add: func(a: t40, b: s32) -> s32;']))),
    /too large.*limit of 100000/, 'a type that doubles 40 times');
  t.ok(e?.cause instanceof tsray.WitError, 'the cause is a WitError naming the place');

  const deep = `list<${'list<'.repeat(5000)}u8${'>'.repeat(5000)}>`;
  await refusesFast(t, tsray.load(await withWit(handWit([`add: func(a: ${deep}, b: s32) -> s32;`]))), /nest deeper than 100/, '5,000-deep nesting in the text');

  const records = Array.from({ length: 3000 }, (_, i) => `record r${i + 1} { x: r${i} }`).reverse();
  await refusesFast(t, tsray.load(await withWit(worldWith(['record r0 { x: u8 }', ...records], ['add: func(a: r3000, b: s32) -> s32;']))),
    /nest deeper than 100/, 'a 3,000-deep chain of records');

  const aliases = Array.from({ length: 3000 }, (_, i) => `type a${i + 1} = a${i};`);
  await refusesFast(t, tsray.load(await withWit(worldWith(['type a0 = u8;', ...aliases], ['add: func(a: a3000, b: s32) -> s32;']))),
    /nest deeper than 100/, 'a 3,000-long chain of aliases');

  const ifaces = Array.from({ length: 2000 }, (_, i) => `interface i${i + 1} { use i${i}.{t}; g: func(x: t); }`).join('\n');
  await refusesFast(t, tsray.load(await withWit(handWit(['add: func(a: s32, b: s32) -> s32;', 'i2000;'])
    .replace('package demo:hand;', `package demo:hand;\ninterface i0 { type t = u8; }\n${ifaces}`))),
    /nest deeper than 100/, 'a 2,000-long chain of uses');

  const wide = `tuple<${Array.from({ length: 3000 }, () => 'a-record-with-a-long-name').join(', ')}>`;
  await refusesFast(t, tsray.load(await withWit(worldWith([`record a-record-with-a-long-name { ${Array.from({ length: 10 }, (_, i) => `f${i}: u64`).join(', ')} }`],
    [`add: func(a: ${wide}, b: ${wide}) -> s32;`]))), /too large/, 'wide signatures over the world budget');

  const big = new TextEncoder().encode(JSON.stringify({ world: 'demo:hand/w', wit: 'x'.repeat(2 << 20) }));
  const honest = await withWit(handWit(['add: func(a: s32, b: s32) -> s32;']));
  const eBig = await refusesFast(t, tsray.load(withCustomSection(honest.slice(0, 8), 'tsray:wit', big)), /above the limit/, 'a 2 MiB metadata section');
  t.ok(eBig instanceof ComponentError);
});

t.test('hostile WIT files end in WitError at build', async (t) => {
  const deep = `list<${'list<'.repeat(5000)}u8${'>'.repeat(5000)}>`;
  const dir = mkdtempSync(join(tmpdir(), 'tsray-wit-'));
  writeFileSync(join(dir, 'deep.wit'), `package demo:deep;\nworld w {\n  include tsray:runtime/task;\n  export f: func(a: ${deep});\n}\n`);
  const start = performance.now();
  const e = await tsray.build({ entry: join(dir, 'missing.ts'), wit: dir, world: 'w' }).then(() => undefined, (x) => x);
  t.ok(e instanceof tsray.WitError, `a WitError (got ${e?.constructor?.name}: ${e?.message?.slice(0, 200)})`);
  t.match(e?.message, /deep\.wit:4:\d+: types nest deeper than 100 levels/, 'it names the file, line and the limit');
  t.ok(performance.now() - start < 2000, 'at once');
});
