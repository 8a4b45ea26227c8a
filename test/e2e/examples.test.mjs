// Each example's real behaviour through load() + call()/instantiate().
import t from 'tap';
import { load, ArgumentTypeError, ComponentError, TaskError } from 'tsray';
import { example } from '../helpers/components.mjs';

/** Row-major matrix product, computed in JS for the expected values. */
function matmul(a, b) {
  const data = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < b.cols; j++) {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k] * b.data[k * b.cols + j];
      data[i * b.cols + j] = s;
    }
  }
  return { rows: a.rows, cols: b.cols, data };
}

/** Runs `f`, returning the error it throws (or rejects with); fails the test when it does not throw. */
async function caught(t, f) {
  try {
    await f();
  } catch (e) {
    return e;
  }
  t.fail('expected an error');
  return undefined;
}

t.test('matrix', async (t) => {
  const mod = await load(await example('matrix'));
  const m = new Float64Array([1, 2.5, -3, 4.25]);
  t.equal(await mod.call('sum', [m]), 1 + 2.5 - 3 + 4.25);
  t.equal(await mod.call('sum', [[10, 20, 30]]), 60, 'a plain array of numbers is accepted');
  t.equal(await mod.call('sum', [new Float64Array(0)]), 0);

  const scaled = await mod.call('scale', [m, -2]);
  t.ok(scaled instanceof Float64Array, 'list<f64> comes back as a Float64Array');
  t.strictSame([...scaled], [...m].map((x) => x * -2));

  const a = { rows: 2, cols: 3, data: new Float64Array([1, 2, 3, 4, 5, 6]) };
  const b = { rows: 3, cols: 2, data: new Float64Array([7, 8, 9, 10, 11, 12]) };
  const c = await mod.call('matmul', [a, b]);
  const want = matmul(a, b);
  t.equal(c.rows, 2);
  t.equal(c.cols, 2);
  t.strictSame([...c.data], [...want.data]);
  t.strictSame([...c.data], [58, 64, 139, 154]);

  const bt = await mod.call('matmul', [b, a]);
  t.equal(bt.rows, 3);
  t.equal(bt.cols, 3);
  t.strictSame([...bt.data], [...matmul(b, a).data], '3x2 by 2x3');

  const e = await caught(t, () => mod.call('matmul', [a, { rows: 2, cols: 2, data: new Float64Array(4) }]));
  t.ok(e instanceof TaskError, 'dimension mismatch is a TaskError');
  t.equal(e.code, 'ERR_TASK');
  t.equal(e.functionName, 'matmul');
  t.equal(e.payload, 'cannot multiply 2x3 by 2x2', "payload is the guest's error string");
  t.match(e.message, /cannot multiply 2x3 by 2x2/);

  t.equal(await mod.call('add', [2, 3]), 5);
  t.equal(await mod.call('add', [-7, 2]), -5);
  t.equal(await mod.call('add', [2147483647, 1]), -2147483648, 's32 addition wraps');
});

t.test('text', async (t) => {
  const mod = await load(await example('text'));
  t.equal(await mod.call('greet', ['Ada']), 'Hello, Ada!');
  t.equal(await mod.call('greet', ['Ünïcødé ✓']), 'Hello, Ünïcødé ✓!', 'non-ASCII strings round-trip');

  const sentence = 'The cat and the dog and THE bird, a cat.';
  const want = [['the', 3], ['and', 2], ['cat', 2], ['a', 1], ['bird', 1], ['dog', 1]];
  t.strictSame(await mod.call('word-count', [sentence]), want, 'most frequent first, ties alphabetical, case folded');
  t.strictSame(await mod.call('wordCount', [sentence]), want, 'callable in camelCase');
  t.strictSame(await mod.call('wordCount', ['']), [], 'no words');
});

t.test('counter', async (t) => {
  const mod = await load(await example('counter'));
  const inst = await mod.instantiate();
  const c = inst.construct('counter', [10n]);
  t.equal(c.resource, 'counter');
  t.equal(c.call('get'), 10n);
  t.equal(c.call('incr', [5n]), 15n);
  t.equal(c.call('incr', [-20n]), -5n);
  t.equal(c.call('get'), -5n);

  const d = inst.construct('counter', [100n]);
  t.equal(d.call('incr', [1n]), 101n);
  t.equal(c.call('get'), -5n, 'two counters in one instance are independent');
  t.equal(d.call('get'), 101n);

  c.drop();
  const e = await caught(t, () => c.call('get'));
  t.ok(e instanceof ArgumentTypeError, 'a dropped handle is refused');
  t.equal(e.code, 'ERR_ARGUMENT_TYPE');
  t.equal(d.call('get'), 101n, 'dropping one counter leaves the other alive');
  inst.dispose();
});

