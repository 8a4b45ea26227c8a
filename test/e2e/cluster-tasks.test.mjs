// A driver (this process) running tasks on a cluster of real processes: a head with its own node, and a second node.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { caught, sleep } from '../helpers/runtime.mjs';
import { MiB, cluster as startCluster, fnv, isolatedEnv, start as startProcess } from '../helpers/cluster.mjs';

const env = isolatedEnv('cluster-tasks');
const TOKEN = 'cluster-tasks-token';
const start = (t, args, pattern) => startProcess(t, env, [...args, '--token', TOKEN], pattern);
const cluster = (t, nodeArgs = [['--num-cpus', '1']]) => startCluster(t, env, TOKEN, { nodeArgs });

t.test('tasks spread over the nodes; values, refs and typed errors travel', async (t) => {
  const [slow, matrix, faulty, blobs] = await Promise.all(['slow', 'matrix', 'faulty', 'blobs'].map(async (n) => tsray.load(await prebuilt(n))));
  const { address, nodes } = await cluster(t);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  t.equal(tsray.clusterResources().CPU, 2, 'the driver sees both nodes\' CPUs');

  // Four 300 ms naps on two 1-CPU nodes: both nodes take some. (A first round ships and compiles the component.)
  await tsray.get([slow.fn('nap').remote(1), slow.fn('nap').remote(1)]);
  const started = performance.now();
  const where = await tsray.get(Array.from({ length: 4 }, () => slow.fn('nap').remote(300)));
  const nodeIds = new Set(where.map((s) => /on ([0-9a-f]{16})/.exec(s)[1]));
  t.equal(nodeIds.size, 2, `tasks ran on both nodes (${[...nodeIds].join(', ')})`);
  t.ok(nodeIds.has(nodes[0].nodeId), 'including the joined node');
  t.ok(performance.now() - started < 1100, 'in parallel');

  const x = tsray.put(new Float64Array([1, 2, 3.5]));
  t.equal(await tsray.get(matrix.fn('sum').remote(x)), 6.5, 'a put ref is resolved by the driver and sent');
  const chained = matrix.fn('scale').remote(x, 2);
  t.equal(await tsray.get(matrix.fn('sum').remote(chained)), 13, 'a task result feeds the next task');
  const c = await tsray.get(matrix.fn('matmul').remote({ rows: 1, cols: 1, data: new Float64Array([2]) }, { rows: 1, cols: 2, data: new Float64Array([1, 2]) }));
  t.strictSame([...c.data], [2, 4], 'records with typed arrays come back');

  const trap = await caught(t, () => tsray.get(faulty.fn('trap').remote()));
  t.ok(trap instanceof tsray.TaskError, `a guest trap on a node is a TaskError here (got ${trap?.constructor?.name})`);
  t.equal(trap?.code, 'ERR_TASK');
  t.equal(trap?.functionName, 'trap');
  const dependent = await caught(t, () => tsray.get(matrix.fn('sum').remote(faulty.fn('fail').remote('boom'))));
  t.ok(dependent instanceof tsray.TaskError && /boom/.test(dependent.message), 'a task depending on a failed one fails with its error');

  // A large object made on a node, consumed by a task on a node, read by the driver: byte-identical everywhere.
  const made = blobs.fn('fill').remote(8 * MiB, 99);
  const sum = await tsray.get(blobs.fn('checksum').remote(made));
  const bytes = await tsray.get(made);
  t.equal(bytes.length, 8 * MiB);
  t.equal(fnv(bytes), sum, 'the 8 MiB object is identical on the driver and in the consuming task');

  const e = await caught(t, () => slow.fn('nap').options({ resources: { TPU: 1 } }).remote(1) && tsray.get(slow.fn('nap').options({ resources: { TPU: 1 } }).remote(1), { timeoutMs: 300 }));
  t.equal(e?.code, 'ERR_GET_TIMEOUT', 'a task no node can hold waits');
  t.throws(() => tsray.getActor('x'), { code: 'ERR_INVALID_ARGUMENT' }, 'actors are refused with a clear error on a cluster driver');
});

t.test('an infeasible task shows in status and runs once a node that can hold it joins', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const { address } = await cluster(t, []);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const ref = slow.fn('nap').options({ resources: { TPU: 1 } }).remote(1);
  await sleep(200);
  const status = JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--json', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout);
  t.strictSame(status.demands.map((d) => [d.shape.TPU, d.count]), [[1, 1]], 'status lists the pending demand');
  const n = start(t, ['--address', address, '--num-cpus', '1', '--resources', '{"TPU": 1}'], /tsray node ([0-9a-f]{16}) joined/);
  const nodeId = (await n.ready)[1];
  t.match(await tsray.get(ref), new RegExp(`on ${nodeId}`), 'it ran on the node that joined');
});

