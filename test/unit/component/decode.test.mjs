// The component-binary decoder: the world it reads from a component's own type
// information equals the one tsray resolves from WIT, for every example (exports
// exactly; imports as far as the binary keeps them: only functions in use), and
// hostile binaries end in a ComponentError before anything grows without bound.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';
import { ROOT } from '../../helpers/components.mjs';
import { deepLists, doublingTuples, hugeCount, importing } from '../../helpers/raw-components.mjs';

const { evaluateComponent, MAX_DEFINITIONS } = await source('host/component/decode/evaluate.ts');
const { worldOf } = await source('host/component/decode/to-world.ts');
const { componentParts } = await source('host/component/binary.ts');
const { worldFromText } = await source('host/wit/load.ts');
const { ComponentError } = await source('host/errors.ts');

/** JSON with Map entries and object keys in a fixed order, to compare worlds structurally. */
const canon = (x) => (x instanceof Map ? canon(Object.fromEntries(x)) : Array.isArray(x) ? x.map(canon)
  : x && typeof x === 'object' ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, canon(x[k])])) : x);
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));

t.test('every example: the binary gives the world the WIT gives', async (t) => {
  const files = readdirSync(join(ROOT, 'build')).filter((f) => /^[a-z-]+\.wasm$/.test(f));
  t.ok(files.length >= 8, `examples built (${files.length})`);
  for (const f of files) {
    const bytes = readFileSync(join(ROOT, 'build', f));
    const meta = componentParts(bytes).metadata;
    const want = worldFromText(meta.wit, meta.world);
    const got = worldOf(evaluateComponent(bytes));
    t.ok(same(got.exports, want.exports), `${f}: exports`);
    for (const imp of got.imports) {
      const w = want.imports.find((x) => x.name === imp.name);
      t.ok(w, `${f}: import ${imp.name} is in the WIT world`);
      for (const fn of imp.iface.funcs) t.ok(same(fn, w?.iface.funcs.find((x) => x.name === fn.name)), `${f}: ${imp.name}#${fn.name}`);
    }
  }
});

t.test('types arrive with their names, owners and shapes', async (t) => {
  const counter = worldOf(evaluateComponent(readFileSync(join(ROOT, 'build', 'counter.wasm'))));
  const iface = counter.exports[0].iface;
  t.equal(iface.name, 'tsray:examples/counters');
  t.strictSame(iface.resources, [{ name: 'counter', owner: 'tsray:examples/counters' }]);
  const absorb = iface.funcs.find((f) => f.name === '[method]counter.absorb');
  t.strictSame(absorb.params[1].type, { kind: 'record', name: 'actor-handle', owner: 'tsray:runtime/actors', fields: [{ name: 'id', type: { kind: 'string' } }] },
    'a record used from another interface keeps that interface as its owner');
  t.equal(absorb.kind, 'method');
  t.equal(absorb.shortName, 'absorb');
});

t.test('hostile binaries: bounded, typed refusals', async (t) => {
  const refuse = (what, bytes, re) => {
    const start = performance.now();
    let err;
    try { worldOf(evaluateComponent(bytes)); } catch (e) { err = e; }
    t.ok(err instanceof ComponentError, `${what}: ComponentError (${err?.constructor?.name}: ${err?.message?.slice(0, 100)})`);
    t.match(err?.message, re, `${what}: says why`);
    t.ok(performance.now() - start < 2000, `${what}: fast`);
  };
  t.strictSame(worldOf(evaluateComponent(deepLists(3))).imports[0].func.params[0].type.elem.elem.elem.elem, { kind: 'u8' }, 'control: a shallow list reads');
  refuse('5,000 nested lists', deepLists(5000), /nest deeper than 100/);
  refuse('a tuple doubled 40 times', doublingTuples(40), /too large/);
  refuse('a count of 2^31 types', hugeCount(2 ** 31), /longer than its section/);
  refuse('a type index past the end', importing([[0x70, 0x05]]), /type index 5 out of range/);
  refuse('an unknown type constructor', importing([[0x55]]), /unsupported type constructor 0x55/);
  refuse('a truncated binary', deepLists(3).slice(0, 20), /runs past the end|unexpected end/);
  refuse('not a component', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), /not a component/);
  t.ok(MAX_DEFINITIONS >= 100_000, 'the definition budget is generous for real components');
});
