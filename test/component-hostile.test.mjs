// Hand-made components that try to outwit load() or the pooled sandbox: reserved names,
// state a reset could miss, metadata that lies.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ComponentError } from 'tsray';
import { CORE_BASICS, handWit, watComponent } from './helpers/wat-components.mjs';
import { STATEFUL } from './helpers/fresh-modules.mjs';

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

