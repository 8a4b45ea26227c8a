// Remote tasks through the public runtime API: submission, argument resolution
// and checking, errors, numReturns, retries, timeouts, sandboxing, memory caps,
// value snapshots and the init/shutdown lifecycle.
import t from 'tap';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tsray from 'tsray';
import { ROOT, scratch, prebuilt } from '../helpers/components.mjs';
import { caught, sleep, withRuntime } from '../helpers/runtime.mjs';

const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Builds test/fixtures/<name>/<name>.ts for world <name> and loads it. */
async function fixture(name) {
  const dir = join(FIXTURES, name);
  const r = await tsray.build({ entry: join(dir, `${name}.ts`), wit: dir, world: name });
  return tsray.load(r.component);
}

const [matrix, text, faulty, slow, pair, state, hog, flaky] = await Promise.all([
  ...['matrix', 'text', 'faulty', 'slow'].map(async (n) => tsray.load(await prebuilt(n))),
  ...['pair', 'state', 'hog', 'flaky'].map(fixture),
]);

/** The error a synchronous `f` throws (undefined, and a failure, when it does not). */
function caughtSync(t, f, what = 'expected a synchronous throw') {
  try {
    const v = f();
    if (v && typeof v.then === 'function') v.then(() => {}, () => {});
  } catch (e) {
    return e;
  }
  t.fail(what);
  return undefined;
}

/** Objects in the embedded node's store now (a submitted task adds its pending result). */
const storedObjects = () => tsray.memory().nodes[0].store.objects;

/** Runs a nap(1) on every worker so later timings do not include worker start-up. */
async function warmUp(n) {
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(slow.fn('nap').remote(1));
  await tsray.get(refs);
}

// Must run first: the "not initialized" message is only given before any shutdown in this process.
t.test('lifecycle: before init', async (t) => {
  t.equal(tsray.isInitialized(), false);
  const r = caughtSync(t, () => matrix.fn('add').remote(1, 2));
  t.ok(r instanceof tsray.RuntimeStateError, `remote before init: RuntimeStateError (got ${r?.constructor?.name})`);
  t.equal(r?.code, 'ERR_RUNTIME_STATE');
  t.match(r?.message, /not initialized/);
  const p = caughtSync(t, () => tsray.put(1));
  t.ok(p instanceof tsray.RuntimeStateError, 'put before init: RuntimeStateError');
  t.equal(p?.code, 'ERR_RUNTIME_STATE');
  const g = await caught(t, () => tsray.get([]));
  t.ok(g instanceof tsray.RuntimeStateError, 'get before init: RuntimeStateError');
  t.equal(g?.code, 'ERR_RUNTIME_STATE');
  t.match(g?.message, /not initialized/);
});

