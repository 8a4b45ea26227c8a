// Retries on a cluster of real node processes: `retryExceptions` on tasks, and
// `maxTaskRetries` re-sending actor calls lost with their node (Ray's
// test_actor_failures: test_actor_restart_on_node_failure with max_task_retries).
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ROOT, prebuilt } from '../helpers/components.mjs';
import { caught, sleep } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv, joinNode } from '../helpers/cluster.mjs';

const env = isolatedEnv('retries-cluster');
const TOKEN = 'retries-cluster-token';
const flakyDir = join(ROOT, 'test', 'fixtures', 'flaky');
const [flaky, counter] = await Promise.all([
  tsray.build({ entry: join(flakyDir, 'flaky.ts'), wit: flakyDir, world: 'flaky' }).then((r) => tsray.load(r.component)),
  prebuilt('counter').then((b) => tsray.load(b)),
]);

t.test('retryExceptions and maxTaskRetries on a cluster', async (t) => {
  // The head's node has no CPU: the actors (one CPU each) live on the second node.
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  t.equal(await tsray.get(flaky.fn('flaky').options({ retryExceptions: true }).remote(0)), 1, "a task's own error is retried on its node");
  const once = await caught(t, () => tsray.get(flaky.fn('flaky').remote(0)));
  t.ok(once instanceof tsray.TaskError, 'and not without retryExceptions');

  const Counter = counter.actor('counter', { numCpus: 1, maxRestarts: 1 });
  const retried = Counter.options({ maxTaskRetries: 1 }).remote(10n);
  const plain = Counter.remote(10n);
  t.strictSame(await tsray.get([retried.get.remote(), plain.get.remote()]), [10n, 10n]);
  const calls = [retried.slowIncr.remote(1n, 2000), plain.slowIncr.remote(1n, 2000)];
  await sleep(500);
  nodes[0].child.kill('SIGKILL');
  const lost = await caught(t, () => tsray.get(calls[1], { timeoutMs: 10_000 }));
  t.ok(lost instanceof tsray.ActorDiedError, `maxTaskRetries 0: the call in flight fails (got ${lost?.constructor?.name})`);
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']);
  t.equal(await tsray.get(calls[0], { timeoutMs: 20_000 }), 11n, 'maxTaskRetries 1: the call ran again on the restarted actor (fresh state)');
  t.equal(await tsray.get(plain.get.remote(), { timeoutMs: 20_000 }), 10n, 'the other actor restarted too and serves new calls');
});
