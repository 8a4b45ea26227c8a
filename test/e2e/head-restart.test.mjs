// A head that survives restarts, as Ray's GCS fault tolerance: the head keeps its tables in Redis (a real
// redis-server) or in a local file; killed with kill -9 and started again, it takes its cluster back. Its
// nodes run on meanwhile and come back under their ids, with their actors (state and all) and objects; its
// driver waits, sends again what was in flight, and gets every result once; work submitted while the head
// was away runs when it is back. A head that comes back without its tables makes its node join anew; a node
// whose connection breaks while the head runs on comes back to it as it was.
import t from 'tap';
import * as tsray from 'tsray';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { prebuilt, CLI, ROOT } from '../helpers/components.mjs';
import { isolatedEnv, joinNode, start } from '../helpers/cluster.mjs';
import { redisServer } from '../helpers/redis.mjs';
import { until as untilMs } from '../helpers/raw-wire.mjs';

const until = (what, pred, ms = 20_000) => untilMs(what, pred, ms);

const env = isolatedEnv('head-restart');
const TOKEN = 'head-restart-token';
const tokenEnv = { ...env, TSRAY_TOKEN: TOKEN };

const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });

/** `tsray status --json` of the head at `address`. */
function statusOf(address) {
  return JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--address', address, '--json'], { env: tokenEnv, encoding: 'utf8' }).stdout);
}

function aliveNodes(address) {
  return statusOf(address).nodes.filter((n) => n.state === 'ALIVE').map((n) => n.nodeId);
}

/** A head on `port` with `args`; resolves once it listens. */
async function head(t, port, args) {
  const h = start(t, tokenEnv, ['--head', '--port', String(port), '--host', '127.0.0.1', '--num-cpus', '1', '--no-dashboard', '--node-timeout-ms', '4000', ...args], /listening at (ws:\/\/\S+)/);
  await h.ready;
  return h;
}

t.test('Redis: kill -9 of the head loses no actor, no running task and no submitted work', async (t) => {
  const { address: redis } = await redisServer(t);
  const [counter, slow] = await Promise.all(['counter', 'slow'].map(async (n) => tsray.load(await prebuilt(n))));
  const port = await freePort();
  const headArgs = ['--redis-address', redis, '--storage-namespace', 'restart-test'];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  const node = await joinNode(t, env, address, TOKEN, ['--num-cpus', '2', '--resources', '{"away": 2}']);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  const Counter = counter.actor('counter').options({ resources: { away: 1 }, name: 'survivor' });
  const c = Counter.remote(10n);
  t.strictSame(await tsray.get([c.incr.remote(1n), c.incr.remote(1n)]), [11n, 12n], 'the actor runs on the node');
  const napping = slow.fn('nap').options({ resources: { away: 1 } }).remote(2500);
  await new Promise((r) => setTimeout(r, 300));

  first.child.kill('SIGKILL');
  await until('the node to notice', () => /reconnecting for up to/.test(node.output().err));
  // Made while the head is away: they wait in the driver and go once it is back.
  const during = c.incr.remote(1n);
  const task = slow.fn('nap').remote(10);
  await new Promise((r) => setTimeout(r, 500));

  const second = await head(t, port, headArgs);
  t.match(second.output().out, /restored cluster \w+ from redis:\/\/127\.0\.0\.1:\d+ \(namespace restart-test\): 1 node\(s\), 1 actor\(s\)/, 'the new head loads the tables from Redis');
  t.strictSame(await tsray.get(during, { timeoutMs: 30_000 }), 13n, 'a call made while the head was away runs on the same actor, its state intact');
  t.strictSame(await tsray.get(c.incr.remote(1n), { timeoutMs: 30_000 }), 14n, 'and calls after it too');
  t.match(await tsray.get(napping, { timeoutMs: 30_000 }), /^task \w+ on \w+ attempt 0/, 'the task running on the node when the head died finished, and its result arrived');
  t.match(await tsray.get(task, { timeoutMs: 30_000 }), /^task \w+ on \w+ attempt 0/, 'a task submitted while the head was away ran');
  const found = await tsray.getActor('survivor');
  t.strictSame(await tsray.get(found.get.remote(), { timeoutMs: 30_000 }), 14n, 'the named actor is still reachable');
  t.strictSame(aliveNodes(address).includes(node.nodeId), true, 'the node is back under its own id');
  await until('the recovery to end', () => /recovery of cluster \w+ done/.test(second.output().out));
  // A node slow to answer is left out of one listing: ask until both naps are listed, then count every run.
  const naps = async () => (await tsray.state.listTasks({ limit: 1000 })).filter((x) => x.name === 'nap' && x.state === 'FINISHED');
  await until('both naps to be listed', async () => (await naps()).length >= 2);
  const runs = await naps();
  t.equal(runs.length, 2, `each nap ran once, none twice (${runs.map((x) => `${x.taskId.slice(0, 8)}@${x.nodeId.slice(0, 6)}`)})`);
  t.equal(node.child.exitCode, null, 'the node never stopped');
});

