// cancel(): queued, running (at the next host call), forced, dependents, finished tasks.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { sleep, withRuntime } from '../helpers/runtime.mjs';

const [matrix, text, slow] = await Promise.all(['matrix', 'text', 'slow'].map(async (n) => tsray.load(await prebuilt(n))));

/** Settles `p`: { value } or { error }, with the time it took from `since`. */
async function settle(p, since = performance.now()) {
  try {
    const value = await p;
    return { value, ms: performance.now() - since };
  } catch (error) {
    return { error, ms: performance.now() - since };
  }
}

/** Checks that `s` (from settle) is a TaskCancelledError. */
function isCancelled(t, s, what) {
  t.ok(s.error instanceof tsray.TaskCancelledError, `${what}: TaskCancelledError (got ${s.error?.constructor?.name ?? `value ${s.value}`})`);
  t.equal(s.error?.code, 'ERR_TASK_CANCELLED', `${what}: code`);
}

/** Runs a nap(1) on every worker so later timings do not include worker start-up. */
async function warmUp(n) {
  const refs = [];
  for (let i = 0; i < n; i++) refs.push(slow.fn('nap').remote(1));
  await tsray.get(refs);
}

t.test('one CPU', async (t) => {
  await withRuntime({ numCpus: 1 }, async () => {
    await warmUp(1);
    const nap = slow.fn('nap');

    await t.test('a task queued behind another is removed', async (t) => {
      const t0 = performance.now();
      const first = nap.remote(500);
      const second = nap.remote(3000);
      let firstDone = Infinity;
      const firstP = settle(tsray.get(first), t0).then((s) => { firstDone = performance.now() - t0; return s; });
      await sleep(50);
      tsray.cancel(second);
      const s2 = await settle(tsray.get(second), t0);
      isCancelled(t, s2, 'the second task');
      t.match(s2.error?.message, /nap/, 'the error names the function');
      t.ok(s2.ms < 2500, `the second task never ran its 3000 ms nap (${s2.ms.toFixed(0)} ms after submit)`);
      t.equal(firstDone, Infinity, 'the cancel landed before the first task finished');
      const s1 = await firstP;
      t.match(s1.value, /attempt 0/, 'the first task still returns its value');
      t.ok(firstDone >= 450, `the first task ran its full nap (${firstDone.toFixed(0)} ms)`);
    });

    await t.test('a task waiting in the node queue is removed at once', async (t) => {
      // Tasks with a timeout get a worker each, so with one CPU the second waits in the node's queue.
      const timed = nap.options({ timeoutMs: 20_000 });
      const t0 = performance.now();
      const first = timed.remote(1500);
      const second = timed.remote(1500);
      let firstDone;
      const firstP = tsray.get(first).then((v) => { firstDone = performance.now() - t0; return v; });
      await sleep(50);
      tsray.cancel(second);
      const s2 = await settle(tsray.get(second), t0);
      isCancelled(t, s2, 'the queued task');
      t.equal(firstDone, undefined, 'rejected before the first task finished');
      t.ok(s2.ms < 1000, `quickly (${s2.ms.toFixed(0)} ms after submit)`);
      t.match(await firstP, /attempt 0/, 'the first task still returns its value');
      t.ok(firstDone >= 1450, `after its full nap (${firstDone.toFixed(0)} ms)`);
    });

    await t.test('cancelling the running task and the one queued behind it stops both at once', async (t) => {
      const a = nap.remote(1500);
      const b = nap.remote(1500);
      await sleep(100);
      const t0 = performance.now();
      tsray.cancel(a);
      tsray.cancel(b);
      const [sa, sb] = await Promise.all([settle(tsray.get(a), t0), settle(tsray.get(b), t0)]);
      isCancelled(t, sa, 'the running task');
      isCancelled(t, sb, 'the queued task');
      t.ok(sa.ms < 1000, `the running task stopped at its host call (${sa.ms.toFixed(0)} ms)`);
      t.ok(sb.ms < 1000, `the queued task was dropped (${sb.ms.toFixed(0)} ms)`);
    });

    await t.test('a running task is stopped at its next host call', async (t) => {
      const ref = nap.remote(5000);
      await sleep(100);
      const t0 = performance.now();
      tsray.cancel(ref);
      const s = await settle(tsray.get(ref), t0);
      isCancelled(t, s, 'nap(5000)');
      t.ok(s.ms < 2000, `in well under 5 s (${s.ms.toFixed(0)} ms after cancel)`);
      t.equal(await tsray.get(matrix.fn('add').remote(2, 3)), 5, 'the worker goes on with the next task');
      t.equal(tsray.testing.workerCount(), 1);
    });
  });
});

