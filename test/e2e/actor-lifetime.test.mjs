// Actor lifetime, as in Ray (test_actor_deletion, test_distributed_actor_handle_deletion):
// an actor ends, and its resources return, once its last handle is gone: released
// or collected in the driver, and no longer held by a call, a task or an actor.
// Named and detached actors live until killed.
import t from 'tap';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tsray from 'tsray';
import { ROOT, prebuilt } from '../helpers/components.mjs';
import { caught, sleep } from '../helpers/runtime.mjs';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const probeDir = join(ROOT, 'test', 'fixtures', 'probe');
const [counter, client, probe] = await Promise.all([
  ...['counter', 'counter-client'].map(async (n) => tsray.load(await prebuilt(n))),
  tsray.build({ entry: join(probeDir, 'probe.ts'), wit: probeDir, world: 'probe' }).then((r) => tsray.load(r.component)),
]);

await tsray.init({ numCpus: 2 });
t.teardown(() => tsray.shutdown());
// Each counted actor holds one CPU, so the free CPUs show which actors are alive.
const Counter = counter.actor('counter', { numCpus: 1 });
const freeCpus = () => tsray.availableResources().CPU;

/** Waits until `check()` holds (at most 5 s, collecting garbage meanwhile). */
async function until(check) {
  for (let i = 0; i < 100 && !check(); i++) { gc(); await sleep(50); }
  return check();
}

t.test('release() destroys the actor and returns its resources; the handle is unusable after', async (t) => {
  const c = Counter.remote(1n);
  const incr = c.incr;
  t.equal(await tsray.get(incr.remote(1n)), 2n);
  t.equal(freeCpus(), 1, 'the actor holds a CPU');
  c.release();
  t.equal(freeCpus(), 2, 'released: its CPU is back at once');
  t.equal(c.released, true);
  t.throws(() => incr.remote(1n), { code: 'ERR_INVALID_ARGUMENT' }, 'a method taken from a released handle refuses calls');
  t.throws(() => client.fn('bump').remote(c, 1), { code: 'ERR_INVALID_ARGUMENT' }, 'a released handle cannot be passed to a task');
  c.release();
  t.equal(freeCpus(), 2, 'releasing twice changes nothing');
  const d = Counter.remote(0n);
  await tsray.get(d.get.remote());
  d[Symbol.dispose]();
  t.equal(freeCpus(), 2, 'Symbol.dispose releases too (`using d = ...`)');
});

t.test('a handle the program forgets is collected, and the actor with it', async (t) => {
  await (async () => {
    const c = Counter.remote(0n);
    await tsray.get(c.incr.remote(1n));
  })();
  t.ok(await until(() => freeCpus() === 2), 'after garbage collection the actor is gone and its CPU is back');
});

t.test('calls already made finish before the actor ends', async (t) => {
  const c = Counter.remote(10n);
  const slow = c.slowIncr.remote(5n, 300);
  const next = c.incr.remote(1n);
  c.release();
  t.equal(freeCpus(), 1, 'the actor lives while its calls are unfinished');
  t.strictSame(await tsray.get([slow, next]), [15n, 16n], 'both calls ran');
  t.ok(await until(() => freeCpus() === 2), 'then it ended');
});

t.test('a handle passed to a task keeps the actor alive while the task runs', async (t) => {
  const c = Counter.remote(0n);
  const task = client.fn('bump-slowly').remote(c, 3, 100);
  c.release();
  t.equal(await tsray.get(task), 3n, 'the task reached the actor after the driver released its handle');
  t.ok(await until(() => freeCpus() === 2), 'the actor ended once the task finished');
});

t.test('a handle passed to an actor\'s constructor lives as long as that actor', async (t) => {
  const c = Counter.remote(41n);
  const p = probe.actor('probe').remote('call', c);
  t.equal(await tsray.get(p.report.remote()), 'other 41');
  c.release();
  await sleep(100);
  t.equal(freeCpus(), 1, 'the counter lives: the probe holds its handle');
  p.release();
  t.ok(await until(() => freeCpus() === 2), 'releasing the probe ends both');
});

t.test('named and detached actors live until killed', async (t) => {
  const named = Counter.options({ name: 'kept' }).remote(7n);
  named.release();
  const detached = Counter.options({ lifetime: 'detached' }).remote(8n);
  const kept = detached.get;
  detached.release();
  gc();
  await sleep(100);
  t.equal(freeCpus(), 0, 'both still hold their CPUs');
  t.equal(await tsray.get(tsray.getActor('kept').get.remote()), 7n, 'the named actor answers');
  tsray.kill(tsray.getActor('kept'));
  t.equal(freeCpus(), 1, 'killed: its CPU is back');
  const e = await caught(t, () => Promise.resolve().then(() => kept.remote()));
  t.equal(e?.code, 'ERR_INVALID_ARGUMENT', 'the released detached handle refuses calls');
  tsray.kill(detached);
  t.equal(freeCpus(), 2, 'a kill ends the detached actor (a released handle still names it for kill)');
  t.throws(() => counter.actor('counter', { lifetime: 'forever' }), { code: 'ERR_INVALID_ARGUMENT' });
});