t.test('faulty', async (t) => {
  const mod = await load(await example('faulty'));

  const trap = await caught(t, () => mod.call('trap'));
  t.ok(trap instanceof TaskError);
  t.equal(trap.code, 'ERR_TASK');
  t.equal(trap.functionName, 'trap');
  t.match(trap.message, /unreachable/);

  const fail = await caught(t, () => mod.call('fail', ['boom']));
  t.ok(fail instanceof TaskError);
  t.equal(fail.functionName, 'fail');
  t.match(fail.message, /boom/);
  t.match(fail.message, /faulty\.ts:\d+:\d+/, 'the guest source position');
  t.equal(fail.payload, undefined, 'a throw is not a result err');

  const neg = await caught(t, () => mod.call('checked-sqrt', [-4]));
  t.ok(neg instanceof TaskError);
  t.equal(neg.functionName, 'checked-sqrt');
  t.type(neg.payload, 'string');
  t.match(neg.payload, /cannot take the square root of -4/);
  t.equal(await mod.call('checked-sqrt', [16]), 4);
  t.equal(await mod.call('checkedSqrt', [2.25]), 1.5);

  const div = await caught(t, () => mod.call('divide', [1, 0]));
  t.ok(div instanceof TaskError);
  t.equal(div.functionName, 'divide');
  t.equal(await mod.call('divide', [7, 2]), 3);
  t.equal(await mod.call('divide', [-7, 2]), -3);

  const inst = await mod.instantiate();
  t.equal(inst.call('divide', [8, 2]), 4, 'the instance works before the trap');
  t.throws(() => inst.call('trap'), TaskError);
  const after = await caught(t, () => inst.call('divide', [8, 2]));
  t.ok(after instanceof TaskError, 'a trapped instance refuses further calls');
  t.equal(after.functionName, 'divide');
  const fresh = await mod.instantiate();
  t.equal(fresh.call('divide', [8, 2]), 4, 'a new instance works');
});

t.test('slow', async (t) => {
  const mod = await load(await example('slow'));
  const logs = [];
  const started = performance.now();
  const out = await mod.call('nap', [30], {
    taskInfo: () => ({ taskId: 't-1', nodeId: 'node-a', attempt: 2, acceleratorIds: new Uint32Array([0, 3]) }),
    log: (level, msg) => logs.push([level, msg]),
  });
  const took = performance.now() - started;
  t.ok(took >= 25, `nap(30) took ${took.toFixed(1)} ms`);
  t.type(out, 'string');
  t.match(out, 't-1');
  t.match(out, 'node-a');
  t.match(out, 'attempt 2');
  t.match(out, '[0,3]');
  t.equal(logs.length, 1, 'one log line');
  t.equal(logs[0]?.[0], 'debug');
  t.match(logs[0]?.[1], /^napped /);

  const dflt = await mod.call('nap', [0]);
  t.match(dflt, 'attempt 0', 'a default task context when none is given');
  t.match(dflt, '[]');
});

t.test('argument checking', async (t) => {
  const matrix = await load(await example('matrix'));
  const check = async (what, name, args, re) => {
    const e = await caught(t, () => matrix.call(name, args));
    t.ok(e instanceof ArgumentTypeError, `${what}: ArgumentTypeError (got ${e?.constructor?.name})`);
    t.ok(e instanceof ComponentError, `${what}: is a ComponentError`);
    t.equal(e?.code, 'ERR_ARGUMENT_TYPE', `${what}: code`);
    t.match(e?.message, new RegExp(`^${name}: `), `${what}: names the function`);
    t.match(e?.message, `signature: ${matrix.function(name).signature}`, `${what}: shows the signature`);
    if (re) t.match(e?.message, re, `${what}: says what is wrong`);
  };
  await check('too few', 'add', [1], /expected 2 arguments, got 1/);
  await check('too many', 'add', [1, 2, 3], /expected 2 arguments, got 3/);
  await check('none', 'sum', [], /expected 1 argument, got 0/);
  await check('string for list<f64>', 'sum', ['1,2,3'], /argument 'm'.*list<f64>/);
  await check('1.5 for s32', 'add', [1.5, 2], /argument 'a'.*s32/);
  await check('2**40 for s32', 'add', [1, 2 ** 40], /argument 'b'.*out of range/);
  await check('missing record field', 'matmul', [{ rows: 1, cols: 1 }, { rows: 1, cols: 1, data: [1] }], /argument 'a'.*missing field 'data'/);
  await check('wrong typed array', 'sum', [new Int32Array([1, 2])], /Float64Array/);

  const text = await load(await example('text'));
  const e = await caught(t, () => text.call('word-count', [42]));
  t.ok(e instanceof ArgumentTypeError);
  t.match(e?.message, /^word-count: /);
});
