// Tasks queued on a worker that is lost (a crash, a force-cancel of the task it
// runs) go back to the node's queue in the order they were submitted.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught, sleep, withRuntime } from '../helpers/runtime.mjs';

const slow = await tsray.load(await prebuilt('slow'));
const nap = slow.fn('nap');

/** Indexes of `refs` in the order they settle (success or failure). */
function settleOrder(refs) {
  const order = [];
  return Promise.all(refs.map((r, i) => tsray.get(r).then(() => order.push(i), () => order.push(i)))).then(() => order);
}

/** Waits until `check()` is true (a task started running), at most 5 s. */
async function until(check) {
  for (let i = 0; i < 500 && !check(); i++) await sleep(10);
}

t.test('after a crash, the worker\'s pipeline is retried in submission order', async (t) => {
  await withRuntime({ numCpus: 1 }, async () => {
    // One CPU: the four short tasks are pipelined on the worker running the long one.
    const refs = [nap.remote(400), ...Array.from({ length: 4 }, () => nap.remote(20))];
    const order = settleOrder(refs);
    let crashed = false;
    await until(() => (crashed = tsray.testing.crashWorker(refs[0])));
    t.equal(crashed, true, 'the first task was running when its worker was killed');
    t.strictSame(await order, [0, 1, 2, 3, 4], 'five tasks finish in the order they were submitted');
    t.match(await tsray.get(refs[0]), / attempt 1 /, 'the crashed task itself was retried');
  });
});

t.test('after a force-cancel of the running task, the tasks queued behind it keep their order', async (t) => {
  await withRuntime({ numCpus: 1 }, async () => {
    const head = slow.fn('spin').remote();
    const rest = Array.from({ length: 5 }, () => nap.remote(20));
    const order = settleOrder(rest);
    await sleep(100); // the spin is running; the five wait behind it on the same worker
    tsray.cancel(head, { force: true });
    const e = await caught(t, () => tsray.get(head));
    t.ok(e instanceof tsray.TaskCancelledError, `the cancelled task: TaskCancelledError (got ${e?.constructor?.name})`);
    t.strictSame(await order, [0, 1, 2, 3, 4], 'the five tasks behind it finish in the order they were submitted');
  });
});
