// The Ray API inside guests, on the embedded node: tasks that submit tasks
// and get them (no deadlock on a small node), objects put by guests, refs as
// WIT values with Ray's ownership, recursive cancel, failures a parent handles
// or propagates, wait, get timeouts, and every refusal a hostile guest meets.
import t from 'tap';
import { encode } from 'cbor-x';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught, sleep, withRuntime } from '../helpers/runtime.mjs';

const nested = await tsray.load(await prebuilt('nested'));
const fn = (name) => nested.fn(name);

/** Resolves once `f()` holds, polling every 20 ms for at most `ms`. */
async function until(f, ms = 5000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

const cpus = () => tsray.availableResources().CPU;
const objectCount = () => tsray.memory().nodes[0].store.objects;

t.test('recursive fibonacci by nested tasks completes on two CPUs, and every CPU comes back', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const top = fn('fib').remote(20);
    t.equal(await tsray.get(top), 6765);
    t.ok(await until(() => cpus() === 2), 'both CPUs are free again');
    t.ok(tsray.memory().nodes[0].threads.filter((x) => x.type !== 'Driver').length <= 2 + 16, 'the node stays within its worker bound');
    top.release();
    // Every intermediate result was freed when the task that submitted it ended.
    t.ok(await until(() => objectCount() === 0), `no object of the tree is left (${objectCount()})`);
  });
});

t.test('a tree reduction over a large put array matches the sum computed here', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const data = new Float64Array(1 << 18).map((_, i) => (i % 1000) / 7);
    const expected = data.reduce((a, b) => a + b, 0);
    const ref = tsray.put(data);
    const got = await tsray.get(fn('tree-sum').remote(ref, 0, data.length, 1 << 15));
    t.ok(Math.abs(got - expected) < 1e-6 * expected, `tree sum ${got} = ${expected}`);
    // The argument was borrowed, never copied into the task's value: the driver's ref still reads it.
    t.equal((await tsray.get(ref)).length, data.length);
  });
});

t.test('a parameter server: worker tasks submitted by a task update an actor they were handed', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const server = nested.actor('param-server').remote(4);
    const total = await tsray.get(fn('train').remote(server, 4, 10));
    // Worker i adds (i + 1) to each of 4 weights, 10 times: 4 * 10 * (1 + 2 + 3 + 4).
    t.equal(total, 400);
    t.same([...await tsray.get(server.weights.remote())], [100, 100, 100, 100]);
  });
});

t.test('a ref a task returns outlives the task that made it, and is freed once released', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const before = objectCount();
    const outer = fn('make-ref').remote(1000, 2.5);
    const inner = await tsray.get(outer);
    t.ok(inner instanceof tsray.ObjectRef, 'the value is an ObjectRef');
    const arr = await tsray.get(inner);
    t.equal(arr.length, 1000);
    t.equal(arr[999], 2.5);
    outer.release();
    t.same([...(await tsray.get(inner)).slice(0, 2)], [2.5, 2.5], 'the inner object survives its outer ref: the driver holds it');
    inner.release();
    t.ok(await until(() => objectCount() === before), 'both objects are freed once nothing holds them');
  });
});

t.test('a list of refs stays refs: the child reads each, and the seeds\' memory scenario shows them in use by the pending task', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const refs = await tsray.get(fn('make-refs').remote(3, 10));
    t.equal(refs.length, 3);
    t.ok(refs.every((r) => r instanceof tsray.ObjectRef));
    // (1 + 2 + 3) * 10 elements each.
    t.equal(await tsray.get(fn('sum-refs').remote(refs)), 60);
    const held = fn('hold').remote(refs, 800);
    await sleep(300);
    const rows = tsray.memory().nodes[0].references;
    for (const r of refs) {
      const kinds = rows.filter((row) => row.objectRef === r.id).map((row) => row.referenceType);
      t.ok(kinds.includes('USED_BY_PENDING_TASK'), `${r} is in use by the pending task (${kinds})`);
      t.ok(kinds.includes('LOCAL_REFERENCE'), `${r} is held by the driver`);
    }
    t.equal(await tsray.get(held), 3);
    for (const r of refs) r.release();
  });
});