// Topics that can share one runtime: each subtest leaves it as it found it.
t.test('tasks on one runtime', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    await t.test('remote returns a ref at once; get gives the value', async (t) => {
      const ref = matrix.fn('sum').remote(new Float64Array([1, 2, 3]));
      t.ok(ref instanceof tsray.ObjectRef, 'remote() returns an ObjectRef, not a promise');
      t.type(ref.id, 'string');
      t.equal(await tsray.get(ref), 6);
      t.equal(await tsray.get(ref), 6, 'get twice gives the same value');

      const sentence = 'the cat and the dog';
      const want = [['the', 2], ['and', 1], ['cat', 1], ['dog', 1]];
      t.strictSame(await tsray.get(text.fn('wordCount').remote(sentence)), want, 'camelCase name');
      t.strictSame(await tsray.get(text.fn('word-count').remote(sentence)), want, 'WIT name');
      t.equal(await tsray.get(text.fn('greet').remote('Ada')), 'Hello, Ada!');
    });

    await t.test('top-level ObjectRef arguments are resolved before the task runs', async (t) => {
      const add = matrix.fn('add');
      t.equal(await tsray.get(add.remote(tsray.put(40), 2)), 42, 'a put() ref');
      t.equal(await tsray.get(add.remote(add.remote(1, 2), add.remote(3, 4))), 10, 'two task refs');
      t.equal(await tsray.get(matrix.fn('sum').remote(tsray.put(new Float64Array([0.5, 1.5])))), 2, 'a list value from put()');

      let r = add.remote(0, 0);
      for (let i = 0; i < 100; i++) r = add.remote(r, 1);
      t.equal(await tsray.get(r), 100, 'a chain of 100 dependent tasks');

      // A dependency still running when the dependent is submitted.
      const slowArg = slow.fn('nap').remote(100);
      const greeting = text.fn('greet').remote(slowArg);
      t.match(await tsray.get(greeting), /^Hello, task [0-9a-f]+ on [0-9a-f]+ attempt 0/);
    });

    await t.test('a ref nested inside an argument is not resolved', async (t) => {
      const ref = tsray.put(5);
      const e1 = caughtSync(t, () => matrix.fn('sum').remote([ref]));
      t.ok(e1 instanceof tsray.ArgumentTypeError, `[ref] for list<f64>: ArgumentTypeError (got ${e1?.constructor?.name})`);
      t.equal(e1?.code, 'ERR_ARGUMENT_TYPE');
      t.match(e1?.message, /^sum: argument 'm'/);

      const m = { rows: 1, cols: 1, data: [2] };
      const e2 = caughtSync(t, () => matrix.fn('matmul').remote({ rows: ref, cols: 1, data: [1] }, m));
      t.ok(e2 instanceof tsray.ArgumentTypeError, '{ rows: ref } for u32: ArgumentTypeError');
      t.match(e2?.message, /^matmul: argument 'a'.*rows/);

      const e3 = caughtSync(t, () => matrix.fn('matmul').remote({ rows: 1, cols: 1, data: tsray.put([1]) }, m));
      t.ok(e3 instanceof tsray.ArgumentTypeError, '{ data: ref } for list<f64>: ArgumentTypeError');

      // A top-level ref to a record is resolved, though.
      const c = await tsray.get(matrix.fn('matmul').remote(tsray.put({ rows: 1, cols: 1, data: [3] }), m));
      t.strictSame([c.rows, c.cols, [...c.data]], [1, 1, [6]], 'a top-level ref to a record is resolved');

      const r1 = tsray.put('one');
      const r2 = matrix.fn('add').remote(1, 1);
      const out = await tsray.get(tsray.put([r1, r2]));
      t.ok(Array.isArray(out), 'get of a put list gives an array');
      t.equal(out.length, 2);
      t.equal(out[0].id, r1.id, 'the first element refers to the first object');
      t.not(out[0], r1, 'a ref read out of an object is a reference of its own (released on its own)');
      t.ok(out[0] instanceof tsray.ObjectRef && out[1] instanceof tsray.ObjectRef, 'elements stay refs, not values');
      t.equal(out[1].id, r2.id);
      t.equal(await tsray.get(out[1]), 2, 'and can be got on their own');
    });

    await t.test('arguments are checked at remote() time', async (t) => {
      const check = (what, fnName, args, re) => {
        const f = matrix.fn(fnName);
        const before = storedObjects();
        const e = caughtSync(t, () => f.remote(...args), `${what}: remote() throws synchronously`);
        const after = storedObjects();
        t.ok(e instanceof tsray.ArgumentTypeError, `${what}: ArgumentTypeError (got ${e?.constructor?.name})`);
        t.equal(e?.code, 'ERR_ARGUMENT_TYPE', `${what}: code`);
        t.match(e?.message, new RegExp(`^${fnName}: `), `${what}: names the function`);
        t.match(e?.message, `signature: ${f.signature}`, `${what}: shows the signature`);
        if (re) t.match(e?.message, re, `${what}: says what is wrong`);
        // A submitted task would have made a pending object for its result.
        t.equal(after, before, `${what}: nothing was submitted`);
      };
      check('too few', 'add', [1], /expected 2 arguments, got 1/);
      check('too many', 'add', [1, 2, 3], /expected 2 arguments, got 3/);
      check('none', 'sum', [], /expected 1 argument, got 0/);
      check('string for list<f64>', 'sum', ['1,2,3'], /argument 'm'/);
      check('1.5 for s32', 'add', [1.5, 2], /argument 'a'.*s32/);
      check('out of range s32', 'add', [1, 2 ** 40], /argument 'b'/);
      check('missing record field', 'matmul', [{ rows: 1, cols: 1 }, { rows: 1, cols: 1, data: [1] }], /missing field 'data'/);
      check('ref mixed with a bad value', 'add', [tsray.put(1), 'two'], /argument 'b'/);
      t.equal(await tsray.get(matrix.fn('add').remote(2, 3)), 5, 'the function still works');
    });

    await t.test('get of a list keeps order and allows duplicates', async (t) => {
      const add = matrix.fn('add');
      const a = add.remote(1, 1);
      const b = slow.fn('nap').remote(50);
      const c = tsray.put('c');
      const out = await tsray.get([a, b, a, c, b]);
      t.equal(out.length, 5);
      t.equal(out[0], 2);
      t.match(out[1], /attempt 0/);
      t.equal(out[2], 2);
      t.equal(out[3], 'c');
      t.equal(out[4], out[1]);
      t.strictSame(await tsray.get([c, a]), ['c', 2], 'order as given');
      t.strictSame(await tsray.get([]), [], 'empty list');
    });

    await t.test('task errors', async (t) => {
      const bad = faulty.fn('fail').remote('boom');
      const e = await caught(t, () => tsray.get(bad));
      t.ok(e instanceof tsray.TaskError, `a guest throw: TaskError (got ${e?.constructor?.name})`);
      t.equal(e?.code, 'ERR_TASK');
      t.equal(e?.functionName, 'fail');
      t.match(e?.guestMessage, 'boom');
      t.match(e?.guestMessage, /faulty\.ts:\d+:\d+/, 'guestMessage has the guest source position');
      t.type(e?.guestStack, 'string');
      t.ok(e?.guestStack?.length > 0, 'guestStack is not empty');
      const frames = e?.guestStack?.split('\n') ?? [];
      t.ok(frames.length > 0 && frames.every((f) => f.trim().length > 0), 'one wasm frame name per line');
      t.notOk(frames.some((f) => /\.m?js\b|node:/.test(f)), 'no JS host frames');

      const tr = await caught(t, () => tsray.get(faulty.fn('trap').remote()));
      t.ok(tr instanceof tsray.TaskError, 'a trap: TaskError');
      t.equal(tr?.functionName, 'trap');
      t.match(tr?.guestMessage, /unreachable/);
      t.type(tr?.guestStack, 'string');
      t.ok(tr?.guestStack?.length > 0, 'a trap has a guestStack too');

      const dz = await caught(t, () => tsray.get(faulty.fn('divide').remote(1, 0)));
      t.ok(dz instanceof tsray.TaskError, 'integer division by zero: TaskError');
      t.equal(dz?.functionName, 'divide');

      const neg = await caught(t, () => tsray.get(faulty.fn('checked-sqrt').remote(-4)));
      t.ok(neg instanceof tsray.TaskError, 'a result err: TaskError');
      t.match(neg?.payload, /cannot take the square root of -4/);

      // A task whose argument failed fails with the same error object.
      const dep = matrix.fn('add').remote(bad, 1);
      const de = await caught(t, () => tsray.get(dep));
      t.equal(de, e, 'the dependent fails with the very error object of its argument');
      const later = faulty.fn('fail').remote('later');
      const dep2 = text.fn('greet').remote(later);
      const d2 = await caught(t, () => tsray.get(dep2));
      t.ok(d2 instanceof tsray.TaskError, 'a dependent submitted before its argument failed');
      t.equal(d2?.functionName, 'fail', 'carries the failed task\'s function name');
      t.match(d2?.guestMessage, 'later');
      t.equal(await caught(t, () => tsray.get(later)), d2, 'the very same error object');
      const chain = matrix.fn('add').remote(matrix.fn('add').remote(faulty.fn('trap').remote(), 1), 1);
      const ce = await caught(t, () => tsray.get(chain));
      t.equal(ce?.functionName, 'trap', 'the error travels down a chain');

      t.equal(await tsray.get(matrix.fn('add').remote(20, 22)), 42, 'the node still serves tasks');
    });

    await t.test('numReturns', async (t) => {
      const divmod = pair.fn('divmod');
      t.strictSame(await tsray.get(divmod.remote(17, 5)), [3, 2], 'one ref holding the tuple by default');

      const refs = divmod.options({ numReturns: 2 }).remote(17, 5);
      t.ok(Array.isArray(refs), 'numReturns: 2 gives an array');
      t.equal(refs.length, 2);
      t.ok(refs.every((r) => r instanceof tsray.ObjectRef), 'of ObjectRefs');
      t.not(refs[0].id, refs[1].id, 'distinct refs');
      t.equal(await tsray.get(refs[0]), 3);
      t.equal(await tsray.get(refs[1]), 2);
      t.strictSame(await tsray.get(refs), [3, 2]);

      const [q, r] = divmod.options({ numReturns: 2 }).remote(tsray.put(100), 7);
      t.equal(await tsray.get(matrix.fn('add').remote(q, r)), 14 + 2, 'each part can feed another task');

      const e3 = caughtSync(t, () => divmod.options({ numReturns: 3 }));
      t.ok(e3 instanceof tsray.InvalidArgumentError, `numReturns 3 on a 2-tuple: InvalidArgumentError at options() (got ${e3?.constructor?.name})`);
      t.equal(e3?.code, 'ERR_INVALID_ARGUMENT');
      t.match(e3?.message, /tuple/);
      const ea = caughtSync(t, () => matrix.fn('add').options({ numReturns: 2 }));
      t.ok(ea instanceof tsray.InvalidArgumentError, 'numReturns 2 on an s32 result: InvalidArgumentError');
      t.match(ea?.message, /s32/);
      const e0 = caughtSync(t, () => divmod.options({ numReturns: 0 }));
      t.ok(e0 instanceof tsray.InvalidArgumentError, 'numReturns 0: InvalidArgumentError');
    });

    await t.test('every task runs in a fresh instance', async (t) => {
      const refs = [];
      for (let i = 0; i < 20; i++) refs.push(state.fn('bump').remote());
      t.strictSame(await tsray.get(refs), new Array(20).fill(1), 'module state never carries over');
      const more = [];
      for (let i = 0; i < 5; i++) more.push(await tsray.get(state.fn('bump').remote()));
      t.strictSame(more, [1, 1, 1, 1, 1], 'one at a time as well');
    });

    await t.test('values are snapshots', async (t) => {
      const arr = new Float64Array([1, 2, 3]);
      const ref = tsray.put(arr);
      arr[0] = 100;
      const got = await tsray.get(ref);
      t.ok(got instanceof Float64Array, 'a typed array stays a typed array');
      t.strictSame([...got], [1, 2, 3], 'changing the original after put() does not reach the object');
      t.equal(await tsray.get(matrix.fn('sum').remote(ref)), 6, 'nor a task that reads it');

      const nested = { name: 'n', list: [1, { deep: 'x' }], data: new Int32Array([4, 5]), n: null, big: 12n };
      const nref = tsray.put(nested);
      const want = { name: 'n', list: [1, { deep: 'x' }], data: new Int32Array([4, 5]), n: null, big: 12n };
      nested.list[1].deep = 'changed';
      nested.data[0] = -1;
      nested.name = 'other';
      t.same(await tsray.get(nref), want, 'a nested object comes back equal to what was put');

      const args = new Float64Array([1, 2, 3]);
      const sumRef = matrix.fn('sum').remote(args);
      args[0] = 100;
      t.equal(await tsray.get(sumRef), 6, 'arguments are copied at remote(): a later change does not reach the task');
    });
  });
});

