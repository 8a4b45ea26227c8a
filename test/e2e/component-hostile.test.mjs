// Hand-made components that try to outwit load() or the pooled sandbox: reserved names,
// state a reset could miss, metadata that lies, and types built to exhaust the host.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ComponentError } from 'tsray';
import { CORE_BASICS, handWit, watComponent, withCustomSection } from '../helpers/wat-components.mjs';
import { STATEFUL } from '../helpers/fresh-modules.mjs';
import { deepLists, doublingTuples, hugeCount } from '../helpers/raw-components.mjs';

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

t.test('metadata that lies changes nothing: the binary\'s own types decide', async (t) => {
  const add = `(module\n    ${CORE_BASICS}\n    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;
  const lies = {
    'params and result of another type': ['add: func(a: u64, b: u64) -> u64;'],
    'one parameter more': ['add: func(a: s32, b: s32, c: s32) -> s32;'],
    'a function the core module does not have': ['add: func(a: s32, b: s32) -> s32;', 'sub: func(a: s32, b: s32) -> s32;'],
  };
  for (const [what, metaExports] of Object.entries(lies)) {
    const mod = await tsray.load(await watComponent(add, ['add: func(a: s32, b: s32) -> s32;'], { metaWit: handWit(metaExports) }));
    t.strictSame(mod.functions.map((f) => f.signature), ['add: func(a: s32, b: s32) -> s32'], `${what}: the world is the binary's`);
    t.equal(await mod.call('add', [2, 3]), 5, `${what}: calls use the real signature`);
  }

  // The component's own type says tsray's host function \`now\` returns s64; the host's returns f64.
  const now = `(module
    (import "tsray:runtime/host" "now" (func $now (result i64)))
    ${CORE_BASICS}
    (func (export "stamp") (result i64) (call $now)))`;
  const embedWit = handWit(['stamp: func() -> s64;']).replace(/now: func\(\) -> f64/, 'now: func() -> s64');
  const e = await refuses(t, tsray.load(await watComponent(now, ['stamp: func() -> s64;'], { embedWit })),
    /'tsray:runtime\/host#now' as \(\) -> s64, but the host provides \(\) -> f64/, 'a host import declared with another type');
  t.equal(e?.code, 'ERR_COMPONENT');
  const nuke = handWit(['stamp: func() -> s64;']).replace(/now: func\(\) -> f64;/, 'now: func() -> f64;\n  nuke: func() -> s64;');
  const nukeWat = now.replace('"now" (func $now', '"nuke" (func $now');
  await refuses(t, tsray.load(await watComponent(nukeWat, ['stamp: func() -> s64;'], { embedWit: nuke })),
    /'tsray:runtime\/host#nuke' \(tsray:runtime has no such function\)/, 'a host function tsray does not have');
});

/** Expects `p` to reject with a ComponentError matching `re` within `ms`. */
async function refusesFast(t, p, re, what, ms = 2000) {
  const start = performance.now();
  const e = await refuses(t, p, re, what);
  const took = performance.now() - start;
  t.ok(took < ms, `${what}: refused in ${took.toFixed(0)} ms (limit ${ms})`);
  return e;
}

t.test('hostile component types end in a typed error, fast', async (t) => {
  await refusesFast(t, tsray.load(deepLists(5000)), /malformed component: [\s\S]*nesting is too deep/, '5,000-deep nested lists');
  await refusesFast(t, tsray.load(doublingTuples(40)), /malformed component: [\s\S]*type size exceeds/, 'a type that doubles 40 times');
  await refusesFast(t, tsray.load(hugeCount(2 ** 31)), /malformed component/, 'a type section claiming 2^31 types');
  await refusesFast(t, tsray.load(deepLists(3)), /'f' \(a function no host serves\)/, 'an import no host serves');

  const big = new TextEncoder().encode(JSON.stringify({ world: 'demo:hand/w', wit: 'x'.repeat(2 << 20) }));
  const add = `(module\n    ${CORE_BASICS}\n    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`;
  const honest = await watComponent(add, ['add: func(a: s32, b: s32) -> s32;']);
  const eBig = await refusesFast(t, tsray.load(withCustomSection(honest.slice(0, 8), 'tsray:wit', big)), /above the limit/, 'a 2 MiB metadata section');
  t.ok(eBig instanceof ComponentError);
});

t.test('hostile WIT files end in WitError at build', async (t) => {
  const deep = `list<${'list<'.repeat(5000)}u8${'>'.repeat(5000)}>`;
  const dir = mkdtempSync(join(tmpdir(), 'tsray-wit-'));
  writeFileSync(join(dir, 'deep.wit'), `package demo:deep;\nworld w {\n  include tsray:runtime/task;\n  export f: func(a: ${deep});\n}\n`);
  // build() loads the compiler on first use: load it before the clock starts, so the time is the WIT's alone.
  writeFileSync(join(dir, 'ok.wit'), 'package demo:ok;\nworld w { export f: func(); }\n');
  await tsray.build({ entry: join(dir, 'missing.ts'), wit: join(dir, 'ok.wit'), world: 'w' }).catch(() => undefined);
  const start = performance.now();
  const e = await tsray.build({ entry: join(dir, 'missing.ts'), wit: join(dir, 'deep.wit'), world: 'w' }).then(() => undefined, (x) => x);
  t.ok(e instanceof tsray.WitError, `a WitError (got ${e?.constructor?.name}: ${e?.message?.slice(0, 200)})`);
  t.match(e?.message, /deep\.wit:4:\d+: types nest deeper than 100 levels/, 'it names the file, line and the limit');
  t.ok(performance.now() - start < 2000, 'at once');
});