t.test('named actors are found from any driver; a detached one outlives its driver and the head', async (t) => {
  const { address: redis } = await redisServer(t);
  const counter = await tsray.load(await prebuilt('counter'));
  const port = await freePort();
  const headArgs = ['--redis-address', redis];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '1', '--resources', '{"away": 1}']);
  const made = spawnSync(process.execPath, [join(ROOT, 'test', 'helpers', 'detached-driver.mjs')], { env: { ...tokenEnv, TSRAY_ADDRESS: address }, encoding: 'utf8', timeout: 60_000 });
  t.equal(made.stdout.trim(), 'made 5 1', `another driver made both and left (${made.stderr.slice(-300)})`);

  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  await t.rejects(tsray.findActor('temp'), { code: 'ERR_INVALID_ARGUMENT', message: /no actor named 'temp' in this cluster/ }, 'a named actor that was not detached ended with its driver');
  const keeper = await tsray.findActor('keeper');
  t.strictSame(await tsray.get(keeper.incr.remote(1n)), 6n, 'the detached one is found from this driver, its state intact');
  const dup = counter.actor('counter').options({ name: 'keeper' }).remote(0n);
  const clash = await tsray.get(dup.get.remote()).catch((e) => e);
  t.equal(clash?.code, 'ERR_ACTOR_DIED');
  t.match(clash?.message, /its creation was refused: an actor named 'keeper' already exists in this cluster/, 'names are unique in the cluster');
  await tsray.shutdown();

  first.child.kill('SIGKILL');
  await head(t, port, headArgs);
  await tsray.init({ address, token: TOKEN });
  const again = await tsray.findActor('keeper');
  t.strictSame(await tsray.get(again.incr.remote(1n), { timeoutMs: 30_000 }), 7n, 'after kill -9 of the head, a new driver finds it by name, state intact');
  tsray.kill(again);
  await t.rejects(tsray.get(again.get.remote(), { timeoutMs: 10_000 }), { code: 'ERR_ACTOR_DIED' }, 'the driver that found it may kill it');
  await t.rejects(tsray.findActor('keeper'), { message: /no actor named 'keeper'/ }, 'and its name is free again');
});

const JOB = `
import * as tsray from 'tsray';
await tsray.init();
const slow = await tsray.load(process.argv[2]);
const before = await tsray.get(slow.fn('nap').remote(10));
console.log('before ' + before.startsWith('task'));
await new Promise((r) => setTimeout(r, 3000));
const after = await tsray.get(slow.fn('nap').remote(10));
console.log('job done ' + after.startsWith('task'));
await tsray.shutdown();
`;

t.test('a job outlives kill -9 of the head that runs it; the head started again follows it to its end', async (t) => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tsray-head-tables-'));
  const headArgs = ['--storage-dir', dir];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  const work = mkdtempSync(join(tmpdir(), 'tsray-job-'));
  writeFileSync(join(work, 'driver.mjs'), JOB);
  const cli = (args, rest = []) => spawnSync(process.execPath, [CLI, ...args, '--address', address, ...rest], { env: tokenEnv, encoding: 'utf8', timeout: 60_000 });
  const submitted = cli(['job', 'submit', '--no-wait', '--working-dir', work], ['--', 'node', 'driver.mjs', join(ROOT, 'build', 'slow.wasm')]);
  const jobId = /[0-9a-f]{8}/.exec(submitted.stdout)?.[0];
  t.ok(jobId, `submitted (${submitted.stdout}${submitted.stderr})`);
  await until('the job to start its wait', () => /before true/.test(cli(['job', 'logs', jobId]).stdout));
  first.child.kill('SIGKILL');
  await head(t, port, headArgs);
  const status = await until('the job to end', () => {
    const s = JSON.parse(cli(['job', 'status', jobId, '--json']).stdout || '{}');
    return s.endTime !== undefined && s;
  }, 60_000);
  t.match(status, { jobId, status: 'SUCCEEDED', exitCode: 0 }, 'the new head knows the job and how it ended');
  const logs = cli(['job', 'logs', jobId]).stdout;
  t.match(logs, /before true\n.*closed the connection.*waiting up to 60000 ms for it to come back\n(.*\n)*job done true/, `its driver waited for the new head and ran its second task there (${logs})`);
});