t.test('maxRetries: a crashed worker is retried, a task error is not', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    await warmUp(2);
    const nap = slow.fn('nap');

    const r = nap.remote(300);
    await sleep(50);
    t.equal(tsray.testing.crashWorker(r), true, 'the task was running');
    const out = await tsray.get(r);
    t.match(out, 'attempt 1', 'retried once, and the guest sees attempt 1');
    t.equal(tsray.testing.workerCount(), 2, 'the crashed worker was replaced');

    const once = nap.options({ maxRetries: 0 }).remote(300);
    await sleep(50);
    t.equal(tsray.testing.crashWorker(once), true);
    const e = await caught(t, () => tsray.get(once));
    t.ok(e instanceof tsray.WorkerCrashedError, `maxRetries 0: WorkerCrashedError (got ${e?.constructor?.name})`);
    t.equal(e?.code, 'ERR_WORKER_CRASHED');
    t.match(e?.message, /nap/);

    await warmUp(2); // the replacement workers, so the timing below is the task's own
    const t0 = performance.now();
    const te = await caught(t, () => tsray.get(faulty.fn('trap').remote()));
    const took = performance.now() - t0;
    t.ok(te instanceof tsray.TaskError, 'a trap is a TaskError, not retried into something else');
    t.ok(took < 2000, `a trap fails fast (${took.toFixed(0)} ms)`);

    // flaky() throws on attempt 0 and succeeds on any retry: a TaskError means no retry happened.
    const fe = await caught(t, () => tsray.get(flaky.fn('flaky').remote(0)), 'flaky(0) was retried after its own error');
    t.ok(fe instanceof tsray.TaskError, `own error: TaskError (got ${fe?.constructor?.name})`);
    t.match(fe?.guestMessage, 'attempt 0');
    const fr = flaky.fn('flaky').remote(300);
    await sleep(50);
    t.equal(tsray.testing.crashWorker(fr), true);
    t.equal(await tsray.get(fr), 1, 'after a crash the same task is retried and succeeds');
  });
});

