// A guest's calls to an actor go worker to worker over a direct link once
// its first call went through the node: results, order, state events, hostile
// calls over the link, and the link's end when either side goes.
import t from 'tap';
import * as tsray from 'tsray';
import { encode } from 'cbor-x';
import { prebuilt } from '../helpers/components.mjs';

async function setup(t, opts = { numCpus: 1 }) {
  await tsray.init(opts);
  t.teardown(() => tsray.shutdown());
  const counters = await tsray.load(await prebuilt('counter'));
  const client = await tsray.load(await prebuilt('counter-client'));
  return { counters, Counter: counters.actor('counter'), client };
}

/** Polls `f` until it returns true, for up to `ms`. */
async function eventually(f, ms = 5000) {
  const until = Date.now() + ms;
  while (!(await f()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  return f();
}

const incrArgs = encode([1]);

t.test('a guest calling an actor in a loop: one link, every call in order, and each a FINISHED actor call in tsray.state', async (t) => {
  const { Counter, client } = await setup(t, { numCpus: 2 });
  const counter = Counter.remote(0n);
  t.equal(tsray.testing.directLinks(), 0, 'no link before a guest calls');
  t.equal(await tsray.get(client.fn('bump').remote(counter, 300)), 300n, 'each call saw the value before it');
  t.equal(tsray.testing.directLinks(), 1, "the guest's first call opened one link");
  // The driver's calls go through the node meanwhile; the actor runs both kinds one at a time.
  const [guestLast] = await Promise.all([tsray.get(client.fn('bump').remote(counter, 200)), ...Array.from({ length: 50 }, () => tsray.get(counter.incr.remote(10n)))]);
  t.ok(guestLast >= 500n && guestLast <= 1000n, `the guest's last call saw ${guestLast}`);
  t.equal(await tsray.get(counter.get.remote()), 1000n, 'no call was lost or run twice');
  const finished = () => tsray.state.listTasks({ filters: ['name=counter.incr', 'state=FINISHED', `actorId=${counter.id}`], limit: 10_000 });
  t.ok(await eventually(async () => (await finished()).length === 550), 'the node recorded every call, direct ones included');
  const rows = await finished();
  t.equal(new Set(rows.map((r) => r.taskId)).size, 550, 'each call has its own task id');
  t.ok(rows.every((r) => r.startedAt <= r.endedAt && r.workerId >= 0), 'with its times and worker');
});

t.test('hostile calls over a link end in the same typed errors as through the node, and the actor keeps its state', async (t) => {
  const { Counter, client } = await setup(t);
  const counter = Counter.remote(0n);
  const raw = (method, args, times = 2) => tsray.get(client.fn('callRaw').remote(counter, method, args, times));
  t.strictSame(await raw('incr', incrArgs, 1), ['ok']);
  t.equal(tsray.testing.directLinks(), 1);
  const [nope] = await raw('nope', incrArgs);
  t.match(nope, /ERR_INVALID_ARGUMENT|has no method 'nope'/);
  t.strictSame(await raw('nope', incrArgs), [nope, nope], 'an unknown method, again and again');
  const [wrongType] = await raw('incr', encode(['one']), 1);
  t.match(wrongType, /incr/, 'an argument of the wrong type names the method');
  const [wrongCount] = await raw('incr', encode([1, 2]), 1);
  t.match(wrongCount, /expected 1 argument/);
  const [notArray] = await raw('incr', encode(5), 1);
  t.match(notArray, /must be a CBOR array/);
  const [notCbor] = await raw('incr', new Uint8Array([0xff, 0x00]), 1);
  t.match(notCbor, /not valid CBOR/);
  const [tooLarge] = await raw('incr', encode([2n ** 70n]), 1);
  t.not(tooLarge, 'ok', 'an integer outside s64 is refused');
  const other = Counter.remote(1000n);
  const [forged] = await raw('absorb', encode([{ id: other.id }]), 1);
  t.match(forged, /ERR_NOT_GIVEN/, 'a handle the guest was not given is not passed on, even to an actor it may call');
  t.equal(await tsray.get(counter.get.remote()), 1n, 'only the one good call counted');
  t.strictSame(await raw('incr', incrArgs, 3), ['ok', 'ok', 'ok'], 'the link still serves');
  t.equal(tsray.testing.directLinks(), 1);
});

t.test('an actor killed while a guest calls it over a link: the guest gets why, the link closes, nothing hangs', async (t) => {
  const { Counter, client } = await setup(t);
  const counter = Counter.remote(0n);
  const bumps = client.fn('bumpSlowly').remote(counter, 100_000, 1);
  t.ok(await eventually(async () => (await tsray.get(counter.get.remote())) > 20n), 'the guest is calling');
  t.equal(tsray.testing.directLinks(), 1);
  tsray.kill(counter);
  await t.rejects(tsray.get(bumps, { timeoutMs: 10_000 }), /incr failed.*killed/);
  t.equal(tsray.testing.directLinks(), 0, 'the link went with the actor');
  const next = Counter.remote(7n);
  t.equal(await tsray.get(client.fn('bump').remote(next, 5)), 12n, 'the same worker links to a new actor');
  t.equal(tsray.testing.directLinks(), 1);
});

t.test('an actor restarted on a new thread: the call in flight fails, later calls link to the new thread and see fresh state', async (t) => {
  const { counters, client } = await setup(t);
  const counter = counters.actor('counter', { maxRestarts: 1 }).remote(100n);
  // Each call sleeps 200 ms in the actor: the guest always has one in flight.
  const calls = tsray.get(client.fn('callRaw').remote(counter, 'slow-incr', encode([1, 200]), 12));
  t.ok(await eventually(async () => (await tsray.get(counter.get.remote())) >= 103n));
  // Our own `get` ran between two of its calls: the kill waits until the next one is surely under way.
  await new Promise((r) => setTimeout(r, 100));
  tsray.kill(counter, { noRestart: false });
  const results = await calls;
  const failed = results.filter((r) => r !== 'ok');
  t.equal(failed.length, 1, `one call was in flight when the thread went (${JSON.stringify(results)})`);
  t.match(failed[0], /died|killed/, 'and failed with why');
  const after = results.length - 1 - results.indexOf(failed[0]);
  t.ok(after >= 1, 'later calls went on');
  t.equal(await tsray.get(counter.get.remote()), 100n + BigInt(after), 'to the restarted actor, which started from its constructor again');
  t.equal(tsray.testing.directLinks(), 1, 'over one link, to the new thread');
});

t.test("a caller cancelled while it waits: a late answer is never taken for a later call's, and a killed caller's link closes", async (t) => {
  const { Counter, client } = await setup(t);
  const counter = Counter.remote(0n);
  const first = client.fn('bump').remote(counter, 10_000_000);
  t.ok(await eventually(async () => (await tsray.get(counter.get.remote())) > 100n));
  tsray.cancel(first);
  await t.rejects(tsray.get(first), { code: 'ERR_TASK_CANCELLED' });
  const before = await tsray.get(counter.get.remote());
  t.equal(await tsray.get(client.fn('bump').remote(counter, 50)), before + 50n, 'the next task on that worker reads its own answers');
  const second = client.fn('bump').remote(counter, 10_000_000);
  t.ok(await eventually(async () => (await tsray.get(counter.get.remote())) > before + 200n));
  tsray.cancel(second, { force: true });
  await t.rejects(tsray.get(second), { code: 'ERR_TASK_CANCELLED' });
  t.ok(await eventually(() => tsray.testing.directLinks() === 0), "the killed worker's link closed");
  const after = await tsray.get(counter.get.remote());
  t.equal(await tsray.get(client.fn('bump').remote(counter, 5)), after + 5n, 'a new worker links and calls');
});