t.test('a local file by default: the node comes back under its id; without the file it joins anew', async (t) => {
  const counter = await tsray.load(await prebuilt('counter'));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tsray-head-tables-'));
  const headArgs = ['--storage-dir', dir];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  const node = await joinNode(t, env, address, TOKEN, ['--num-cpus', '1', '--resources', '{"away": 1}']);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const c = counter.actor('counter').options({ resources: { away: 1 } }).remote(0n);
  t.strictSame(await tsray.get(c.incr.remote(5n)), 5n);

  first.child.kill('SIGKILL');
  const second = await head(t, port, headArgs);
  t.match(second.output().out, new RegExp(`restored cluster \\w+ from file ${dir}/tables.log`), 'the tables came from the file');
  t.strictSame(await tsray.get(c.incr.remote(1n), { timeoutMs: 30_000 }), 6n, 'the actor kept its state');
  t.ok(aliveNodes(address).includes(node.nodeId), 'the node is back under its id');
  await tsray.shutdown();

  // Without its tables the head knows nobody: the node drops what it had and joins as a new node.
  second.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  await head(t, port, headArgs);
  const again = await until('the node to join anew', () => /tsray node ([0-9a-f]{16}) joined \S+ again \(was ([0-9a-f]{16})\)/.exec(node.output().out));
  t.equal(again[2], node.nodeId, 'it says which node it was');
  t.not(again[1], node.nodeId, 'and joins under a new id');
  t.match(node.output().err, /came back \(cluster \w+\) without this node/, 'saying why');
});

t.test('a streaming task and a task calling an actor on another node run on across a restart', async (t) => {
  const [counter, client, nested] = await Promise.all(['counter', 'counter-client', 'nested'].map(async (n) => tsray.load(await prebuilt(n))));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tsray-head-tables-'));
  const headArgs = ['--storage-dir', dir, '--num-cpus', '0'];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '1', '--resources', '{"a": 1}']);
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '2', '--resources', '{"b": 2}']);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const c = counter.actor('counter').options({ resources: { a: 1 } }).remote(0n);
  t.strictSame(await tsray.get(c.get.remote()), 0n);
  // On node b: it calls the actor on node a through the head, before and after the restart.
  const bumped = client.fn('bump-slowly').options({ resources: { b: 1 } }).remote(c, 6, 400);
  const stream = nested.fn('squares').options({ numReturns: 'streaming', resources: { b: 1 } }).remote(8, 400);
  const got = (async () => { const out = []; for await (const ref of stream) out.push(await tsray.get(ref)); return out; })();
  await new Promise((r) => setTimeout(r, 900));
  first.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  await head(t, port, headArgs);
  t.strictSame(await tsray.get(bumped, { timeoutMs: 30_000 }), 6n, 'the task holding the handle kept calling the actor: the new head knows the node was given it');
  t.strictSame(await got, [0, 1, 4, 9, 16, 25, 36, 49], 'every value the stream emitted arrived once, in order, across the restart');
  t.strictSame(await tsray.get(c.get.remote()), 6n, 'each call ran once');
});

t.test("calls on an actor route run on while the head is away", async (t) => {
  const counter = await tsray.load(await prebuilt('counter'));
  const port = await freePort();
  const headArgs = ['--storage-dir', mkdtempSync(join(tmpdir(), 'tsray-head-tables-')), '--num-cpus', '0'];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '1']);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const c = counter.actor('counter', { numCpus: 1 }).remote(0n);
  t.equal(await tsray.get(c.incr.remote(1n)), 1n);
  await tsray.get(Array.from({ length: 20 }, () => c.incr.remote(0n))); // the route is held by now
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const during = await tsray.get(Array.from({ length: 50 }, () => c.incr.remote(1n)), { timeoutMs: 5000 });
  t.same(during.at(-1), 51n, 'fifty calls answered, in order, with no head at all');
  await head(t, port, headArgs);
  t.equal(await tsray.get(c.incr.remote(1n), { timeoutMs: 20_000 }), 52n, 'and calls go on once it is back');
});

