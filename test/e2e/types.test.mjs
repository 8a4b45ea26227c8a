// Every WIT type round-trips host -> guest -> host, on the lean engine, and
// matches jco's independent implementation of the canonical ABI.
import t from 'tap';
import { load, TaskError, ArgumentTypeError, ResourceHandle } from 'tsray';
import { kitchen } from '../helpers/components.mjs';

const P = (x, y, label) => ({ x, y, label });
const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`m${i}`, i % 3 === 0]));

// [function, args, expected]; `expected` defaults to args[0] (an echo).
const cases = [
  ['echo-bool', [true]], ['echo-bool', [false]],
  ['echo-s8', [-128]], ['echo-s8', [127]], ['echo-u8', [255]], ['echo-s16', [-32768]], ['echo-u16', [65535]],
  ['echo-s32', [-2147483648]], ['echo-u32', [4294967295]],
  ['echo-s64', [-(2n ** 63n)]], ['echo-s64', [2n ** 63n - 1n]], ['echo-u64', [2n ** 64n - 1n]], ['echo-u64', [5], 5n],
  ['echo-f32', [1.5]], ['echo-f32', [-0.15625]], ['echo-f64', [Math.PI]], ['echo-f64', [-Infinity]],
  ['echo-char', ['a']], ['echo-char', ['é']], ['echo-char', ['🎉']],
  ['echo-string', ['héllo 🌍']], ['echo-string', ['']], ['echo-string', ['x'.repeat(100_000)]],
  ['echo-u8s', [new Uint8Array([0, 255, 7])]], ['echo-s8s', [new Int8Array([-128, 127])]],
  ['echo-u16s', [new Uint16Array([65535, 1])]], ['echo-s16s', [new Int16Array([-3, 32767])]],
  ['echo-u32s', [new Uint32Array([4294967295, 0])]], ['echo-s32s', [new Int32Array([-1, 2147483647])]],
  ['echo-u64s', [new BigUint64Array([2n ** 64n - 1n, 0n])]], ['echo-s64s', [new BigInt64Array([-5n, 2n ** 63n - 1n])]],
  ['echo-f32s', [new Float32Array([1.5, -2.25])]], ['echo-f64s', [new Float64Array([Math.E, -0.5])]],
  ['echo-f64s', [new Float64Array(0)]], ['echo-u32s', [[1, 2, 3]], new Uint32Array([1, 2, 3])],
  ['sum-u8s', [new Uint8Array([1, 2, 3, 250])], 256],
  ['echo-point', [P(1.5, -2, 'p')]],
  ['echo-color', ['red']], ['echo-color', ['blue']],
  ['echo-perms', [{ read: true, write: false, exec: true }]], ['echo-perms', [{ write: true }], { read: false, write: true, exec: false }],
  ['echo-many', [many]],
  ['echo-shape', [{ tag: 'circle', val: 1.5 }]], ['echo-shape', [{ tag: 'rect', val: [2, 3] }]],
  ['echo-shape', [{ tag: 'poly', val: [P(1, 2, 'a'), P(3, 4, 'b')] }]], ['echo-shape', [{ tag: 'nothing' }]],
  ['echo-shape', [{ tag: 'big', val: 2n ** 64n - 1n }]],
  ['echo-bag', [{ name: 'b', tags: ['x', 'y'], shade: 'blue', access: { read: true, write: true, exec: false }, nick: 'n', score: 7, nested: { tag: 'some', val: 3 } }]],
  ['echo-bag', [{ name: 'c', tags: [], shade: 'red', access: { read: false, write: false, exec: false }, nick: undefined, score: 0, nested: { tag: 'none' } }]],
  ['echo-points', [[P(1, 2, 'a'), P(3, 4, '')]]], ['echo-points', [[]]],
  ['echo-strings', [['a', '', 'ü', '🎉']]],
  ['echo-tuple', [[7, 'x', 0.5]]],
  ['echo-opt-u32', [5]], ['echo-opt-u32', [0]], ['echo-opt-u32', [undefined]], ['echo-opt-u32', [null], undefined],
  ['echo-opt-string', ['x']], ['echo-opt-string', ['']], ['echo-opt-string', [undefined]],
  ['echo-result', [{ tag: 'ok', val: 'yes' }], 'yes'],
  ['echo-nested', [[new Uint32Array([1, 2]), new Uint32Array(0), new Uint32Array([3])]]],
  ['echo-bools', [[true, false, true]]], ['echo-chars', [['a', '🎉', 'é']]],
  ['shape-name', [{ tag: 'rect', val: [2, 3] }], 'rect 2.0x3.0'], ['shape-name', [{ tag: 'big', val: 7n }], 'big 7'],
  ['shape-name', [{ tag: 'circle', val: 0.5 }], 'circle r=0.5'], ['shape-name', [{ tag: 'nothing' }], 'nothing'],
  ['perms-count', [{ read: true, write: true, exec: true }], 3], ['perms-count', [{}], 0],
  ['check-positive', [5], 5], ['check-unit', [false], undefined],
  ['wide', Array.from({ length: 17 }, (_, i) => i + 1), 136n + 17000n],
  ['wide-points', [P(1, 1, 'a'), P(2, 2, 'b'), P(3, 3, 'c'), P(4, 4, 'd'), P(5, 5, 'e')], [P(5, 5, 'e'), P(4, 4, 'd'), P(3, 3, 'c'), P(2, 2, 'b'), P(1, 1, 'a')]],
];

