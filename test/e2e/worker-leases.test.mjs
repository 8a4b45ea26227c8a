// Worker leases (host/cluster/lease-pool.ts, leased-work.ts, head/leases.ts) on real processes: a driver's plain
// tasks go straight to the nodes it leased, and the head places none of them; and a node's side of a lease,
// spoken by hand, refuses what it did not grant.
import t from 'tap';
import { execFile, spawn, spawnSync } from 'node:child_process';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { caught } from '../helpers/runtime.mjs';
import { MiB, cluster, fnv, isolatedEnv, joinNode } from '../helpers/cluster.mjs';
import { authed, builtComponent, closeOf, encode, rawDriver, resultOf, startHead, textComponent, until, wireOptions } from '../helpers/raw-wire.mjs';

const env = isolatedEnv('worker-leases');
const TOKEN = 'worker-leases-token';

function status(address) {
  return JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--json', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout);
}

t.test('plain tasks go on worker leases, straight to the nodes; the head places none of them', async (t) => {
  const [slow, matrix, blobs] = await Promise.all(['slow', 'matrix', 'blobs'].map(async (n) => tsray.load(await prebuilt(n))));
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1'], ['--num-cpus', '1']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  const add = matrix.fn('add');
  const sums = await tsray.get(Array.from({ length: 2000 }, (_, i) => add.remote(i, 1)));
  t.ok(sums.every((v, i) => v === i + 1), '2,000 tiny tasks answered, each with its own result');
  t.equal(status(address).routedTasks, 0, 'the head placed none of them');
  const text = spawnSync(process.execPath, [CLI, 'status', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout;
  t.match(text, /Worker leases: \d+ held by drivers; 0 tasks and \d+ actor calls routed through the head/, 'tsray status says so');

  // Six 400 ms naps on three 1-CPU nodes: a lease per node, all three busy at once.
  await tsray.get(Array.from({ length: 3 }, () => slow.fn('nap').remote(1)));
  const started = performance.now();
  const where = await tsray.get(Array.from({ length: 6 }, () => slow.fn('nap').remote(400)));
  const ran = new Set(where.map((s) => /on ([0-9a-f]{16})/.exec(s)[1]));
  t.equal(ran.size, 3, `the naps ran on all three nodes (${[...ran].join(', ')})`);
  t.ok(ran.has(nodes[0].nodeId) && ran.has(nodes[1].nodeId), 'including both joined nodes');
  t.ok(performance.now() - started < 2000, `in parallel (${Math.round(performance.now() - started)} ms for 2.4 s of naps)`);

  // A large result stays on its node; the driver reads it there, and a task takes it from there.
  const made = blobs.fn('fill').remote(8 * MiB, 7);
  const sum = await tsray.get(blobs.fn('checksum').remote(made));
  t.equal(status(address).routedTasks, 0, 'a task whose argument sits on a node went on a lease too: nodes trust the members the head announced');
  const bytes = await tsray.get(made);
  t.equal(bytes.length, 8 * MiB, 'the driver pulled an 8 MiB leased result from its node');
  t.equal(fnv(bytes), sum, 'byte-identical to what the task read');
  const put = tsray.put(bytes);
  t.equal(await tsray.get(blobs.fn('checksum').remote(put)), fnv(bytes), 'a task whose argument is on the driver');
  t.equal(status(address).routedTasks, 0, 'went on a lease');

  // SPREAD tasks are the head's to place.
  await tsray.get(slow.fn('nap').options({ schedulingStrategy: 'SPREAD' }).remote(1));
  t.equal(status(address).routedTasks, 1, 'a SPREAD task went through the head');

  const napping = slow.fn('nap').remote(20_000);
  await new Promise((r) => setTimeout(r, 300));
  tsray.cancel(napping);
  const e = await caught(t, () => tsray.get(napping, { timeoutMs: 5000 }));
  t.equal(e?.code, 'ERR_TASK_CANCELLED', 'a leased task is cancelled on its node');

  // Leases go back once idle: their shapes are free again at the head.
  await until('the leases to go back', () => status(address).leases === 0, 5000);
  t.pass('idle leases went back to the head');
});

t.test('a node loses a leased task: it runs again elsewhere while its retries last', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1'], ['--num-cpus', '1']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  await tsray.get(Array.from({ length: 3 }, () => slow.fn('nap').remote(1)));
  const retried = Array.from({ length: 6 }, () => slow.fn('nap').remote(1200));
  const once = Array.from({ length: 6 }, () => slow.fn('nap').options({ maxRetries: 0 }).remote(1200));
  await new Promise((r) => setTimeout(r, 400));
  nodes[0].child.kill('SIGKILL');
  const where = await tsray.get(retried);
  t.notOk(where.some((s) => s.includes(nodes[0].nodeId)), 'every retried task answered from a live node');
  let lost = 0;
  for (const r of once) {
    try {
      t.notMatch(await tsray.get(r), nodes[0].nodeId, 'a task without retries that answered ran on a live node');
    } catch (e) {
      lost++;
      t.equal(e.code, 'ERR_WORKER_CRASHED');
      t.match(e.message, /lost its node 1 time/);
    }
  }
  t.ok(lost >= 1, `tasks without retries on the dead node failed with WorkerCrashedError (${lost})`);
  t.equal(status(address).routedTasks, 0, 'the retries went on leases too');
});

t.test('what a leased task left on its node is freed there: when the driver frees it, and when the driver is gone', async (t) => {
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1', '--resources', '{"n":1}']] });
  // Asynchronous: this process is one of the drivers the head asks for its report.
  const keptOnN = () => new Promise((resolve, reject) => execFile(process.execPath, [CLI, 'memory', '--address', address, '--json'], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN }, encoding: 'utf8', timeout: 60_000 },
    (error, stdout) => {
      if (error) { reject(error); return; }
      const n = JSON.parse(stdout).nodes.find((x) => x.nodeId === nodes[0].nodeId);
      resolve(n.references.filter((x) => x.type === 'Node' && x.size >= 2 * MiB).length);
    }));
  const nested = await tsray.load(await prebuilt('nested'));
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const held = nested.fn('fill').options({ resources: { n: 1 } }).remote(256 * 1024, 1);
  t.equal((await tsray.get(held)).length, 256 * 1024, 'a 2 MiB result made on a lease on node n');
  t.equal(status(address).routedTasks, 0, 'through no head');
  t.equal(await keptOnN(), 1, 'node n keeps it for the driver');
  tsray.free(held);
  await until('node n to free it', async () => (await keptOnN()) === 0, 15_000);
  t.pass('freed on node n once the driver freed it: the free went there directly');

  const child = spawn(process.execPath, [`${ROOT}/test/helpers/leased-result-driver.mjs`], { cwd: ROOT, env: { ...env, TSRAY_ADDRESS: address, TSRAY_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await until('the other driver to make its result', () => /made /.test(out), 30_000);
  t.equal(await keptOnN(), 1, 'another driver process made one there too');
  child.kill('SIGKILL');
  await until('node n to free what the killed driver owned', async () => (await keptOnN()) === 0, 15_000);
  t.pass('freed on node n once the head said that driver was gone (kill -9, nothing freed by it)');
});

t.test('a node refuses leased work it did not grant', async (t) => {
  const head = await startHead(t, env, TOKEN);
  const text = textComponent();
  const drv = await rawDriver(t, head.address, TOKEN);
  drv.send(encode({ t: 'lease-request', id: 1, request: { CPU: 1 } }));
  const { lease } = await until('a lease', () => drv.frames.find((f) => f.t === 'lease-reply' && f.id === 1));
  t.ok(lease?.ticket, 'the head grants a lease on its node');
  drv.send(encode({ t: 'lease-request', id: 2, request: { CPU: 1 } }));
  const busy = await until('a second answer', () => drv.frames.find((f) => f.t === 'lease-reply' && f.id === 2));
  t.match(busy.busy, /no node has this shape free/, 'a second lease of the only CPU is refused: leases never overcommit');

  const node = async () => authed(lease.address, TOKEN, 'peer');
  const run = (taskId, over = {}) => encode({ t: 'run', lease: lease.leaseId, task: { taskId, hash: text.hash, name: 'greet', fn: 'greet', args: ['lease'], opts: wireOptions(), ...over } });

  const forged = await node();
  forged.send(encode({ t: 'lease', lease: { ...lease, shape: 'CPU=0.5' } }));
  t.equal((await closeOf(forged)).code, 4001, 'a lease whose fields do not match its ticket closes with 4001');

  const early = await node();
  early.send(run('early'));
  t.equal((await closeOf(early)).code, 4003, 'a run before any lease closes with 4003');

  const ws = await node();
  ws.send(encode({ t: 'lease', lease }));
  ws.send(encode({ t: 'component', hash: text.hash, bytes: text.bytes }));
  ws.send(run('ok-1'));
  t.same((await resultOf(ws, 'ok-1', 20_000)).returns, [{ value: 'Hello, lease!' }], 'a task on the lease runs and answers on this connection');
  ws.send(run('shape', { opts: wireOptions({ numCpus: 0.5 }) }));
  const shape = await resultOf(ws, 'shape');
  t.equal(shape.error?.code, 'ERR_NOT_GIVEN', 'a task of another shape than its lease fails with NotGivenError');
  const foreign = { '\u0000tsray:remote': { nodeId: 'x', address: 'ws://203.0.113.9:1', objectId: 'o', size: 8 } };
  const asked = performance.now();
  ws.send(run('foreign', { args: [foreign] }));
  t.match((await resultOf(ws, 'foreign')).error?.message ?? '', /only on this node, its owner's object server or a node of the cluster, not at ws:\/\/203\.0\.113\.9:1/, 'an argument on an address neither the lease nor the head vouches for is refused: the node dials nothing');
  t.ok(performance.now() - asked >= 1900, `once the head did not speak of it for ${Math.round(performance.now() - asked)} ms (it may be a node the head announces late)`);
  ws.send(encode({ t: 'lease', lease: { ...lease, owner: 'driver-other' } }));
  t.equal((await closeOf(ws)).code, 4001, 'changing the owner breaks the ticket');

  // The first copy naps, so the second surely finds it unanswered (ids are checked against the tasks in flight).
  const slow = builtComponent('slow');
  const nap = encode({ t: 'run', lease: lease.leaseId, task: { taskId: 'dup', hash: slow.hash, name: 'nap', fn: 'nap', args: [3000], opts: wireOptions() } });
  const again = await node();
  again.send(encode({ t: 'lease', lease }));
  again.send(encode({ t: 'component', hash: slow.hash, bytes: slow.bytes }));
  again.send(nap);
  await new Promise((r) => setTimeout(r, 300));
  again.send(nap);
  t.equal((await closeOf(again)).code, 4003, 'a task id sent twice closes the connection');

  // The owner leaves the head: the node hears it, and its leases are refused from then on.
  drv.close();
  const late = await node();
  await until('the owner to be gone on the node', async () => {
    const probe = await node();
    probe.send(encode({ t: 'lease', lease }));
    const c = await Promise.race([probe.closed, new Promise((r) => setTimeout(() => r(undefined), 200))]);
    probe.close();
    return c?.reason === 'the owner of this lease is gone';
  });
  late.send(encode({ t: 'lease', lease }));
  t.match((await closeOf(late)).reason, /owner of this lease is gone/, 'a gone owner\'s lease is refused');
});

t.test('tries a task lost on a lease count at the head too: maxRetries holds across both ways', async (t) => {
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '2']] });
  const comp = builtComponent('slow');
  const drv = await rawDriver(t, address, TOKEN, comp);
  const opts = wireOptions({ maxRetries: 1 });
  opts.maxRetries = 1;
  // As a driver sends a task lost once on a lease: through the head, saying its try.
  const nap = (taskId, extra) => encode({ t: 'submit', task: { taskId, hash: comp.hash, name: 'nap', fn: 'nap', args: [3000], opts, ...extra } });
  drv.send(nap('spent-1', { attempt: 1 }));
  drv.send(nap('fresh-1', {}));
  await new Promise((r) => setTimeout(r, 1000));
  nodes[0].child.kill('SIGKILL');
  await joinNode(t, env, address, TOKEN, ['--num-cpus', '2']);
  const lost = await resultOf(drv, 'spent-1', 20_000);
  t.equal(lost.error?.code, 'ERR_WORKER_CRASHED', `a task whose one retry was spent on a lease is not run again (got ${lost.error?.code}: ${lost.error?.message})`);
  t.match(lost.error?.message, /lost its node 2 time/, 'its error counts both tries');
  const again = await resultOf(drv, 'fresh-1', 20_000);
  t.match(again.returns?.[0]?.value, /attempt 1 /, 'one that still has its retry ran again, as attempt 1');
});

