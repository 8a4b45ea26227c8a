// Actors through a cluster driver (this process) on real node processes.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv, joinNode } from '../helpers/cluster.mjs';

const env = isolatedEnv('cluster-actors');
const TOKEN = 'cluster-actors-token';

t.test('actors live on nodes: state, order, names, handles passed to tasks, kill', async (t) => {
  const [counter, client] = await Promise.all(['counter', 'counter-client'].map(async (n) => tsray.load(await prebuilt(n))));
  const { address } = await cluster(t, env, TOKEN);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  const Counter = counter.actor('counter');
  const counters = Array.from({ length: 4 }, () => Counter.remote(0n));
  t.strictSame(await tsray.get(counters.map((c) => c.incr.remote(1n))), Array(4).fill(1n), 'each actor has its own state');
  t.strictSame(await tsray.get(Array.from({ length: 5 }, () => counters[0].incr.remote(1n))), [2n, 3n, 4n, 5n, 6n], 'calls run in the order made');
  t.equal(await tsray.get(counters[1].get.remote()), 1n);

  // A call waiting for its argument holds back the calls after it, as on the embedded node.
  const first = client.fn('bump-slowly').remote(counters[2], 1, 100); // a task bumps it to 2 and returns 2n
  const dependent = counters[2].incr.remote(first);
  const after = counters[2].get.remote();
  t.equal(await tsray.get(after), 4n, 'a call made after one that waited for its argument runs after it');
  t.equal(await tsray.get(dependent), 4n);

  const named = Counter.options({ name: 'shared' }).remote(100n);
  t.equal(await tsray.get(tsray.getActor('shared').incr.remote(1n)), 101n, 'named actors');
  t.equal(await tsray.get(named.get.remote()), 101n);

  // Three tasks on the nodes bump one actor ten times each through its handle.
  const c = Counter.remote(0n);
  await tsray.get(Array.from({ length: 3 }, () => client.fn('bump').remote(c, 10)));
  t.equal(await tsray.get(c.get.remote()), 30n, "tasks on any node reach the actor through its handle (the seed's 30)");

  const trap = await caught(t, () => tsray.get(counters[3].crash.remote('bad input')));
  t.ok(trap instanceof tsray.TaskError, `a trapping method is a TaskError (got ${trap?.constructor?.name})`);

  tsray.kill(counters[0]);
  const dead = await caught(t, () => tsray.get(counters[0].incr.remote(1n)));
  t.ok(dead instanceof tsray.ActorDiedError, `calls after kill: ActorDiedError (got ${dead?.constructor?.name})`);
  const bad = await caught(t, () => tsray.get(Counter.remote(-1n).get.remote()));
  t.ok(bad instanceof tsray.ActorDiedError, 'a constructor that traps: ActorDiedError');
});

t.test("a dead node's actor restarts on another node while maxRestarts allows", async (t) => {
  const counter = await tsray.load(await prebuilt('counter'));
  // The head's node has no CPU: actors needing one go to the second node.
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const Counter = counter.actor('counter', { numCpus: 1 });
  const again = Counter.options({ maxRestarts: 1 }).remote(10n);
  const once = Counter.options({ maxRestarts: 0 }).remote(10n);
  t.equal(await tsray.get(again.incr.remote(5n)), 15n);
  t.equal(await tsray.get(once.incr.remote(5n)), 15n);

  nodes[0].child.kill('SIGKILL');
  const lost = await caught(t, () => tsray.get(once.incr.remote(1n), { timeoutMs: 10_000 }));
  t.ok(lost instanceof tsray.ActorDiedError, `without restarts it is dead (got ${lost?.constructor?.name}: ${lost?.message})`);
  t.match(lost?.message, /its node (\w+ died|was lost)/);

  const pending = again.incr.remote(1n);
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '1']);
  t.equal(await tsray.get(pending, { timeoutMs: 20_000 }), 11n, 'with a restart left it comes back on the new node, with fresh state');
});

t.test('an actor has one restart budget across nodes: a restart spent on a trap is not given back when its node dies', async (t) => {
  const counter = await tsray.load(await prebuilt('counter'));
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '3']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const Counter = counter.actor('counter', { numCpus: 1 });
  const spent = Counter.options({ maxRestarts: 1 }).remote(10n);
  const fresh = Counter.options({ maxRestarts: 1 }).remote(10n);
  const once = Counter.options({ maxRestarts: 0 }).remote(10n);
  t.equal(await tsray.get(once.incr.remote(5n)), 15n);
  t.equal(await tsray.get(spent.incr.remote(5n)), 15n);
  t.equal(await tsray.get(fresh.incr.remote(5n)), 15n);

  const trap = await caught(t, () => tsray.get(spent.crash.remote('spend the restart')));
  t.ok(trap instanceof tsray.TaskError, `the trap fails its call (got ${trap?.constructor?.name})`);
  t.equal(await tsray.get(spent.incr.remote(1n)), 11n, 'the actor restarted on its node, with fresh state: its one restart is spent');

  nodes[0].child.kill('SIGKILL');
  // Once the head has seen the node die (the actor without restarts fails), the others are restarted or not.
  const gone = await caught(t, () => tsray.get(once.incr.remote(1n), { timeoutMs: 10_000 }));
  t.ok(gone instanceof tsray.ActorDiedError, 'the head saw the node die');
  const lostSpent = spent.incr.remote(1n);
  const lostFresh = fresh.incr.remote(1n);
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '3']);
  t.equal(await tsray.get(lostFresh, { timeoutMs: 20_000 }), 11n, 'an actor with its restart left comes back on the new node');
  const dead = await caught(t, () => tsray.get(lostSpent, { timeoutMs: 20_000 }));
  t.ok(dead instanceof tsray.ActorDiedError, `an actor whose restart was spent on its trap stays dead (got ${dead?.constructor?.name}: ${dead?.message})`);
});
