// Actor lifetime through a cluster driver: releasing the last handle ends the
// actor on its node and frees its resources there; a handle passed to a task
// on a node keeps the actor alive until the task finishes.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const env = isolatedEnv('actor-lifetime-cluster');
const TOKEN = 'actor-lifetime-cluster-token';
const [counter, client] = await Promise.all(['counter', 'counter-client'].map(async (n) => tsray.load(await prebuilt(n))));

/** Whether `ref` is still unfinished after `ms`. */
async function stillPending(ref, ms) {
  const [ready] = await tsray.wait([ref], { timeoutMs: ms });
  return ready.length === 0;
}

t.test('on a cluster, the last handle gone ends the actor and its node gives the CPU to the next one', async (t) => {
  // One node with one CPU: a second 1-CPU actor can start only when the first has ended.
  const { address } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '1'], nodeArgs: [] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const Counter = counter.actor('counter', { numCpus: 1 });

  const a = Counter.remote(1n);
  t.equal(await tsray.get(a.get.remote()), 1n);
  const b = Counter.remote(2n);
  const bGet = b.get.remote();
  t.ok(await stillPending(bGet, 1000), 'the second actor waits for the CPU the first holds');
  a.release();
  t.equal(await tsray.get(bGet, { timeoutMs: 10_000 }), 2n, 'released: the first ended and the second started');

  const task = client.fn('bump-slowly').options({ numCpus: 0 }).remote(b, 3, 200);
  b.release();
  const c = Counter.remote(3n);
  const cGet = c.get.remote();
  t.equal(await tsray.get(task, { timeoutMs: 10_000 }), 5n, 'the task on the node reached the actor after the driver released its handle');
  t.equal(await tsray.get(cGet, { timeoutMs: 10_000 }), 3n, 'once the task finished, the actor ended and its CPU went to the next');
});
