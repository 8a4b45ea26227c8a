// Guests that use the Ray API on a cluster of real processes: nested tasks run
// on the node of the task that submits them, guests there call an actor the
// driver made on whichever node hosts it, and refs as values, which do not
// cross nodes yet (a driver's ref for an object-ref parameter, a ref a task
// returns), are refused with a typed error, never misread.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const env = isolatedEnv('nested-cluster');
const TOKEN = 'nested-cluster-token';

t.test('nested tasks, a parameter server and guest puts on a real-process cluster', async (t) => {
  const nested = await tsray.load(await prebuilt('nested'));
  const { address } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '2']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  t.equal(await tsray.get(nested.fn('fib').remote(12)), 144, 'recursive fibonacci by nested tasks on a node');
  t.match(await tsray.get(nested.fn('catch-child').remote('on a node')), /^ERR_TASK: .*on a node/, 'a child failure reaches its parent on a node');

  const server = nested.actor('param-server').remote(4);
  t.equal(await tsray.get(nested.fn('train').remote(server, 2, 5)), 60, 'worker tasks on a node update the driver\'s actor');

  const made = await caught(t, () => tsray.get(nested.fn('make-ref').remote(10, 1.5)));
  t.equal(made?.code, 'ERR_RUNTIME_STATE', 'a ref returned by a task on a node is refused, not handed over as a plain record');

  const data = new Float64Array(4096).map((_, i) => i);
  const e = await caught(t, () => nested.fn('tree-sum').remote(tsray.put(data), 0, data.length, 1024));
  t.equal(e?.code, 'ERR_RUNTIME_STATE', 'a driver ref for an object-ref parameter is refused at submit on a cluster, not misread');
});