t.test('cancel is recursive by default: the children of a cancelled task stop and their CPUs come back', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const parent = fn('spawn-and-spin').remote(4, 30000);
    t.ok(await until(() => cpus() === 0), 'parent and a child hold both CPUs');
    // The parent owns its children's results: `tsray memory` lists them as its worker's references, as Ray's does.
    const guestRows = () => tsray.memory().nodes[0].references.filter((r) => r.type === 'Worker' && r.referenceType === 'LOCAL_REFERENCE');
    t.ok(await until(() => guestRows().length === 4), 'four worker rows: the refs of the four children');
    t.ok(guestRows().every((r) => r.threadId > 0 && r.callSite.startsWith('(guest)')), 'each names the worker thread');
    tsray.cancel(parent);
    const e = await caught(t, () => tsray.get(parent));
    t.equal(e?.code, 'ERR_TASK_CANCELLED');
    t.ok(await until(() => cpus() === 2, 3000), `the children were cancelled with it: both CPUs are free (${cpus()})`);
    t.ok(await until(() => guestRows().length === 0), 'the refs the parent owned were released when it ended');
  });
});

t.test('cancel with recursive: false leaves the children running (Ray test_cancel: test_recursive_cancel)', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const parent = fn('spawn-and-spin').remote(2, 1500);
    t.ok(await until(() => cpus() === 0), 'parent and a child hold both CPUs');
    tsray.cancel(parent, { recursive: false });
    const e = await caught(t, () => tsray.get(parent));
    t.equal(e?.code, 'ERR_TASK_CANCELLED');
    await sleep(300);
    t.ok(cpus() < 2, 'a child still runs after its parent was cancelled');
    t.ok(await until(() => cpus() === 2, 6000), 'the children ran to their end');
  });
});

t.test('a child its parent\'s worker runs itself is cancelled with the parent, and rerun when that worker dies', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const parent = fn('wait-child').remote(30000);
    await sleep(300);
    t.ok(cpus() <= 1, 'parent and child run (its worker runs the child itself when it wins the claim)');
    const started = performance.now();
    tsray.cancel(parent);
    const e = await caught(t, () => tsray.get(parent));
    t.equal(e?.code, 'ERR_TASK_CANCELLED');
    t.ok(performance.now() - started < 3000, 'the child inside it stopped at once, not after its nap');
    t.ok(await until(() => cpus() === 2), 'its CPU came back');

    const crashed = fn('wait-child').remote(600);
    await sleep(300);
    t.ok(tsray.testing.crashWorker(crashed), 'the worker running parent and child is killed');
    t.equal(await tsray.get(crashed), 600, 'both ran again on a fresh worker');
    t.ok(await until(() => cpus() === 2));
  });
});

t.test('a failed child reaches its parent as a typed error it can handle or propagate', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const handled = await tsray.get(fn('catch-child').remote('bad input 42'));
    t.match(handled, /^ERR_TASK: .*bad input 42/);
    const e = await caught(t, () => tsray.get(fn('propagate').remote('deep failure 7')));
    t.equal(e?.code, 'ERR_TASK');
    t.match(e?.message, /deep failure 7/);
  });
});

t.test('wait returns the first ready refs in the order they became ready; get honours its timeout', async (t) => {
  await withRuntime({ numCpus: 4 }, async () => {
    const started = performance.now();
    // 10 ms against 1.5 s: a margin for a worker that is still starting on a loaded machine (200 ms was not always enough).
    t.same([...await tsray.get(fn('race').remote(20000, 10, 1500))], [1, 2]);
    t.ok(performance.now() - started < 10000, 'wait returned once two were ready, without waiting for the slow one');
    t.equal(await tsray.get(fn('get-timeout').remote(3000, 50)), 'ERR_GET_TIMEOUT');
    t.equal(await tsray.get(fn('get-timeout').remote(10, 5000)), 'ok');
  });
});

t.test('a guest may name only refs it was given: forged and guessed ids are refused', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const secret = tsray.put(new Float64Array([1, 2, 3]));
    t.equal(await tsray.get(fn('forge').remote(secret.id)), 'ERR_NOT_GIVEN', "another owner's real id");
    t.equal(await tsray.get(fn('forge').remote('00'.repeat(16))), 'ERR_NOT_GIVEN', 'a made-up id');
    t.equal(await tsray.get(fn('forge').remote('x'.repeat(100000))), 'ERR_NOT_GIVEN', 'a huge id');
    // Nor can a guest return one it does not hold.
    const e = await caught(t, () => tsray.get(fn('sum-refs').remote([{ objectId: secret.id }])));
    t.equal(e?.code, 'ERR_ARGUMENT_TYPE', 'the driver cannot pass a plain record for an object-ref');
  });
});