// Both stop or cap workers; the node must keep serving afterwards.
t.test('timeoutMs and maxMemoryMb', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    await t.test('timeoutMs', async (t) => {
      await warmUp(2);
      const t0 = performance.now();
      const e = await caught(t, () => tsray.get(slow.fn('spin').options({ timeoutMs: 100 }).remote()));
      const took = performance.now() - t0;
      t.ok(e instanceof tsray.TaskTimeoutError, `spin(): TaskTimeoutError (got ${e?.constructor?.name})`);
      t.equal(e?.code, 'ERR_TASK_TIMEOUT');
      t.match(e?.message, /spin/);
      t.ok(took >= 90, `not before the timeout (${took.toFixed(0)} ms)`);
      t.ok(took < 2000, `soon after the timeout (${took.toFixed(0)} ms)`);
      t.equal(await tsray.get(matrix.fn('add').remote(40, 2)), 42, 'the node still serves tasks');
      t.equal(tsray.testing.workerCount(), 2, 'the stopped worker was replaced');
      t.match(await tsray.get(slow.fn('nap').options({ timeoutMs: 5000 }).remote(20)), /attempt 0/, 'a task within its timeout completes');
    });

    await t.test('maxMemoryMb', async (t) => {
      const e = await caught(t, () => tsray.get(hog.fn('hog').options({ maxMemoryMb: 8 }).remote(20)));
      t.ok(e instanceof tsray.OutOfMemoryError, `20 MiB under an 8 MiB cap: OutOfMemoryError (got ${e?.constructor?.name})`);
      t.equal(e?.code, 'ERR_OUT_OF_MEMORY');
      t.match(e?.message, /hog/);
      t.equal(await tsray.get(hog.fn('hog').options({ maxMemoryMb: 64 }).remote(20)), 20, 'fits under 64 MiB');
      t.equal(await tsray.get(hog.fn('hog').options({ maxMemoryMb: 8 }).remote(2)), 2, 'a small request fits under 8 MiB');
      t.equal(await tsray.get(matrix.fn('add').remote(1, 2)), 3, 'the node keeps serving after the OOM');
      const e2 = caughtSync(t, () => hog.fn('hog').options({ maxMemoryMb: 0 }));
      t.ok(e2 instanceof tsray.InvalidArgumentError, 'maxMemoryMb 0 is refused');
    });
  });
});

