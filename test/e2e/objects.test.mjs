// put / get / wait semantics of the object store, through the public API.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught, sleep } from '../helpers/runtime.mjs';

const [matrix, faulty, slow] = await Promise.all(['matrix', 'faulty', 'slow'].map(async (n) => tsray.load(await prebuilt(n))));

/** Cancels naps still running and waits until they have ended, so later tests find idle workers. */
async function stop(...refs) {
  for (const r of refs) tsray.cancel(r);
  await tsray.wait(refs, { numReturns: refs.length });
}

/** Runs a nap(1) on every worker so later timings do not include worker start-up. */
async function warmUp(n) {
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(slow.fn('nap').remote(1));
  await tsray.get(refs);
}

const ids = (refs) => refs.map((r) => r.id);

// Worker start-up is slow under the test runner, so the topics share one runtime.
await tsray.init({ numCpus: 2 });
t.teardown(() => tsray.shutdown());
await warmUp(2);

t.test('get with timeoutMs', async (t) => {
  const ref = slow.fn('nap').remote(3000);
  const t0 = performance.now();
  const e = await caught(t, () => tsray.get(ref, { timeoutMs: 50 }));
  const took = performance.now() - t0;
  t.ok(e instanceof tsray.GetTimeoutError, `GetTimeoutError (got ${e?.constructor?.name})`);
  t.equal(e?.code, 'ERR_GET_TIMEOUT');
  t.ok(took >= 45, `not before the timeout (${took.toFixed(0)} ms)`);
  t.ok(took < 2000, `soon after the timeout, long before the task ends (${took.toFixed(0)} ms)`);

  const e2 = await caught(t, () => tsray.get([tsray.put(1), ref], { timeoutMs: 30 }));
  t.ok(e2 instanceof tsray.GetTimeoutError, 'a list with one pending object times out too');

  const v = await tsray.get(ref);
  t.match(v, /attempt 0/, 'a later plain get still returns the value');
  const t1 = performance.now();
  t.match(await tsray.get(ref, { timeoutMs: 1 }), /attempt 0/, 'a ready object is returned even with a tiny timeout');
  t.ok(performance.now() - t1 < 500);
  t.equal(await tsray.get(matrix.fn('add').remote(1, 2), { timeoutMs: 20_000 }), 3, 'a task finishing within the timeout');
});

t.test('wait', async (t) => {
  await t.test('default: one ready', async (t) => {
    const napRef = slow.fn('nap').remote(3000);
    const addRef = matrix.fn('add').remote(1, 1);
    const t0 = performance.now();
    const [ready, notReady] = await tsray.wait([napRef, addRef]);
    const took = performance.now() - t0;
    t.strictSame(ids(ready), [addRef.id], 'the fast task is ready');
    t.strictSame(ids(notReady), [napRef.id], 'the slow one is not');
    t.equal(ready[0], addRef, 'the very ref given');
    t.ok(took < 2000, `without waiting for the slow one (${took.toFixed(0)} ms)`);
    await stop(napRef);
  });

  await t.test('numReturns', async (t) => {
    const refs = [matrix.fn('add').remote(1, 1), slow.fn('nap').remote(100), matrix.fn('add').remote(2, 2)];
    const [ready, notReady] = await tsray.wait(refs, { numReturns: 3 });
    t.equal(ready.length, 3, 'numReturns 3 waits for all three');
    t.equal(notReady.length, 0);
    t.strictSame(ids(ready), ids(refs), 'in input order');
    t.match(await tsray.get(refs[1]), /attempt 0/, 'the slow one really finished');

    const more = [slow.fn('nap').remote(150), matrix.fn('add').remote(1, 1), slow.fn('nap').remote(3000)];
    const [r2, n2] = await tsray.wait(more, { numReturns: 2 });
    t.strictSame(ids(r2), [more[0].id, more[1].id], 'two ready, in input order (not finishing order)');
    t.strictSame(ids(n2), [more[2].id]);
    await stop(more[2]);

    const [r0, n0] = await tsray.wait([matrix.fn('add').remote(1, 1)], { numReturns: 0 });
    t.equal(r0.length + n0.length, 1, 'numReturns 0 returns at once, every ref accounted for');

    const tooMany = await caught(t, () => tsray.wait([tsray.put(1)], { numReturns: 2 }));
    t.ok(tooMany instanceof tsray.InvalidArgumentError, 'numReturns above the number of refs is refused');
  });

  await t.test('timeout returns what is ready', async (t) => {
    const napRef = slow.fn('nap').remote(3000);
    const addRef = matrix.fn('add').remote(3, 4);
    const t0 = performance.now();
    const [ready, notReady] = await tsray.wait([napRef, addRef], { numReturns: 2, timeoutMs: 100 });
    const took = performance.now() - t0;
    t.strictSame(ids(ready), [addRef.id], 'the fast one is ready');
    t.strictSame(ids(notReady), [napRef.id], 'the slow one is not');
    t.ok(took >= 90, `waited for the timeout (${took.toFixed(0)} ms)`);
    t.ok(took < 2000, `and not for the slow task (${took.toFixed(0)} ms)`);
    await stop(napRef);

    const lone = slow.fn('nap').remote(2000);
    const [r1, n1] = await tsray.wait([lone], { timeoutMs: 50 });
    t.strictSame([r1.length, ids(n1)], [0, [lone.id]], 'nothing ready: everything in notReady');
    await stop(lone);
  });

  await t.test('argument checks', async (t) => {
    const a = tsray.put(1);
    const dup = await caught(t, () => tsray.wait([a, tsray.put(2), a]));
    t.ok(dup instanceof tsray.InvalidArgumentError, `duplicate refs: InvalidArgumentError (got ${dup?.constructor?.name})`);
    t.equal(dup?.code, 'ERR_INVALID_ARGUMENT');
    const dupIds = await caught(t, () => tsray.wait([a, new tsray.ObjectRef(a.id)]));
    t.ok(dupIds instanceof tsray.InvalidArgumentError, 'two ref objects with one id are duplicates too');
    t.strictSame(await tsray.wait([]), [[], []], 'wait([]) gives two empty lists');
    const notRef = await caught(t, () => tsray.wait([a, 42]));
    t.ok(notRef instanceof tsray.InvalidArgumentError, 'a non-ref is refused');
  });

  await t.test('ready and notReady keep input order', async (t) => {
    const nap = slow.fn('nap');
    const refs = [nap.remote(3000), tsray.put('a'), nap.remote(3000), tsray.put('b'), tsray.put('c'), nap.remote(3000)];
    const [ready, notReady] = await tsray.wait(refs, { numReturns: 3, timeoutMs: 2000 });
    t.strictSame(ids(ready), ids([refs[1], refs[3], refs[4]]));
    t.strictSame(ids(notReady), ids([refs[0], refs[2], refs[5]]));
    await stop(refs[0], refs[2], refs[5]);
  });

  await t.test('a failed task counts as ready', async (t) => {
    const bad = faulty.fn('trap').remote();
    const napRef = slow.fn('nap').remote(3000);
    const t0 = performance.now();
    const [ready, notReady] = await tsray.wait([napRef, bad]);
    t.strictSame(ids(ready), [bad.id]);
    t.strictSame(ids(notReady), [napRef.id]);
    t.ok(performance.now() - t0 < 2000, 'without waiting for the slow task');
    const e = await caught(t, () => tsray.get(bad));
    t.ok(e instanceof tsray.TaskError, 'and get of it throws its error');
    await stop(napRef);
  });
});