t.test('work on leases takes arguments from other nodes; one held by a node that died is answered lost', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '0'], nodeArgs: [['--num-cpus', '1', '--resources', '{"A":1}'], ['--num-cpus', '1', '--resources', '{"B":1}']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const [a, b] = nodes;
  const made = blobs.fn('fill').options({ resources: { A: 1 } }).remote(4 * MiB, 3);
  const where = await tsray.get(blobs.fn('locate').options({ resources: { B: 1 } }).remote(made));
  t.equal(where, `${b.nodeId} ${4 * MiB}`, 'a task on node B read the 4 MiB that a task left on node A');
  t.equal(status(address).routedTasks, 0, 'both went on leases, none through the head');

  // Spoken by hand on B's object server: an argument at A's address once A is dead.
  const aAddress = status(address).nodes.find((n) => n.nodeId === a.nodeId).objectAddress;
  const bAddress = status(address).nodes.find((n) => n.nodeId === b.nodeId).objectAddress;
  const drv = await rawDriver(t, address, TOKEN);
  drv.send(encode({ t: 'lease-request', id: 1, request: { CPU: 1, B: 1 } }));
  const { lease } = await until('a lease on B', () => drv.frames.find((f) => f.t === 'lease-reply' && f.id === 1));
  t.equal(lease?.nodeId, b.nodeId, 'the head leased B');
  a.child.kill('SIGKILL');
  await until('the head to declare A dead', () => status(address).nodes.find((n) => n.nodeId === a.nodeId).state === 'DEAD', 15_000);
  const text = builtComponent('blobs');
  const ws = await authed(bAddress.replace(/\/\/[^:]+:/, '//127.0.0.1:'), TOKEN, 'peer');
  t.teardown(() => ws.close());
  ws.send(encode({ t: 'lease', lease }));
  ws.send(encode({ t: 'component', hash: text.hash, bytes: text.bytes }));
  const onA = { '\u0000tsray:remote': { nodeId: a.nodeId, address: aAddress, objectId: 'gone', size: 8 } };
  const opts = wireOptions({ resources: { B: 1 } });
  Object.assign(opts, { request: { CPU: 1, B: 1 }, shape: lease.shape });
  ws.send(encode({ t: 'run', lease: lease.leaseId, task: { taskId: 'on-dead', hash: text.hash, name: 'size', fn: 'size', args: [onA], opts } }));
  const lost = await resultOf(ws, 'on-dead', 10_000);
  t.equal(lost.error?.code, 'ERR_OBJECT_LOST', `an argument held by a dead node is answered lost (got ${lost.error?.code}: ${lost.error?.message})`);
  t.match(lost.error?.message, new RegExp(`its node ${a.nodeId} died`), 'naming the node that died');
});