t.test('two CPUs', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    await warmUp(2);
    const add = matrix.fn('add');
    const nap = slow.fn('nap');
    const spin = slow.fn('spin');

    await t.test('force stops a task that makes no host calls, and loses nothing else', async (t) => {
      const before = [add.remote(1, 1), nap.remote(300), add.remote(2, 2)];
      const s = spin.remote();
      const after = [];
      for (let i = 0; i < 6; i++) after.push(add.remote(i, 10));
      await sleep(100);
      const t0 = performance.now();
      tsray.cancel(s, { force: true });
      const st = await settle(tsray.get(s), t0);
      isCancelled(t, st, 'spin()');
      t.ok(st.ms < 2000, `quickly (${st.ms.toFixed(0)} ms after cancel)`);
      const b = await tsray.get(before);
      t.equal(b[0], 2);
      t.match(b[1], /attempt 0/);
      t.equal(b[2], 4);
      t.strictSame(await tsray.get(after), [10, 11, 12, 13, 14, 15], 'tasks submitted after it complete');
      t.strictSame(await tsray.get([add.remote(100, 1), nap.remote(1)]).then((v) => [v[0], typeof v[1]]), [101, 'string'], 'and new ones too');
      t.equal(tsray.testing.workerCount(), 2, 'the worker count is back to the CPU count');
    });

    await t.test('a plain cancel cannot stop spin(); force can', async (t) => {
      const s = spin.remote();
      await sleep(100);
      tsray.cancel(s);
      const [ready, notReady] = await tsray.wait([s], { timeoutMs: 500 });
      t.equal(ready.length, 0, 'spin() makes no host call, so it is still running');
      t.equal(notReady[0], s);
      t.equal(await tsray.get(add.remote(5, 5)), 10, 'the other worker still serves tasks');
      const t0 = performance.now();
      tsray.cancel(s, { force: true });
      const st = await settle(tsray.get(s), t0);
      isCancelled(t, st, 'spin() after force');
      t.ok(st.ms < 2000, `quickly (${st.ms.toFixed(0)} ms)`);
      t.equal(tsray.testing.workerCount(), 2);
    });

    await t.test('dependents of a cancelled task fail with TaskCancelledError', async (t) => {
      const x = nap.remote(3000);
      const d1 = text.fn('greet').remote(x);
      const d2 = text.fn('greet').remote(d1);
      await sleep(50);
      const t0 = performance.now();
      tsray.cancel(x);
      isCancelled(t, await settle(tsray.get(x)), 'the cancelled task');
      const s1 = await settle(tsray.get(d1), t0);
      isCancelled(t, s1, 'its dependent');
      isCancelled(t, await settle(tsray.get(d2)), 'a dependent of the dependent');
      t.ok(s1.ms < 2000, `without waiting for the nap (${s1.ms.toFixed(0)} ms)`);
      const late = text.fn('greet').remote(x);
      isCancelled(t, await settle(tsray.get(late)), 'a dependent submitted after the cancel');

      // Cancelling a dependent leaves its argument's task alone.
      const y = nap.remote(200);
      const w = text.fn('greet').remote(y);
      tsray.cancel(w);
      isCancelled(t, await settle(tsray.get(w)), 'a task waiting for its argument');
      t.match(await tsray.get(y), /attempt 0/, 'its argument still completes');
    });

    await t.test('cancelling a finished task changes nothing', async (t) => {
      const r = add.remote(20, 22);
      t.equal(await tsray.get(r), 42);
      tsray.cancel(r);
      tsray.cancel(r, { force: true });
      t.equal(await tsray.get(r), 42, 'get still returns the value');
      const [ready] = await tsray.wait([r]);
      t.equal(ready[0], r, 'and it is still ready');
      const p = tsray.put('kept');
      tsray.cancel(p);
      t.equal(await tsray.get(p), 'kept', 'cancel of a put object changes nothing');
      t.equal(await tsray.get(add.remote(1, 1)), 2, 'the node still serves tasks');
      t.equal(tsray.testing.workerCount(), 2, 'two workers');
      t.throws(() => tsray.cancel('nope'), tsray.InvalidArgumentError, 'cancel of a non-ref is refused');
    });
  });
});