t.test('put and get', async (t) => {
  const ref = tsray.put({ a: 1 });
  t.ok(ref instanceof tsray.ObjectRef, 'put returns an ObjectRef synchronously');
  t.type(ref.then, 'undefined', 'not a promise');

  const values = [
    42, -0.5, 'text', true, null, 2n ** 70n, [1, 'two', [3]],
    { nested: { list: [1, 2, { deep: true }], s: 'x' }, n: null },
    new Float64Array([1.5, -2]), new Uint8Array([0, 255]), new Map([['k', [1]]]),
  ];
  for (const v of values) t.same(await tsray.get(tsray.put(v)), v, `round trip of ${Object.prototype.toString.call(v)}`);
  t.equal(await tsray.get(tsray.put(undefined)), undefined, 'undefined');
  t.strictSame(await tsray.get(tsray.put([1, 2, 3])), [1, 2, 3]);
  const ta = await tsray.get(tsray.put(new Int16Array([7, -7])));
  t.ok(ta instanceof Int16Array, 'a typed array keeps its type');

  const refs = [tsray.put('x'), tsray.put('y')];
  t.not(refs[0].id, refs[1].id, 'each put is a new object');
  t.strictSame(await tsray.get([refs[1], refs[0], refs[1]]), ['y', 'x', 'y'], 'get of a list keeps order and duplicates');

  const arr = [1, { v: 2 }];
  const r = tsray.put(arr);
  arr.push(3);
  arr[1].v = 99;
  t.strictSame(await tsray.get(r), [1, { v: 2 }], 'later changes to the value do not reach the object');

  const e = (() => { try { tsray.put(ref); } catch (err) { return err; } t.fail('put(ref) did not throw'); return undefined; })();
  t.ok(e instanceof tsray.InvalidArgumentError, `put(ref) is refused (got ${e?.constructor?.name})`);
  t.equal(e?.code, 'ERR_INVALID_ARGUMENT');

  const g = await caught(t, () => tsray.get('not a ref'));
  t.ok(g instanceof tsray.InvalidArgumentError, 'get of a non-ref is refused');
  const unknown = await caught(t, () => tsray.get(new tsray.ObjectRef('ffffffff000000000000')));
  t.ok(unknown instanceof tsray.InvalidArgumentError, 'get of an unknown ref is refused');
});

t.test('the runtime is still healthy', async (t) => {
  await sleep(50);
  t.equal(await tsray.get(matrix.fn('add').remote(20, 22)), 42);
  t.equal(tsray.testing.workerCount(), 2);
});
