// Actors: WIT resources as stateful actors on their own worker threads, through the public API.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';

const counterBytes = prebuilt('counter');
const clientBytes = prebuilt('counter-client');
const piBytes = prebuilt('pi');

async function runtime(t, opts = { numCpus: 2 }) {
  await tsray.init(opts);
  t.teardown(() => tsray.shutdown());
  return tsray.load(await counterBytes);
}

t.test("the seed's counters: ten actors in parallel, then five calls on the first in order", async (t) => {
  const mod = await runtime(t);
  const Counter = mod.actor('counter');
  const counters = Array.from({ length: 10 }, () => Counter.remote(0n));
  t.strictSame(await tsray.get(counters.map((c) => c.incr.remote(1n))), Array(10).fill(1n));
  const first = counters[0];
  t.strictSame(await tsray.get(Array.from({ length: 5 }, () => first.incr.remote(1n))), [2n, 3n, 4n, 5n, 6n]);
  t.equal(await tsray.get(counters[1].get.remote()), 1n, 'the other counters kept their own state');
});

t.test('state persists across calls and is isolated per actor', async (t) => {
  const mod = await runtime(t);
  const a = mod.actor('counter').remote(100n);
  const b = mod.actor('counter').remote(0n);
  await tsray.get(a.incr.remote(5n));
  await tsray.get(a.incr.remote(5n));
  t.equal(await tsray.get(a.get.remote()), 110n);
  t.equal(await tsray.get(b.get.remote()), 0n, 'two actors of one component share nothing');
  t.equal(await tsray.get(b.method('slow-incr').remote(2n, 0)), 2n, 'methods by WIT name too');
});

t.test('calls run in submission order even when an earlier call waits on a task', async (t) => {
  const mod = await runtime(t);
  const pi = await tsray.load(await piBytes);
  const c = mod.actor('counter').remote(0n);
  const slowValue = pi.fn('hits').remote(3_000_000, 7n); // a u32 computed by a task, passed as s64
  const first = c.incr.remote(slowValue);
  const second = c.incr.remote(1n);
  const hits = BigInt(await tsray.get(slowValue));
  t.equal(await tsray.get(first), hits);
  t.equal(await tsray.get(second), hits + 1n, 'the second call saw the first');
});

t.test('calls on different actors run in parallel', async (t) => {
  const mod = await runtime(t);
  const Counter = mod.actor('counter');
  const actors = [Counter.remote(0n), Counter.remote(0n), Counter.remote(0n)];
  await tsray.get(actors.map((a) => a.get.remote()));
  const started = performance.now();
  t.strictSame(await tsray.get(actors.map((a) => a.slowIncr.remote(1n, 300))), [1n, 1n, 1n]);
  const ms = performance.now() - started;
  t.ok(ms < 750, `three 300 ms calls on three actors took ${ms.toFixed(0)} ms, not 900`);
});

t.test('a constructor that traps makes every call fail with ActorDiedError carrying the cause', async (t) => {
  const mod = await runtime(t);
  const bad = mod.actor('counter').remote(-1n);
  for (const ref of [bad.incr.remote(1n), bad.get.remote()]) {
    const e = await tsray.get(ref).catch((x) => x);
    t.ok(e instanceof tsray.ActorDiedError, e?.name);
    t.equal(e.code, 'ERR_ACTOR_DIED');
    t.match(e.message, /cannot start below zero/);
    t.ok(e.cause instanceof tsray.TaskError, 'the cause is the constructor trap');
  }
});

t.test('a method that traps fails that call; without restarts the actor is then dead', async (t) => {
  const mod = await runtime(t);
  const c = mod.actor('counter').remote(5n);
  const crash = c.crash.remote('boom');
  const queued = c.incr.remote(1n);
  const e = await tsray.get(crash).catch((x) => x);
  t.ok(e instanceof tsray.TaskError);
  t.match(e.guestMessage, /boom/);
  const d = await tsray.get(queued).catch((x) => x);
  t.ok(d instanceof tsray.ActorDiedError, 'a queued call fails with ActorDiedError');
  t.match(d.message, /boom/);
  t.ok((await tsray.get(c.get.remote()).catch((x) => x)) instanceof tsray.ActorDiedError, 'and so do later calls');
});

t.test('with maxRestarts the actor restarts with fresh state, then dies when restarts run out', async (t) => {
  const mod = await runtime(t);
  const c = mod.actor('counter', { maxRestarts: 1 }).remote(5n);
  t.equal(await tsray.get(c.incr.remote(10n)), 15n);
  t.ok((await tsray.get(c.crash.remote('first')).catch((x) => x)) instanceof tsray.TaskError);
  t.equal(await tsray.get(c.incr.remote(1n)), 6n, 'the constructor ran again: state is fresh');
  t.ok((await tsray.get(c.crash.remote('second')).catch((x) => x)) instanceof tsray.TaskError);
  const e = await tsray.get(c.incr.remote(1n)).catch((x) => x);
  t.ok(e instanceof tsray.ActorDiedError);
  t.match(e.message, /second/);
});

