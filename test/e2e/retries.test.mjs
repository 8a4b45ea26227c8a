// Retries as in Ray: `retryExceptions` re-runs a task after its own error
// within `maxRetries` (Ray's test_failure / test_task_retry), and
// `maxTaskRetries` re-sends actor calls lost with a restart (test_actor_failures).
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ROOT, prebuilt } from '../helpers/components.mjs';
import { caught, sleep } from '../helpers/runtime.mjs';

/** Builds test/fixtures/<name>/<name>.ts for world <name> and loads it. */
async function fixture(name) {
  const dir = join(ROOT, 'test', 'fixtures', name);
  return tsray.load((await tsray.build({ entry: join(dir, `${name}.ts`), wit: dir, world: name })).component);
}

const [flaky, picky, faulty, counter, slow] = await Promise.all([
  fixture('flaky'), fixture('picky'), ...['faulty', 'counter', 'slow'].map(async (n) => tsray.load(await prebuilt(n))),
]);

await tsray.init({ numCpus: 2 });
t.teardown(() => tsray.shutdown());

t.test('retryExceptions: true retries a task that threw, and its retry sees the next attempt', async (t) => {
  const f = flaky.fn('flaky');
  const e = await caught(t, () => tsray.get(f.remote(0)));
  t.ok(e instanceof tsray.TaskError, `by default a task's own error is not retried (got ${e?.constructor?.name})`);
  t.equal(await tsray.get(f.options({ retryExceptions: true }).remote(0)), 1, 'with retryExceptions it ran again as attempt 1 and succeeded');
  const none = await caught(t, () => tsray.get(f.options({ retryExceptions: true, maxRetries: 0 }).remote(0)));
  t.ok(none instanceof tsray.TaskError, 'maxRetries 0 leaves no retry');
  t.match(none?.message, /failed on attempt 0/, 'the error is the task\'s own');
});

t.test('retries stop at maxRetries and the last error is the one thrown', async (t) => {
  // fail() throws on every attempt: 1 + maxRetries runs, then the TaskError.
  const e = await caught(t, () => tsray.get(faulty.fn('fail').options({ retryExceptions: true, maxRetries: 2 }).remote('always')));
  t.ok(e instanceof tsray.TaskError, `TaskError after the retries (got ${e?.constructor?.name})`);
  t.match(e?.guestMessage, /always/);
  const trap = await caught(t, () => tsray.get(faulty.fn('trap').options({ retryExceptions: true, maxRetries: 1 }).remote()));
  t.ok(trap instanceof tsray.TaskError, 'a trap that repeats ends as a TaskError too');
});

t.test('retryExceptions as a list retries only the errors it names', async (t) => {
  const f = flaky.fn('flaky');
  t.equal(await tsray.get(f.options({ retryExceptions: ['TaskError'] }).remote(0)), 1, "['TaskError'] retries a thrown error");
  const other = await caught(t, () => tsray.get(f.options({ retryExceptions: ['OutOfMemoryError'] }).remote(0)));
  t.ok(other instanceof tsray.TaskError, 'a list without TaskError does not retry a thrown error');

  // The case of an err result whose type is a WIT enum names the error, as an exception class does in Ray.
  const ff = picky.fn('fail-first').options({ retryExceptions: ['busy'] });
  t.equal(await tsray.get(ff.remote('busy')), 1, "err(busy) is retried under ['busy']");
  const broken = await caught(t, () => tsray.get(ff.remote('broken')));
  t.ok(broken instanceof tsray.TaskError, `err(broken) is not (got ${broken?.constructor?.name})`);
  t.equal(broken?.payload, 'broken', 'and its payload is the first attempt\'s');
});

t.test('retryExceptions is checked', async (t) => {
  const f = flaky.fn('flaky');
  t.throws(() => f.options({ retryExceptions: 'TaskError' }), { code: 'ERR_INVALID_ARGUMENT' }, 'a bare string is refused');
  t.throws(() => f.options({ retryExceptions: [''] }), { code: 'ERR_INVALID_ARGUMENT' }, 'an empty name is refused');
  t.throws(() => counter.actor('counter', { retryExceptions: true }), { code: 'ERR_INVALID_ARGUMENT' }, 'actors take maxTaskRetries instead');
  t.throws(() => counter.actor('counter', { maxTaskRetries: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('a cancelled task is not retried', async (t) => {
  const r = slow.fn('nap').options({ retryExceptions: true }).remote(5000);
  await sleep(100);
  tsray.cancel(r);
  const e = await caught(t, () => tsray.get(r, { timeoutMs: 3000 }));
  t.ok(e instanceof tsray.TaskCancelledError, `TaskCancelledError (got ${e?.constructor?.name})`);
});

/** An actor with a call running and one queued behind it on its worker, then killed with a restart. */
async function lostCalls(t, opts) {
  const c = counter.actor('counter', opts).remote(10n);
  t.equal(await tsray.get(c.get.remote()), 10n);
  const running = c.slowIncr.remote(1n, 400);
  const queued = c.incr.remote(1n);
  await sleep(150);
  tsray.kill(c, { noRestart: false });
  return { c, outcomes: await Promise.all([running, queued].map((r) => tsray.get(r, { timeoutMs: 10_000 }).then((v) => v, (e) => e))) };
}

t.test('maxTaskRetries: calls in flight when the actor died run again on the restarted actor, in order', async (t) => {
  const { c, outcomes } = await lostCalls(t, { maxRestarts: 1, maxTaskRetries: 1 });
  t.strictSame(outcomes, [11n, 12n], 'both ran on the fresh actor (state from its constructor), the running one first');
  t.equal(await tsray.get(c.get.remote()), 12n, 'later calls see their effects');
});

t.test('maxTaskRetries defaults to 0: calls in flight fail with ActorDiedError, the actor still restarts', async (t) => {
  const { c, outcomes } = await lostCalls(t, { maxRestarts: 1 });
  t.ok(outcomes.every((o) => o instanceof tsray.ActorDiedError), `both calls: ActorDiedError (got ${outcomes.map((o) => o?.constructor?.name)})`);
  t.equal(await tsray.get(c.get.remote()), 10n, 'the restarted actor serves later calls');
});

t.test('maxTaskRetries without a restart left: the calls fail', async (t) => {
  const { outcomes } = await lostCalls(t, { maxRestarts: 0, maxTaskRetries: 3 });
  t.ok(outcomes.every((o) => o instanceof tsray.ActorDiedError), 'no restart, no retry');
});

t.test('maxTaskRetries counts per call: a second loss of the same call fails it', async (t) => {
  const c = counter.actor('counter', { maxRestarts: -1, maxTaskRetries: 1 }).remote(0n);
  await tsray.get(c.get.remote());
  const call = c.slowIncr.remote(1n, 400);
  await sleep(150);
  tsray.kill(c, { noRestart: false });
  await sleep(250);
  tsray.kill(c, { noRestart: false });
  const e = await caught(t, () => tsray.get(call, { timeoutMs: 10_000 }));
  t.ok(e instanceof tsray.ActorDiedError, `lost twice with one retry: ActorDiedError (got ${e?.constructor?.name})`);
  const forever = counter.actor('counter', { maxRestarts: -1, maxTaskRetries: -1 }).remote(0n);
  await tsray.get(forever.get.remote());
  const again = forever.slowIncr.remote(1n, 400);
  for (let i = 0; i < 3; i++) { await sleep(150); tsray.kill(forever, { noRestart: false }); }
  t.equal(await tsray.get(again, { timeoutMs: 10_000 }), 1n, 'maxTaskRetries -1 re-sends it every time');
});