const bytes = await kitchen();
const lean = await load(bytes);
const jco = await load(bytes, { engine: 'jco' });
const leanInst = await lean.instantiate();
const jcoInst = await jco.instantiate();

t.test('every type round-trips on the lean engine and matches jco', async (t) => {
  for (const [name, args, ...rest] of cases) {
    const expected = rest.length ? rest[0] : args[0];
    const got = leanInst.call(name, args);
    t.strictSame(got, expected, `${name}(${args.length > 2 ? '...' : JSON.stringify(args, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 60)})`);
    t.strictSame(jcoInst.call(name, args), got, `${name}: jco agrees`);
  }
});

t.test('an option inside an option keeps its two nones apart (lean)', async (t) => {
  const bag = { name: 'd', tags: [], shade: 'green', access: {}, nick: undefined, score: undefined, nested: undefined };
  t.strictSame(leanInst.call('echo-bag', [bag]).nested, undefined);
  t.strictSame(leanInst.call('echo-bag', [{ ...bag, nested: { tag: 'none' } }]).nested, { tag: 'none' });
});

t.test('result err becomes a TaskError carrying the payload', async (t) => {
  for (const inst of [leanInst, jcoInst]) {
    const e = t.throws(() => inst.call('check-positive', [-1]));
    t.ok(e instanceof TaskError, 'TaskError');
    t.equal(e.code, 'ERR_TASK');
    t.equal(e.functionName, 'check-positive');
    t.equal(e.payload, '-1 is not positive');
    t.match(e.message, /-1 is not positive/);
    t.equal(t.throws(() => inst.call('echo-result', [{ tag: 'err', val: 42 }])).payload, 42, 'a non-string err payload');
    const u = t.throws(() => inst.call('check-unit', [true]));
    t.equal(u.payload, 'failed as asked');
  }
});

