// An actor killed while it still waits for resources (or for a node that can
// hold it) leaves every queue: it is never created later and holds nothing.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { caught, sleep, withRuntime } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv, joinNode } from '../helpers/cluster.mjs';

const counter = await tsray.load(await prebuilt('counter'));
const Counter = counter.actor('counter');

t.test('embedded: a killed actor waiting for a CPU never starts, and its queued calls fail', async (t) => {
  await withRuntime({ numCpus: 1 }, async () => {
    const holder = Counter.options({ numCpus: 1 }).remote(0n);
    t.equal(await tsray.get(holder.incr.remote(1n)), 1n);
    const waiting = Counter.options({ numCpus: 1 }).remote(10n);
    const queued = waiting.incr.remote(1n);
    await sleep(100);
    tsray.kill(waiting);
    const e = await caught(t, () => tsray.get(queued, { timeoutMs: 2000 }));
    t.ok(e instanceof tsray.ActorDiedError, `a call queued on it: ActorDiedError (got ${e?.constructor?.name})`);
    tsray.kill(holder);
    await sleep(100);
    t.equal(tsray.availableResources().CPU, 1, 'the CPU the holder gave back is not taken by the killed actor');
    const next = Counter.options({ numCpus: 1 }).remote(5n);
    t.equal(await tsray.get(next.get.remote(), { timeoutMs: 5000 }), 5n, 'a new actor gets the CPU');
  });
});

t.test('embedded: a killed actor no node can hold is gone too', async (t) => {
  await withRuntime({ numCpus: 1 }, async () => {
    const big = Counter.options({ resources: { TPU: 1 } }).remote(0n);
    const queued = big.get.remote();
    tsray.kill(big);
    const e = await caught(t, () => tsray.get(queued, { timeoutMs: 2000 }));
    t.ok(e instanceof tsray.ActorDiedError, `ActorDiedError (got ${e?.constructor?.name})`);
    t.match(e?.message, /killed/);
  });
});

const env = isolatedEnv('actor-pending-kill');
const TOKEN = 'actor-pending-kill-token';

/** The head's pending demands, from `tsray status --json`. */
function demands(address) {
  const r = spawnSync(process.execPath, [CLI, 'status', '--json', '--address', address], { env: { ...env, TSRAY_TOKEN: TOKEN }, encoding: 'utf8' });
  return JSON.parse(r.stdout).demands.map((d) => [JSON.stringify(d.shape), d.count]);
}

/** Polls `demands` until it is empty (at most 5 s); returns the last answer. */
async function demandsSettled(address) {
  let d = demands(address);
  for (let i = 0; i < 25 && d.length > 0; i++) { await sleep(200); d = demands(address); }
  return d;
}

t.test('cluster: an actor waiting for a node leaves the demands when killed or when its driver leaves', async (t) => {
  const { address } = await cluster(t, env, TOKEN);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  const big = Counter.options({ resources: { TPU: 1 } }).remote(0n);
  const queued = big.get.remote();
  await sleep(300);
  t.equal(demands(address).length, 1, 'the waiting actor is a demand');
  tsray.kill(big);
  const e = await caught(t, () => tsray.get(queued, { timeoutMs: 5000 }));
  t.ok(e instanceof tsray.ActorDiedError, `its queued call: ActorDiedError (got ${e?.constructor?.name})`);
  t.strictSame(await demandsSettled(address), [], 'killing it removed the demand');

  // Another driver makes a waiting actor, then exits.
  const script = `import * as tsray from 'tsray';
    await tsray.init({ address: ${JSON.stringify(address)}, token: ${JSON.stringify(TOKEN)} });
    const c = (await tsray.load(await (await import('./test/helpers/components.mjs')).prebuilt('counter'))).actor('counter');
    c.options({ resources: { TPU: 1 } }).remote(0n);
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write('created\\n');
    process.exit(0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise((r) => child.on('exit', r));
  t.equal(out.trim(), 'created', 'the other driver made its actor and left');
  t.strictSame(await demandsSettled(address), [], "the driver's leaving removed its waiting actor's demand");

  // A node that can hold them joins: neither killed actor is created there, so a new one gets the TPU.
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '1', '--resources', '{"TPU": 1}']);
  const fresh = Counter.options({ resources: { TPU: 1 } }).remote(7n);
  t.equal(await tsray.get(fresh.get.remote(), { timeoutMs: 10_000 }), 7n, 'a new actor gets the only TPU');
});
