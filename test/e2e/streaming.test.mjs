// Streaming returns (Ray's generators): `numReturns: 'streaming'` yields the
// ref of each value as the guest emits it, ends when the task returns, throws
// the task's error after the values before it, and stops on cancel.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught, sleep, withRuntime } from '../helpers/runtime.mjs';

const nested = await tsray.load(await prebuilt('nested'));
const streaming = (name) => nested.fn(name).options({ numReturns: 'streaming' });

t.test('each value arrives as soon as it is emitted, in order, and the stream ends when the task returns', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const started = performance.now();
    const gen = streaming('squares').remote(5, 150);
    t.ok(gen instanceof tsray.ObjectRefGenerator);
    const got = [];
    const at = [];
    for await (const ref of gen) {
      t.ok(ref instanceof tsray.ObjectRef);
      got.push(await tsray.get(ref));
      at.push(performance.now() - started);
      ref.release();
    }
    t.same(got, [0, 1, 4, 9, 16]);
    t.ok(at[0] < at[4] - 400, `the first value came long before the last (${at.map(Math.round)})`);
  });
});

t.test('a failing generator yields what it emitted, then throws the task error', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const got = [];
    const e = await caught(t, async () => {
      for await (const ref of streaming('emit-then-fail').remote(3, 'stream broke')) got.push(await tsray.get(ref));
    });
    t.same(got, [0, 1, 2]);
    t.equal(e?.code, 'ERR_TASK');
    t.match(e?.message, /stream broke/);
  });
});

t.test('cancel stops the generator: iteration ends with TaskCancelledError and its CPU comes back', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const gen = streaming('squares').remote(1000, 20);
    let n = 0;
    const e = await caught(t, async () => {
      for await (const ref of gen) {
        ref.release();
        if (++n === 3) tsray.cancel(gen);
      }
    });
    t.equal(e?.code, 'ERR_TASK_CANCELLED');
    t.ok(n < 50, `it stopped soon after the cancel (${n} values)`);
    await sleep(100);
    t.equal(tsray.availableResources().CPU, 2);
  });
});

t.test('leaving the loop early releases what was not taken; a plain task cannot emit', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const before = tsray.memory().nodes[0].store.objects;
    for await (const ref of streaming('squares').remote(6, 1)) { ref.release(); break; }
    await sleep(300);
    t.ok(tsray.memory().nodes[0].store.objects <= before + 1, 'only the task result may remain');
    const e = await caught(t, () => tsray.get(nested.fn('squares').remote(2, 1)));
    t.equal(e?.code, 'ERR_TASK');
    t.match(e?.message, /ERR_INVALID_ARGUMENT: emit: only a task submitted with numReturns: 'streaming'/);
    t.throws(() => nested.fn('nap').options({ numReturns: 'many' }), { code: 'ERR_INVALID_ARGUMENT' });
  });
});