t.test('kill ends the actor, fails queued calls and frees its resources', async (t) => {
  const mod = await runtime(t);
  const c = mod.actor('counter', { numCpus: 1 }).remote(0n);
  await tsray.get(c.get.remote());
  t.equal(tsray.availableResources().CPU, 1, 'the actor holds its CPU for its life');
  const running = c.slowIncr.remote(1n, 2000);
  const queued = c.incr.remote(1n);
  await new Promise((r) => setTimeout(r, 50));
  tsray.kill(c);
  for (const ref of [running, queued]) t.ok((await tsray.get(ref).catch((x) => x)) instanceof tsray.ActorDiedError);
  t.equal(tsray.availableResources().CPU, 2, 'its CPU is back');
  t.ok((await tsray.get(c.get.remote()).catch((x) => x)) instanceof tsray.ActorDiedError, 'later calls fail too');
});

t.test('actor resources: numCpus 0 actors beyond the CPU count; a third 1-CPU actor waits for a kill', async (t) => {
  const mod = await runtime(t);
  const Counter = mod.actor('counter');
  const light = Array.from({ length: 6 }, (_, i) => Counter.remote(BigInt(i)));
  t.strictSame(await tsray.get(light.map((a) => a.get.remote())), [0n, 1n, 2n, 3n, 4n, 5n]);
  const Heavy = Counter.options({ numCpus: 1 });
  const heavy = [Heavy.remote(0n), Heavy.remote(0n)];
  await tsray.get(heavy.map((h) => h.get.remote()));
  const third = Heavy.remote(7n);
  const call = third.get.remote();
  const [ready] = await tsray.wait([call], { timeoutMs: 300 });
  t.equal(ready.length, 0, 'no CPU is free for a third 1-CPU actor');
  tsray.kill(heavy[0]);
  t.equal(await tsray.get(call, { timeoutMs: 5000 }), 7n, 'it starts once one is killed');
});

t.test('handles passed to tasks: three tasks each increment ten times, the driver reads 30', async (t) => {
  const mod = await runtime(t);
  const client = await tsray.load(await clientBytes);
  const counter = mod.actor('counter').remote(0n);
  const bumps = [1, 2, 3].map(() => client.fn('bump').remote(counter, 10));
  const last = await tsray.get(bumps);
  t.equal(await tsray.get(counter.get.remote()), 30n);
  t.ok(last.includes(30n), 'one task made the last increment');
  t.ok(last.every((v) => v >= 10n && v <= 30n));
});

t.test('handles passed to other actors: an actor calls another through the runtime import', async (t) => {
  const mod = await runtime(t);
  const Counter = mod.actor('counter');
  const a = Counter.remote(40n);
  const b = Counter.remote(2n);
  t.equal(await tsray.get(b.absorb.remote(a)), 42n);
  t.equal(await tsray.get(a.get.remote()), 40n);
});

t.test('cancel: queued calls are cancelled, running ones stop at their next host call, force is refused', async (t) => {
  const mod = await runtime(t);
  const c = mod.actor('counter').remote(0n);
  await tsray.get(c.get.remote()); // the actor is up, so the timing below measures only the cancel
  const long = c.slowIncr.remote(1n, 5000);
  const queued = c.incr.remote(10n);
  const after = c.incr.remote(100n);
  tsray.cancel(queued);
  t.ok((await tsray.get(queued).catch((x) => x)) instanceof tsray.TaskCancelledError, 'queued call cancelled');
  await new Promise((r) => setTimeout(r, 100));
  const started = performance.now();
  tsray.cancel(long);
  const e = await tsray.get(long).catch((x) => x);
  t.ok(e instanceof tsray.TaskCancelledError, 'running call cancelled');
  t.ok(performance.now() - started < 2000, 'without waiting out its sleep');
  t.equal(await tsray.get(after), 100n, 'the actor lives on with its state');
  const ref = c.incr.remote(1n);
  t.throws(() => tsray.cancel(ref, { force: true }), tsray.InvalidArgumentError);
  t.equal(await tsray.get(ref), 101n);
});

t.test('named actors', async (t) => {
  const mod = await runtime(t);
  const Counter = mod.actor('counter');
  Counter.options({ name: 'global-counter' }).remote(100n);
  const found = tsray.getActor('global-counter');
  t.equal(await tsray.get(found.incr.remote(1n)), 101n);
  t.throws(() => Counter.options({ name: 'global-counter' }).remote(0n), /already exists/);
  t.throws(() => tsray.getActor('nobody'), /no actor named 'nobody'/);
  tsray.kill(found);
  t.throws(() => tsray.getActor('global-counter'), /no actor named/, 'a dead actor gives up its name');
});

t.test('arguments are checked at .remote() time', async (t) => {
  const mod = await runtime(t);
  const Counter = mod.actor('counter');
  t.throws(() => Counter.remote('x'), tsray.ArgumentTypeError);
  const c = Counter.remote(0n);
  t.throws(() => c.incr.remote(), /expected 1 argument, got 0/);
  t.throws(() => c.incr.remote(1.5), /argument 'by'/);
  t.throws(() => mod.actor('nothing'), /no resource 'nothing'/);
});