t.test('bad values are refused with ArgumentTypeError before reaching the guest', async (t) => {
  const bad = [
    ['echo-u8', [256], /out of range 0..255/], ['echo-u8', [-1], /out of range/], ['echo-s32', [1.5], /expected s32/],
    ['echo-s64', [2n ** 63n], /out of range/], ['echo-u64', [-1n], /out of range/], ['echo-u64', [1.5], /expected u64/],
    ['echo-bool', [1], /expected bool/], ['echo-char', ['ab'], /one Unicode scalar/], ['echo-char', ['\ud800'], /one Unicode scalar/],
    ['echo-string', [5], /expected string/], ['echo-f64s', [new Float32Array(1)], /Float64Array/], ['echo-f64s', ['x'], /list<f64>/],
    ['echo-point', [{ x: 1, y: 2 }], /missing field 'label'/], ['echo-point', [{ x: 1, y: 'no', label: '' }], /field 'y'/],
    ['echo-color', ['purple'], /'red', 'green', 'blue'/], ['echo-perms', [{ fly: true }], /unknown flag 'fly'/],
    ['echo-shape', [{ tag: 'hexagon' }], /tag must be one of/], ['echo-shape', [{ tag: 'circle', val: 'big' }], /case 'circle'/],
    ['echo-tuple', [[1, 'x']], /array of 3/], ['echo-result', [{ tag: 'ok', val: 1 }], /case 'ok'/],
    ['echo-strings', [['a', 1]], /\[1\]/], ['echo-s8', [], /expected 1 argument, got 0/], ['echo-s8', [1, 2], /expected 1 argument, got 2/],
  ];
  for (const [name, args, pattern] of bad) {
    const e = t.throws(() => leanInst.call(name, args), `${name} refuses ${String(args[0])}`);
    t.ok(e instanceof ArgumentTypeError, `${name}: ArgumentTypeError`);
    t.equal(e.code, 'ERR_ARGUMENT_TYPE');
    t.match(e.message, pattern);
    t.match(e.message, name);
  }
  // The instance is untouched by refused calls.
  t.equal(leanInst.call('echo-u8', [9]), 9);
});

t.test('exported resources: constructor, methods, statics, own and borrow', async (t) => {
  for (const mod of [lean, jco]) {
    const inst = await mod.instantiate();
    const a = inst.construct('box', ['a']);
    t.ok(a instanceof ResourceHandle);
    t.equal(a.resource, 'box');
    t.equal(a.call('get'), 'a');
    a.call('set', ['A']);
    t.equal(a.call('get'), 'A', `${mod.engineName}: state persists across calls`);
    const b = inst.call('make-box', ['b']);
    t.ok(b instanceof ResourceHandle, 'own<box> result is a handle');
    t.equal(a.call('merge', [b]), 'A+b', 'borrow<box> argument');
    t.equal(inst.call('peek-box', [b]), 'peeked b');
    t.equal(b.call('get'), 'b', 'a borrowed handle stays usable');
    t.equal(inst.call('consume-box', [b]), 'consumed b', 'own<box> argument moves the handle');
    t.throws(() => b.call('get'), ArgumentTypeError, 'a moved handle is unusable');
    const s = inst.callStatic('box', 'make', ['s']);
    t.equal(s.call('get'), 'made:s');
    a.drop();
    t.throws(() => a.call('get'), ArgumentTypeError, 'a dropped handle is unusable');
    t.throws(() => inst.call('peek-box', ['not a box']), ArgumentTypeError);
    // Handles do not cross instances.
    const other = await mod.instantiate();
    t.throws(() => other.call('peek-box', [s]), ArgumentTypeError);
    t.equal(inst.construct('box', ['again']).call('get'), 'again', 'slots are reused after drops');
  }
});

t.test('a module lists its functions and resources', async (t) => {
  const names = lean.functions.map((f) => f.name);
  t.ok(names.includes('echo-u64s') && names.includes('wide-points'));
  const wide = lean.function('wide');
  t.equal(wide.params.length, 17);
  t.equal(wide.result, 'u64');
  t.equal(wide.interface, 'tsray:kitchen/types');
  t.equal(lean.function('echoBag').signature, 'echo-bag: func(v: bag) -> bag');
  const box = lean.resources.find((r) => r.name === 'box');
  t.equal(box.ctor.signature, 'box.constructor(v: string)');
  t.strictSame(box.methods.map((m) => m.name), ['[method]box.get', '[method]box.set', '[method]box.merge']);
  t.strictSame(box.statics.map((m) => m.signature), ['box.static make: func(v: string) -> box']);
});