t.test('kill -9 of a node mid-run: its tasks are retried on another node, or fail once retries run out', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const { address, nodes } = await cluster(t);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const refs = Array.from({ length: 4 }, () => slow.fn('nap').remote(1500));
  const noRetry = Array.from({ length: 4 }, () => slow.fn('nap').options({ maxRetries: 0 }).remote(1500));
  await sleep(400);
  nodes[0].child.kill('SIGKILL');
  const results = await tsray.get(refs);
  t.equal(results.length, 4, 'every retried task finished');
  t.ok(results.every((s) => !s.includes(nodes[0].nodeId)), 'on the surviving node');
  t.ok(results.some((s) => / attempt 1 /.test(s)), 'the retried ones report attempt 1');
  const outcomes = await Promise.all(noRetry.map((r) => tsray.get(r).then(() => 'ok', (e) => e)));
  const crashed = outcomes.filter((o) => o instanceof tsray.WorkerCrashedError);
  t.ok(crashed.length >= 1, `tasks without retries that were on the dead node fail with WorkerCrashedError (${crashed.length})`);
  t.match(crashed[0]?.message, /lost its node/);
});

t.test('driver errors: bad token, nobody listening, missing token, node options', async (t) => {
  const { address } = await cluster(t, []);
  const bad = await caught(t, () => tsray.init({ address, token: 'nope' }));
  t.ok(bad instanceof tsray.AuthError, `a wrong token: AuthError (got ${bad?.constructor?.name})`);
  t.equal(bad?.code, 'ERR_AUTH');
  t.notOk(tsray.isInitialized(), 'and nothing was initialized');
  const down = await caught(t, () => tsray.init({ address: 'ws://127.0.0.1:1', token: 'x' }));
  t.ok(down instanceof tsray.ConnectionError, `nothing listening: ConnectionError (got ${down?.constructor?.name})`);
  t.match(down?.message, /ECONNREFUSED/);
  const none = await caught(t, () => tsray.init({ address }));
  t.equal(none?.code, 'ERR_INVALID_ARGUMENT', 'no token');
  const local = await caught(t, () => tsray.init({ address, token: TOKEN, numCpus: 4 }));
  t.match(local?.message, /describes a node/, 'node options are refused for a driver');
  const addr = await caught(t, () => tsray.init({ address: 'localhost:6380', token: TOKEN }));
  t.match(addr?.message, /ws:\/\//, 'an address must be a ws:// URL');
});

t.test('the head leaving (and not coming back within reconnectTimeoutMs) fails pending results with ConnectionError instead of hanging', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const { head, address } = await cluster(t, []);
  await tsray.init({ address, token: TOKEN, reconnectTimeoutMs: 1000 });
  t.teardown(() => tsray.shutdown());
  const ref = slow.fn('nap').remote(5000);
  await sleep(200);
  head.child.kill('SIGKILL');
  const e = await caught(t, () => tsray.get(ref, { timeoutMs: 4000 }));
  t.ok(e instanceof tsray.ConnectionError, `ConnectionError (got ${e?.constructor?.name}: ${e?.message})`);
  t.match(e?.message, /lost the cluster/);
  t.match(e?.message, /did not come back within 1000 ms/);
});

t.test('a large object made on one node is pulled by a task on another; its owner dying makes it ObjectLostError', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  const head = start(t, ['--head', '--port', '0', '--num-cpus', '1', '--resources', '{"h": 1}', '--object-store-memory', String(256 * MiB)], /listening at (ws:\/\/\S+)/);
  const address = (await head.ready)[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const other = start(t, ['--address', address, '--num-cpus', '1', '--resources', '{"n": 1}', '--object-store-memory', String(256 * MiB)], /tsray node ([0-9a-f]{16}) joined/);
  await other.ready;
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  // 80 MiB: larger than a frame, so it moves in chunks.
  const made = blobs.fn('fill').options({ resources: { n: 1 } }).remote(80 * MiB, 5);
  const onHead = await tsray.get(blobs.fn('checksum').options({ resources: { h: 1 } }).remote(made));
  const sameNode = await tsray.get(blobs.fn('checksum').options({ resources: { n: 1 } }).remote(made));
  const view = await tsray.getView(made);
  const bytes = view.value;
  t.equal(bytes.length, 80 * MiB, 'the driver fetched all 80 MiB');
  t.ok(bytes.buffer instanceof SharedArrayBuffer, "into its own store's shared memory");
  const driverSum = fnv(bytes);
  view.release();
  t.equal(onHead, driverSum, 'the task on the other node read the same bytes');
  t.equal(sameNode, driverSum, 'and so did a task on the node that holds it');

  // maxRetries 0: its task may not run again to make it (test/e2e/lineage.test.mjs has the tasks that do).
  const kept = blobs.fn('fill').options({ resources: { n: 1 }, maxRetries: 0 }).remote(2 * MiB, 6);
  await tsray.wait([kept]);
  other.child.kill('SIGKILL');
  const e = await caught(t, () => tsray.get(kept, { timeoutMs: 10_000 }));
  t.ok(e instanceof tsray.ObjectLostError, `its only copy died with its node: ObjectLostError (got ${e?.constructor?.name}: ${e?.message})`);
  t.match(e?.message, /; only results of tasks that may run again \(maxRetries > 0\) are made again/, 'saying why it is not made again');
  t.equal((await tsray.get(made)).length, 80 * MiB, 'an object already fetched to the driver is still readable');
});