t.test('lifecycle', async (t) => {
  await tsray.init({ numCpus: 2 });
  try {
    t.equal(tsray.isInitialized(), true);
    const e = await caught(t, () => tsray.init({ numCpus: 2 }));
    t.ok(e instanceof tsray.RuntimeStateError, `init twice: RuntimeStateError (got ${e?.constructor?.name})`);
    t.equal(e?.code, 'ERR_RUNTIME_STATE');

    // Shutdown fails what is still pending and does not wait for running tasks.
    const running = slow.fn('nap').remote(5000);
    const pending = tsray.get(running).then(() => undefined, (err) => err);
    await sleep(100);
    const t0 = performance.now();
    await tsray.shutdown();
    const took = performance.now() - t0;
    const pe = await pending;
    t.ok(pe instanceof tsray.RuntimeStateError, `a pending get rejects at shutdown (got ${pe?.constructor?.name})`);
    t.match(pe?.message, /shut down/);
    t.ok(took < 3000, `shutdown does not wait for the 5 s task (${took.toFixed(0)} ms)`);
  } finally {
    await tsray.shutdown();
  }
  t.equal(tsray.isInitialized(), false, 'not initialized after shutdown');

  const r = caughtSync(t, () => matrix.fn('add').remote(1, 2));
  t.ok(r instanceof tsray.RuntimeStateError, 'remote after shutdown: RuntimeStateError');
  t.equal(r?.code, 'ERR_RUNTIME_STATE');
  t.match(r?.message, /shut down/);
  const p = caughtSync(t, () => tsray.put(1));
  t.ok(p instanceof tsray.RuntimeStateError, 'put after shutdown: RuntimeStateError');
  t.match(p?.message, /shut down/);
  const g = await caught(t, () => tsray.get([]));
  t.ok(g instanceof tsray.RuntimeStateError, 'get after shutdown: RuntimeStateError');
  t.match(g?.message, /shut down/);
  await t.resolves(tsray.shutdown(), 'shutdown when not initialized is harmless');

  await withRuntime({ numCpus: 2 }, async () => {
    t.equal(await tsray.get(matrix.fn('add').remote(2, 2)), 4, 'init again after shutdown works');
    t.equal(tsray.testing.workerCount(), 2);
  });
});

t.test('shutdown leaves nothing behind: the process exits by itself', async (t) => {
  const dir = scratch();
  const wasm = join(dir, 'matrix.wasm');
  writeFileSync(wasm, await prebuilt('matrix'));
  const script = join(dir, 'child.mjs');
  const api = pathToFileURL(join(ROOT, 'dist', 'host', 'index.js')).href;
  writeFileSync(script, [
    `import * as tsray from ${JSON.stringify(api)};`,
    `const mod = await tsray.load(${JSON.stringify(wasm)});`,
    `await tsray.init({ numCpus: 2 });`,
    `const v = await tsray.get(mod.fn('add').remote(40, 2));`,
    `const pending = mod.fn('sum').remote(new Float64Array(10));`,
    `await tsray.shutdown();`,
    `console.log('result ' + v);`,
  ].join('\n'));
  const t0 = performance.now();
  // A plain node process: without the test runner's NODE_OPTIONS hooks.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve('timeout'); }, 10_000);
    child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
  });
  const took = performance.now() - t0;
  t.equal(code, 0, `the child exits with code 0 on its own (${took.toFixed(0)} ms)${err ? `; stderr: ${err}` : ''}`);
  t.match(out, 'result 42', 'after running a task');
});
