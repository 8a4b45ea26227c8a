// Actor routes (host/cluster/actor-path.ts, lease-pool.ts, leased-work.ts, head/leases.ts) on real processes:
// once an actor is alive, a driver's calls to it go straight to its node, in the order they were made; a call in
// flight when that node dies goes again through the head while maxTaskRetries lasts; and a node's side of a route,
// spoken by hand, carries calls to that one actor and nothing else.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as tsray from 'tsray';
import { CLI, prebuilt } from '../helpers/components.mjs';
import { caught } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv, joinNode } from '../helpers/cluster.mjs';
import { authed, builtComponent, closeOf, encode, rawDriver, resultOf, startHead, until, wireOptions } from '../helpers/raw-wire.mjs';

const env = isolatedEnv('actor-routes');
const TOKEN = 'actor-routes-token';
const counter = await tsray.load(await prebuilt('counter'));

/** Calls `a` until its driver holds a route to it: a call through the head, then calls while the route is asked for. */
async function untilRouted(a) {
  await tsray.get(a.incr.remote(0n));
  await tsray.get(Array.from({ length: 20 }, () => a.incr.remote(0n)));
}

function status(address) {
  return JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--json', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout);
}

t.test("an alive actor's calls go straight to its node, in the order they were made", async (t) => {
  const { address } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const Counter = counter.actor('counter', { numCpus: 1 });
  const c = Counter.options({ maxRestarts: 1 }).remote(0n);
  // A slow first call, then calls made steadily for 800 ms: they go through the head until the first is answered and
  // a route is held, then wait for the head's to be answered, then go on the route. Each sees the one before it.
  const refs = [c.slowIncr.remote(1n, 300)];
  for (const end = Date.now() + 800; Date.now() < end;) {
    for (let i = 0; i < 5; i++) refs.push(c.incr.remote(1n));
    await new Promise((r) => setTimeout(r, 1));
  }
  const burst = await tsray.get(refs);
  t.ok(burst.every((v, i) => v === BigInt(i + 1)), `${burst.length} calls ran in the order they were made (first ${burst[0]}, last ${burst.at(-1)})`);
  const before = status(address).routedCalls;
  t.ok(before >= 1, `the first calls went through the head (${before} of ${burst.length}; the rest, if any, on the route)`);

  const n = burst.length;
  const more = await tsray.get(Array.from({ length: 300 }, () => c.incr.remote(2n)));
  t.ok(more.every((v, i) => v === BigInt(n + 2 * (i + 1))), 'then 300 more, in order');
  t.equal(status(address).routedCalls, before, 'none of them through the head: the route carried them');
  const text = spawnSync(process.execPath, [CLI, 'status', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout;
  t.match(text, new RegExp(`and ${before} actor calls routed through the head`), 'tsray status says so');

  // Errors come back on the route as they do through the head.
  const trap = await caught(t, () => tsray.get(c.crash.remote('on the route')));
  t.ok(trap instanceof tsray.TaskError, `a trap in a routed call is a TaskError (got ${trap?.constructor?.name})`);
  t.match(trap?.message, /on the route/, 'with the guest\'s message');
  t.equal(await tsray.get(c.get.remote()), 0n, 'the actor restarted on its node with fresh state');

  // A call cancelled while it waits behind a slow one never runs.
  const slow = c.slowIncr.remote(5n, 600);
  const waiting = c.incr.remote(100n);
  await new Promise((r) => setTimeout(r, 150));
  tsray.cancel(waiting);
  t.equal(await tsray.get(slow), 5n);
  t.ok(await caught(t, () => tsray.get(waiting)) instanceof tsray.TaskCancelledError, 'cancelled on its node');
  t.equal(await tsray.get(c.get.remote()), 5n, 'the cancelled call did not run');
  t.equal(status(address).routedCalls, before, 'all on the route');

  tsray.kill(c);
  const dead = await caught(t, () => tsray.get(c.get.remote(), { timeoutMs: 10_000 }));
  t.ok(dead instanceof tsray.ActorDiedError, `a call after tsray.kill() fails with ActorDiedError (got ${dead?.constructor?.name}: ${dead?.message})`);
});

t.test("a call on a route whose node dies goes again through the head while maxTaskRetries lasts", async (t) => {
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const Counter = counter.actor('counter', { numCpus: 1 });
  const retried = Counter.options({ maxRestarts: 1, maxTaskRetries: 1 }).remote(10n);
  const once = Counter.options({ maxRestarts: 1 }).remote(20n);
  for (const a of [retried, once]) await untilRouted(a);
  const routed = status(address).routedCalls;
  t.equal(await tsray.get(retried.incr.remote(1n)), 11n);
  t.equal(status(address).routedCalls, routed, 'both actors are called on routes');

  const inFlight = retried.slowIncr.remote(1n, 3000);
  const lost = once.slowIncr.remote(1n, 3000);
  await new Promise((r) => setTimeout(r, 500));
  nodes[0].child.kill('SIGKILL');
  const e = await caught(t, () => tsray.get(lost, { timeoutMs: 10_000 }));
  t.ok(e instanceof tsray.ActorDiedError, `without task retries the call fails with ActorDiedError (got ${e?.constructor?.name}: ${e?.message})`);
  t.match(e?.message, /its node (\w+ died|was lost)/, 'saying its node was lost');

  await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']);
  t.equal(await tsray.get(inFlight, { timeoutMs: 20_000 }), 11n, 'with a retry left it ran again on the restarted actor, on the new node, with fresh state');
  t.equal(await tsray.get(once.get.remote(), { timeoutMs: 20_000 }), 20n, 'the other actor restarted too, and takes calls again');
  const back = status(address).routedCalls;
  await tsray.get(Array.from({ length: 20 }, () => retried.incr.remote(0n)));
  const settled = status(address).routedCalls;
  await tsray.get(Array.from({ length: 50 }, () => retried.incr.remote(1n)));
  t.ok(settled - back <= 20, 'the driver found the restarted actor\'s new node');
  t.equal(status(address).routedCalls, settled, 'and calls it there on a new route');
});

t.test("a driver that found an actor by name retries its calls lost on a route as the actor's creator said", async (t) => {
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  // Another driver, spoken by hand, makes the named actor with a task retry, and stays.
  const comp = builtComponent('counter');
  const creator = await rawDriver(t, address, TOKEN, comp);
  const options = { numCpus: 1, maxRestarts: 1, maxTaskRetries: 1 };
  creator.send(encode({ t: 'actor-create', createId: 'create-named', actor: { actorId: randomBytes(16).toString('hex'), hash: comp.hash, resource: 'counter', args: [30n], options, request: { CPU: 1 }, shape: 'CPU=1', maxRestarts: 1, maxTaskRetries: 1, name: 'found-one' } }));
  t.equal((await resultOf(creator, 'create-named', 20_000)).ok, true, 'the named actor was made');

  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const found = await tsray.findActor('found-one');
  await untilRouted(found);
  const routed = status(address).routedCalls;
  t.equal(await tsray.get(found.incr.remote(1n)), 31n);
  t.equal(status(address).routedCalls, routed, 'the finder calls it on a route');
  const inFlight = found.slowIncr.remote(1n, 3000);
  await new Promise((r) => setTimeout(r, 500));
  nodes[0].child.kill('SIGKILL');
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']);
  t.equal(await tsray.get(inFlight, { timeoutMs: 20_000 }), 31n, 'its call lost with the node ran again on the restarted actor (fresh state, 30 + 1)');
});

t.test('a route carries calls to its actor only, and only for the driver the head gave it to', async (t) => {
  const head = await startHead(t, env, TOKEN);
  const comp = builtComponent('counter');
  const drv = await rawDriver(t, head.address, TOKEN, comp);
  const actorId = randomBytes(16).toString('hex');
  drv.send(encode({ t: 'actor-create', createId: 'create-1', actor: { actorId, hash: comp.hash, resource: 'counter', args: [7n], options: { numCpus: 0 }, request: {}, shape: '', maxRestarts: 0 } }));
  t.equal((await resultOf(drv, 'create-1', 20_000)).ok, true, 'the actor is created through the head');

  const ask = async (id, from = drv) => {
    from.send(encode({ t: 'actor-route', id, actorId }));
    return until(`route reply ${id}`, () => from.frames.find((f) => f.t === 'lease-reply' && f.id === id));
  };
  const { lease } = await ask(1);
  t.equal(lease?.actorId, actorId, 'its creator gets a route to it');
  t.same(lease?.request, {}, 'which reserves nothing');

  const other = await rawDriver(t, head.address, TOKEN);
  t.match((await ask(1, other)).busy, /not alive on a node this driver may reach/, 'another driver, never given the actor, gets none');
  drv.send(encode({ t: 'actor-route', id: 2, actorId: 'no-such-actor' }));
  t.ok((await until('reply 2', () => drv.frames.find((f) => f.t === 'lease-reply' && f.id === 2))).busy, 'nor is there one to an actor that does not exist');

  const node = async () => authed(lease.address, TOKEN, 'peer');
  const call = (callId, over = {}) => encode({ t: 'actor-call', actorId, callId, method: 'incr', args: [1n], numReturns: 1, lease: lease.leaseId, ...over });

  const ws = await node();
  ws.send(encode({ t: 'lease', lease }));
  ws.send(call('c-1'));
  ws.send(call('c-2'));
  t.same((await resultOf(ws, 'c-1')).returns, [{ value: 8n }], 'a call on the route runs on the actor and answers on this connection');
  t.same((await resultOf(ws, 'c-2')).returns, [{ value: 9n }], 'in order');
  const foreign = { '\u0000tsray:remote': { nodeId: 'x', address: 'ws://203.0.113.9:1', objectId: 'o', size: 8 } };
  // Behind a 3 s call: the node gives up on hearing of the address (2 s) while that call still runs.
  ws.send(call('slow', { method: 'slow-incr', args: [1n, 3000] }));
  ws.send(call('c-3', { args: [foreign] }));
  ws.send(call('c-3b'));
  t.same((await resultOf(ws, 'slow', 10_000)).returns, [{ value: 10n }], 'a slow call on the route');
  t.match((await resultOf(ws, 'c-3', 10_000)).error?.message ?? '', /only on this node, its owner's object server or a node of the cluster/, 'then the call with an argument at an address neither the route nor the head vouches for is refused');
  t.same((await resultOf(ws, 'c-3b', 10_000)).returns, [{ value: 11n }], 'and the node goes on with the next call, in order');
  ws.send(call('c-4', { actorId: 'another-actor' }));
  t.equal((await closeOf(ws)).code, 4003, 'a call to another actor on this route closes the connection');

  const asRun = await node();
  asRun.send(encode({ t: 'lease', lease }));
  asRun.send(encode({ t: 'run', lease: lease.leaseId, task: { taskId: 'r-1', hash: comp.hash, name: 'x', fn: 'x', args: [], opts: wireOptions() } }));
  t.equal((await closeOf(asRun)).code, 4003, 'a task on an actor route closes the connection');

  const forged = await node();
  forged.send(encode({ t: 'lease', lease: { ...lease, actorId: 'another-actor' } }));
  t.equal((await closeOf(forged)).code, 4001, 'a route turned to another actor breaks its ticket');

  drv.send(encode({ t: 'lease-request', id: 3, request: { CPU: 1 } }));
  const plain = (await until('a lease', () => drv.frames.find((f) => f.t === 'lease-reply' && f.id === 3))).lease;
  t.ok(plain?.ticket, 'a plain worker lease');
  const onPlain = await node();
  onPlain.send(encode({ t: 'lease', lease: plain }));
  onPlain.send(call('c-5', { lease: plain.leaseId }));
  t.equal((await closeOf(onPlain)).code, 4003, 'an actor call on a plain lease closes the connection');
});

t.test('tries a call lost on a route count at the head too: maxTaskRetries holds across both ways', async (t) => {
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  const comp = builtComponent('counter');
  const drv = await rawDriver(t, address, TOKEN, comp);
  const options = { numCpus: 1, maxRestarts: 1, maxTaskRetries: 1 };
  const actor = (n) => ({ actorId: randomBytes(16).toString('hex'), hash: comp.hash, resource: 'counter', args: [BigInt(n)], options, request: { CPU: 1 }, shape: 'CPU=1', maxRestarts: 1, maxTaskRetries: 1 });
  const [spent, fresh] = [actor(10), actor(20)];
  drv.send(encode({ t: 'actor-create', createId: 'create-spent', actor: spent }));
  drv.send(encode({ t: 'actor-create', createId: 'create-fresh', actor: fresh }));
  t.equal((await resultOf(drv, 'create-spent', 20_000)).ok, true);
  t.equal((await resultOf(drv, 'create-fresh', 20_000)).ok, true);
  // As a driver sends a call lost once on a route: through the head, saying its try.
  const call = (a, callId, extra) => encode({ t: 'actor-call', actorId: a.actorId, callId, method: 'slow-incr', args: [1n, 3000], numReturns: 1, ...extra });
  drv.send(call(spent, 'spent-1', { attempt: 1 }));
  drv.send(call(fresh, 'fresh-1', {}));
  await new Promise((r) => setTimeout(r, 800));
  nodes[0].child.kill('SIGKILL');
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']);
  const lost = await resultOf(drv, 'spent-1', 20_000);
  t.equal(lost.error?.code, 'ERR_ACTOR_DIED', `a call whose one retry was spent on a route is not run again (got ${lost.error?.code}: ${lost.error?.message})`);
  const again = await resultOf(drv, 'fresh-1', 20_000);
  t.same(again.returns, [{ value: 21n }], 'one that still has its retry runs on the restarted actor');
});