t.test("large driver values reach nodes through the driver's object server, even past the frame limit", async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  const { address } = await cluster(t, []);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const data = new Uint8Array(70 * MiB);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i >> 12) & 0xff;
  const expected = fnv(data);
  const ref = tsray.put(data);
  t.equal(await tsray.get(blobs.fn('checksum').remote(ref)), expected, 'a 70 MiB put is pulled by the node that runs the task');
  t.equal(await tsray.get(blobs.fn('checksum').remote(data)), expected, 'so is a 70 MiB plain argument (put for the task, as Ray does)');
  t.equal(await tsray.get(blobs.fn('size').remote(new Uint8Array(1000).fill(1))), 1000, 'small arguments still travel inline');
});

t.test('a driver that disconnects takes its work with it', async (t) => {
  const { address } = await cluster(t, []);
  const script = `
    import * as tsray from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'host', 'index.js')).href)};
    await tsray.init({ address: ${JSON.stringify(address)}, token: ${JSON.stringify(TOKEN)} });
    const slow = await tsray.load(${JSON.stringify(join(ROOT, 'build', 'slow.wasm'))});
    slow.fn('nap').remote(30000);
    process.stdout.write('submitted\\n');
    setInterval(() => {}, 1000);
  `;
  const driver = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => driver.kill('SIGKILL'));
  await new Promise((resolve) => driver.stdout.on('data', (d) => { if (String(d).includes('submitted')) resolve(); }));
  const status = () => JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--json', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout);
  const busy = async (want) => {
    for (let i = 0; i < 100; i++) {
      const s = status();
      if ((s.nodes[0].available.CPU === 0) === want) return s;
      await sleep(100);
    }
    return undefined;
  };
  const during = await busy(true);
  t.ok(during, "the driver's task holds the node's CPU");
  t.equal(during?.drivers, 1, 'one driver connected');
  driver.kill('SIGKILL');
  const after = await busy(false);
  t.ok(after, 'once the driver is gone, its task is stopped and the CPU is free again (long before its 30 s)');
  t.equal(after?.drivers, 0, 'and it is no longer listed');
});

t.test('scheduling strategies across nodes: SPREAD, hard and soft node affinity', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const { address, nodes } = await cluster(t, [['--num-cpus', '2'], ['--num-cpus', '2']]);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const ran = (s) => /on ([0-9a-f]{16})/.exec(s)[1];
  const spread = await tsray.get(Array.from({ length: 6 }, () => slow.fn('nap').options({ schedulingStrategy: 'SPREAD' }).remote(1)));
  t.equal(new Set(spread.map(ran)).size, 3, 'SPREAD puts six tasks on all three nodes');
  const target = nodes[1].nodeId;
  const pinned = await tsray.get(Array.from({ length: 4 }, () => slow.fn('nap').options({ schedulingStrategy: { nodeId: target, soft: false } }).remote(1)));
  t.ok(pinned.every((s) => ran(s) === target), 'hard affinity: every task on that node');
  const e = await caught(t, () => tsray.get(slow.fn('nap').options({ schedulingStrategy: { nodeId: 'ffffffffffffffff', soft: false } }).remote(1)));
  t.ok(e instanceof tsray.UnschedulableError, `hard affinity to a node that is not there: UnschedulableError (got ${e?.constructor?.name})`);
  t.match(e?.message, /not alive/);
  t.match(await tsray.get(slow.fn('nap').options({ schedulingStrategy: { nodeId: 'ffffffffffffffff', soft: true } }).remote(1)), /on [0-9a-f]{16}/, 'soft affinity falls back');
  t.throws(() => slow.fn('nap').options({ schedulingStrategy: 'RANDOM' }), { code: 'ERR_INVALID_ARGUMENT' }, 'an unknown strategy is refused');
  const counter = await tsray.load(await prebuilt('counter'));
  const a = counter.actor('counter', { schedulingStrategy: { nodeId: target, soft: false } }).remote(0n);
  t.equal(await tsray.get(a.incr.remote(1n)), 1n, 'an actor pinned to a node runs');
});

t.test('DEFAULT prefers the node that holds the arguments', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  const { address, nodes } = await cluster(t, [['--num-cpus', '2', '--resources', '{"maker": 1}'], ['--num-cpus', '2']]);
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const holder = nodes[0].nodeId;
  const data = blobs.fn('fill').options({ resources: { maker: 1 } }).remote(4 * MiB, 3);
  await tsray.wait([data]);
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push((await tsray.get(blobs.fn('locate').remote(data))).split(' '));
  t.ok(seen.every(([node, n]) => node === holder && n === String(4 * MiB)), `each task that reads the 4 MiB object runs on the node holding it (${holder})`);
  const small = [];
  for (let i = 0; i < 6; i++) small.push((await tsray.get(blobs.fn('locate').remote(new Uint8Array(10)))).split(' ')[0]);
  t.ok(new Set(small).size >= 2, `tasks with no stored arguments spread (${[...new Set(small)].join(', ')})`);
});