t.test('a restarted head holds again the leases its drivers hold, so it does not grant their room twice', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const port = await freePort();
  const headArgs = ['--storage-dir', mkdtempSync(join(tmpdir(), 'tsray-head-tables-')), '--num-cpus', '0'];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  const node = await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const status = () => statusOf(address);
  const naps = [slow.fn('nap').remote(6000), slow.fn('nap').remote(6000)];
  await until('two leases', () => status().leases === 2);
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  await head(t, port, headArgs);
  await until('the node to be back', () => status().nodes.some((x) => x.nodeId === node.nodeId && x.state === 'ALIVE' && !x.cause));
  const after = await until('the driver to be back with its leases', () => { const s = status(); return s.drivers === 1 && s.leases === 2 ? s : undefined; });
  t.equal(after.leases, 2, 'the new head holds both leases the driver came back with, while their naps run');
  const results = await tsray.get(naps, { timeoutMs: 30_000 });
  t.ok(results.every((r) => /attempt 0/.test(r)), 'both naps finished on their leases, each once');
  await until('the leases to go back', () => status().leases === 0);
  t.pass('and went back to the new head once idle');
});

t.test('under load: 300 tasks over two nodes, the head killed mid-way; every result arrives, and no task runs twice', async (t) => {
  const { address: redis } = await redisServer(t);
  const slow = await tsray.load(await prebuilt('slow'));
  const port = await freePort();
  const headArgs = ['--redis-address', redis, '--num-cpus', '0'];
  const first = await head(t, port, headArgs);
  const address = `ws://127.0.0.1:${port}`;
  const nodes = [];
  for (let i = 0; i < 2; i++) nodes.push(await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']));
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const N = 300;
  // Short naps, so some are running, some queued on nodes, some answered and some still in the driver at the kill.
  const refs = Array.from({ length: N }, () => slow.fn('nap').remote(20));
  await tsray.wait(refs, { numReturns: 40, timeoutMs: 30_000 });
  first.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  await head(t, port, headArgs);
  const results = await tsray.get(refs, { timeoutMs: 120_000 });
  t.equal(results.filter((r) => /^task \w+ on \w+ attempt 0/.test(r)).length, N, `all ${N} results arrived, each from a first attempt`);
  const ids = new Set(results.map((r) => /^task (\w+)/.exec(r)[1]));
  t.equal(ids.size, N, 'one result per task');
  const count = async () => (await tsray.state.listTasks({ limit: 10_000 })).filter((x) => x.name === 'nap' && x.state === 'FINISHED' && nodes.some((n) => n.nodeId === x.nodeId));
  await until('every nap to be listed', async () => (await count()).length >= N, 30_000);
  const runs = await count();
  t.equal(runs.length, N, `${runs.length} runs on the nodes for ${N} tasks: none ran twice`);
});

t.test('a node whose connection breaks comes back to the same head before the head notices: same id, its running task and actor go on', async (t) => {
  const [counter, slow] = await Promise.all(['counter', 'slow'].map(async (n) => tsray.load(await prebuilt(n))));
  const port = await freePort();
  await head(t, port, ['--num-cpus', '0']);
  // The node reaches the head through a proxy; cutting only the node's side leaves the head's side open.
  const nodeSide = new Set();
  const proxy = createServer((client) => {
    const upstream = connectTcp(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', () => nodeSide.delete(client));
    nodeSide.add(client);
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => proxy.close());
  const node = await joinNode(t, env, `ws://127.0.0.1:${proxy.address().port}`, TOKEN, ['--num-cpus', '2', '--resources', '{"away": 2}']);
  const address = `ws://127.0.0.1:${port}`;
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const c = counter.actor('counter').options({ resources: { away: 1 } }).remote(1n);
  t.strictSame(await tsray.get(c.incr.remote(1n)), 2n);
  const napping = slow.fn('nap').options({ resources: { away: 1 } }).remote(1500);
  await new Promise((r) => setTimeout(r, 200));
  for (const s of nodeSide) s.destroy(); // the head's side of the old connection stays open
  await until('the node to notice', () => /reconnecting for up to/.test(node.output().err));
  t.match(await tsray.get(napping, { timeoutMs: 30_000 }), /^task \w+ on \w+ attempt 0/, 'the task running through the break answered once, from its first attempt');
  t.strictSame(await tsray.get(c.incr.remote(1n), { timeoutMs: 30_000 }), 3n, 'the actor kept its state');
  t.notMatch(node.output().out, /joined \S+ again/, 'the node never joined as a new node');
  t.ok(aliveNodes(address).includes(node.nodeId), 'and is alive under its id');
});