t.test('hostile submissions end in typed errors the guest sees, and the node keeps working', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const raw = (f, args, opts = new Uint8Array(0)) => tsray.get(fn('submit-raw').remote(f, args, opts));
    const deep = () => { let v = 1; for (let i = 0; i < 100; i++) v = [v]; return v; };
    const cases = [
      ['no such function', ['no-such-fn', encode([1])], /^ERR_INVALID_ARGUMENT: .*no function/],
      ['not CBOR', ['nap', new Uint8Array([0xff, 0xff, 0x1c])], /^ERR_INVALID_ARGUMENT: .*not valid CBOR/],
      ['not an array', ['nap', encode({ ms: 1 })], /^ERR_INVALID_ARGUMENT: .*array/],
      ['wrong type', ['nap', encode(['ten'])], /^ERR_ARGUMENT_TYPE/],
      ['wrong arity', ['nap', encode([1, 2])], /^ERR_ARGUMENT_TYPE/],
      ['unknown option', ['nap', encode([1]), encode({ bogus: 1 })], /^ERR_INVALID_ARGUMENT: .*bogus/],
      ['options not a map', ['nap', encode([1]), encode([1])], /^ERR_INVALID_ARGUMENT: .*map/],
      ['capability it does not hold', ['nap', encode([1]), encode({ capabilities: ['wasi:clocks'] })], /^ERR_NOT_GIVEN: .*capabilit/],
      ['too deep', ['nap', encode([deep()])], /^ERR_INVALID_ARGUMENT/],
      ['negative numReturns', ['nap', encode([1]), encode({ numReturns: -1 })], /^ERR_INVALID_ARGUMENT/],
    ];
    for (const [what, args, want] of cases) t.match(await raw(...args), want, what);
    t.equal(await tsray.get(fn('fib').remote(8)), 21, 'the node still runs nested work');
    t.ok(await until(() => cpus() === 2), 'no CPU is left held');
  });
});

t.test('hostile puts and actor creations end in typed errors the guest sees', async (t) => {
  await withRuntime({ numCpus: 2, objectStoreMemory: 16 * 2 ** 20 }, async () => {
    const put = (bytes) => tsray.get(fn('put-raw').remote(bytes));
    const deep = () => { let v = 1; for (let i = 0; i < 100; i++) v = [v]; return v; };
    t.match(await put(new Uint8Array([0xff, 0x00])), /^ERR_INVALID_ARGUMENT: .*not valid CBOR/);
    t.match(await put(encode(deep())), /^ERR_INVALID_ARGUMENT: .*deeper/);
    t.match(await put(new Uint8Array([0xd9, 0x9c, 0x41, 0x62, 0x30, 0x30])), /^ERR_NOT_GIVEN/, 'a ref tag around an id it was never given');
    t.match(await put(new Uint8Array([0xd8, 0x20, 0x61, 0x78])), /^ERR_INVALID_ARGUMENT: CBOR tag 32/, 'a tag with no meaning here');
    t.match(await put(encode(new Float64Array(3 * 2 ** 20))), /^ERR_OBJECT_STORE_FULL|^ok/, 'a put larger than the store is refused or spilled, never a crash');
    t.equal(await put(encode({ a: [1, 'two', 3.5] })), 'ok');
    const create = (name, args, opts = new Uint8Array(0)) => tsray.get(fn('create-raw').remote(name, args, opts));
    t.match(await create('no-such', encode([1])), /^ERR_COMPONENT: .*no-such/);
    t.match(await create('param-server', encode(['four'])), /^ERR_ARGUMENT_TYPE/);
    t.match(await create('param-server', encode([4]), encode({ lifetime: 'forever' })), /^ERR_INVALID_ARGUMENT: .*lifetime/);
    t.match(await create('param-server', encode([4]), encode({ capabilities: ['wasi:random'] })), /^ERR_NOT_GIVEN: .*capabilit/);
    t.equal(await create('param-server', encode([4])), 'ok');
    t.equal(await tsray.get(fn('fib').remote(8)), 21, 'the node still runs nested work');
  });
});

t.test('a nested task takes options: several returns and retries', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    t.equal(await tsray.get(fn('submit-raw').remote('nap', encode([5]), encode({ maxRetries: 2, numCpus: 0.5 }))), 'ok');
  });
});

t.test('outside a runtime the imports refuse with a typed failure instead of trapping', async (t) => {
  const inst = await nested.instantiate();
  t.equal(inst.call('forge', ['00']), 'ERR_RUNTIME_STATE');
});

t.test('a task creates an actor of its own component: it fate-shares with its creator unless detached', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    t.equal(await tsray.get(fn('own-server').remote('inner-a', false, 2, 5)), 60, 'worker tasks updated the actor the task made');
    t.ok(await until(() => { try { tsray.getActor('inner-a'); return false; } catch { return true; } }), 'the actor ended with the task that made it');
    t.equal(await tsray.get(fn('own-server').remote('inner-b', true, 2, 5)), 60);
    const kept = tsray.getActor('inner-b');
    t.same([...await tsray.get(kept.weights.remote())], [15, 15, 15, 15], 'a detached actor outlives its creator');
    tsray.kill(kept);
  });
});
