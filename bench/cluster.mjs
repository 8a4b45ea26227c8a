// Cluster benchmark on loopback, in one run:
//  1. moving a 1 GiB sealed object between two processes (an object server and a puller),
//     against the best bare ws stream of the same bytes and raw TCP (the ceiling);
//  2. tiny-task throughput of one driver over 1, 2 and 3 one-CPU nodes, against the embedded node
//     with 1 and 2 CPUs on the same machine; calls to one actor on an actor route and through the head;
//     and how soon a head killed and started again serves;
//  3. how long a node's death takes to be seen by the head and its tasks to run again elsewhere.
//
//   npx tsc -p . && node bench/cluster.mjs
//
// Progress goes to stderr, the table to stdout.
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median } from './lib/stats.mjs';
import { launch as launchIn, stopAll } from './lib/launch.mjs';
import { connect as netConnect, createServer as netCreateServer } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import * as tsray from 'tsray';
import { ObjectStore } from '../dist/store/object-store.js';
import { ObjectPuller } from '../dist/host/cluster/object-transfer.js';
import { connect } from '../dist/host/cluster/connect.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'host', 'cli', 'main.js');
const START = performance.now();
const LOAD_BEFORE = loadavg();
const progress = makeProgress(START);
const GiB = 2 ** 30;
const TOKEN = 'bench-cluster-token';
const gbs = (bytes, ms) => bytes / 1e6 / ms;
const f2 = (x) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(2));
const launch = (args, pattern, env) => launchIn(ROOT, args, pattern, env);

// ---- 1. transfer ----
const SIZE = GiB;
const REPS = 3;
progress(`transfer: starting owner processes with ${SIZE / GiB} GiB each...`);
const owner = await launch([join(ROOT, 'bench', 'cluster', 'owner.mjs'), 'object', String(SIZE), TOKEN], /^(\{.*\})\n/m);
const wsOwner = await launch([join(ROOT, 'bench', 'cluster', 'owner.mjs'), 'ws', String(SIZE)], /^(\{.*\})\n/m);
const tcpOwner = await launch([join(ROOT, 'bench', 'cluster', 'owner.mjs'), 'tcp', String(SIZE)], /^(\{.*\})\n/m);
const { address, objectId, key } = JSON.parse(owner.m[1]);
const wsPort = JSON.parse(wsOwner.m[1]).port;
const tcpPort = JSON.parse(tcpOwner.m[1]).port;

const store = new ObjectStore({
  nodeId: 'puller0000000000', capacity: SIZE + 64 * 2 ** 20, spillDir: mkdtempSync(join(tmpdir(), 'tsray-bench-pull-')),
  spillThreshold: 1, minSpillBytes: GiB, localFsCapacityThreshold: 1, recordTaskCallSites: false,
});
const puller = new ObjectPuller(store, TOKEN);
const dst = new Uint8Array(SIZE);
dst.fill(1); // touch the pages, as the store's arena is touched after the first pull

async function viaObjectPlane() {
  const t0 = performance.now();
  const ref = await puller.pull({ nodeId: 'owner', address, objectId, size: SIZE, key });
  const ms = performance.now() - t0;
  ref.release();
  return ms;
}

const ws = new WebSocket(`ws://127.0.0.1:${wsPort}`, { perMessageDeflate: false, maxPayload: 64 * 2 ** 20 });
await new Promise((r) => ws.once('open', r));
function viaWs() {
  return new Promise((resolve) => {
    let got = 0;
    const t0 = performance.now();
    const onMsg = (d) => {
      dst.set(d, got);
      got += d.byteLength;
      if (got >= SIZE) { ws.off('message', onMsg); resolve(performance.now() - t0); }
    };
    ws.on('message', onMsg);
    ws.send('go');
  });
}

function viaTcp() {
  return new Promise((resolve) => {
    const sock = netConnect(tcpPort, '127.0.0.1');
    let got = 0;
    let t0 = 0;
    sock.on('connect', () => { t0 = performance.now(); sock.write('go'); });
    sock.on('data', (d) => {
      dst.set(d.subarray(0, Math.min(d.byteLength, SIZE - got)), got);
      got += d.byteLength;
      if (got >= SIZE) { sock.destroy(); resolve(performance.now() - t0); }
    });
  });
}

const obj = [];
const raw = [];
const tcp = [];
await viaObjectPlane(); // first pull commits the puller's arena pages
for (let i = 0; i < REPS; i++) {
  obj.push(await viaObjectPlane());
  raw.push(await viaWs());
  tcp.push(await viaTcp());
  progress(`transfer round ${i + 1}/${REPS}: object plane ${f2(gbs(SIZE, obj.at(-1)))} GB/s, bare ws ${f2(gbs(SIZE, raw.at(-1)))} GB/s, tcp ${f2(gbs(SIZE, tcp.at(-1)))} GB/s`);
}
const ratios = obj.map((o, i) => raw[i] / o);
ws.close();
puller.close();
store.close();
for (const c of [owner.child, wsOwner.child, tcpOwner.child]) c.kill('SIGKILL');

// ---- 2 and 3: a real cluster ----
const TMP = mkdtempSync(join(tmpdir(), 'tsray-bench-cluster-'));
const env = { ...process.env, TMPDIR: TMP };
const startArgs = (extra) => [CLI, 'start', ...extra, '--token', TOKEN, '--block', '--object-store-memory', String(256 * 2 ** 20)];
progress('cluster: starting a head (its own node offers no CPU, so its process does only the head\'s work)...');
const head = await launch(startArgs(['--head', '--port', '0', '--num-cpus', '0']), /listening at (ws:\/\/\S+)/, env);
const headAddress = head.m[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
const matrixBytes = readFileSync(join(ROOT, 'build', 'matrix.wasm'));

async function throughput(n, rounds) {
  const mod = await tsray.load(matrixBytes);
  const add = mod.fn('add');
  await tsray.get(Array.from({ length: 200 }, (_, i) => add.remote(i, 1)));
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await tsray.get(Array.from({ length: n }, (_, i) => add.remote(i, 1)));
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

// Tiny tasks over 1, 2 and 3 one-CPU node processes (one more at a time), then the embedded node.
// Each round runs both paths on the same cluster, alternating: worker leases (tasks straight to the nodes, the
// default) and every task through the head (TSRAY_WORKER_LEASES=0); the head's CPU is read around each.
const cpuOf = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const ownCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const nodePids = [];
/** CPU ms of the head, of the nodes (summed) and of this process (the driver, or the embedded node), now. */
const cpuNow = () => ({ head: cpuOf(head.child.pid), nodes: nodePids.reduce((a, p) => a + cpuOf(p), 0), self: ownCpu() });
const usPer = (a, b, n) => Object.fromEntries(Object.keys(a).map((k) => [k, (b[k] - a[k]) * 1000 / n]));
/** One driver, on leases or through the head: the rate of `n` tiny tasks after a warm-up, and the CPU each process spent on them. */
async function onePath(leases, n) {
  process.env.TSRAY_WORKER_LEASES = leases ? '1' : '0';
  await tsray.init({ address: headAddress, token: TOKEN });
  const add = (await tsray.load(matrixBytes)).fn('add');
  await tsray.get(Array.from({ length: 200 }, (_, i) => add.remote(i, 1)));
  const c0 = cpuNow();
  const t0 = performance.now();
  await tsray.get(Array.from({ length: n }, (_, i) => add.remote(i, 1)));
  const rate = n / ((performance.now() - t0) / 1000);
  const us = usPer(c0, cpuNow(), n);
  await tsray.shutdown();
  return { rate, us };
}
/** One driver calling one actor (on a route, or through the head): the rate of `n` calls after a warm-up, and the CPU each process spent. */
const counterBytes = readFileSync(join(ROOT, 'build', 'counter.wasm'));
async function oneActorPath(routes, n) {
  process.env.TSRAY_WORKER_LEASES = routes ? '1' : '0';
  await tsray.init({ address: headAddress, token: TOKEN });
  const c = (await tsray.load(counterBytes)).actor('counter', { numCpus: 1 }).remote(0n);
  await tsray.get(Array.from({ length: 200 }, () => c.incr.remote(1n)));
  await tsray.get(c.get.remote());
  const c0 = cpuNow();
  const t0 = performance.now();
  const last = await tsray.get(Array.from({ length: n }, () => c.incr.remote(1n)));
  const rate = n / ((performance.now() - t0) / 1000);
  const us = usPer(c0, cpuNow(), n);
  if (last.at(-1) !== BigInt(200 + n)) throw new Error(`the actor counted ${last.at(-1)}, not ${200 + n}`);
  await tsray.shutdown();
  return { rate, us };
}
const actorCalls = { routed: [], viaHead: [], headUs: { routed: [], viaHead: [] } };
const overNodes = [];
const viaHead = [];
const cpuUs = { leased: [], routed: [] };
for (let nodes = 1; nodes <= 3; nodes++) {
  nodePids.push((await launch(startArgs(['--address', headAddress, '--num-cpus', '1']), /joined/, env)).child.pid);
  const leased = [];
  const routed = [];
  for (let r = 0; r < 5; r++) {
    for (const leases of r % 2 ? [false, true] : [true, false]) {
      const x = await onePath(leases, 5000);
      (leases ? leased : routed).push(x.rate);
      if (nodes === 3) (leases ? cpuUs.leased : cpuUs.routed).push(x.us);
    }
  }
  if (nodes === 3) {
    for (let r = 0; r < 3; r++) {
      for (const routes of r % 2 ? [false, true] : [true, false]) {
        const x = await oneActorPath(routes, 5000);
        actorCalls[routes ? 'routed' : 'viaHead'].push(x.rate);
        actorCalls.headUs[routes ? 'routed' : 'viaHead'].push(x.us.head);
      }
    }
    progress(`actor calls: ${fmtInt(median(actorCalls.routed))} calls/s on a route, ${fmtInt(median(actorCalls.viaHead))} through the head`);
  }
  overNodes.push(median(leased));
  viaHead.push(median(routed));
  progress(`tiny tasks over ${nodes} node${nodes > 1 ? 's' : ''}: ${fmtInt(overNodes.at(-1))} tasks/s on leases, ${fmtInt(viaHead.at(-1))} through the head`);
}
delete process.env.TSRAY_WORKER_LEASES;
const clusterRate = overNodes[2];
const embedded = [];
let embeddedUs = 0;
for (const numCpus of [1, 2]) {
  await tsray.init({ numCpus });
  const c0 = ownCpu();
  embedded.push(await throughput(5000, 5));
  if (numCpus === 1) embeddedUs = (ownCpu() - c0) * 1000 / (5 * 5000 + 200);
  await tsray.shutdown();
  progress(`tiny tasks on the embedded node, ${numCpus} CPU${numCpus > 1 ? 's' : ''}: ${fmtInt(embedded.at(-1))} tasks/s`);
}
const embeddedRate = embedded[1];

// A head killed (-9) and started again at its address, with a driver connected through it and a task running on
// its node: how soon the head listens, and how soon work made while it was away is served (the node comes back
// under its id from the head's tables, the driver sends its work again).
stopAll();
const port = await new Promise((resolve) => { const srv = netCreateServer().listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); }); });
const tablesDir = mkdtempSync(join(tmpdir(), 'tsray-bench-tables-'));
const restartArgs = startArgs(['--head', '--port', String(port), '--host', '127.0.0.1', '--num-cpus', '0', '--storage-dir', tablesDir]);
const firstHead = await launch(restartArgs, /listening at (ws:\/\/\S+)/, env);
const restartAddress = firstHead.m[1];
await launch(startArgs(['--address', restartAddress, '--num-cpus', '2']), /joined/, env);
await tsray.init({ address: restartAddress, token: TOKEN });
const matrixMod = await tsray.load(matrixBytes);
const slowMod = await tsray.load(readFileSync(join(ROOT, 'build', 'slow.wasm')));
await tsray.get(matrixMod.fn('add').remote(1, 2));
const running = slowMod.fn('nap').remote(1000);
await new Promise((r) => setTimeout(r, 100));
const killed = performance.now();
firstHead.child.kill('SIGKILL');
const during = matrixMod.fn('add').remote(1, 2);
await launch(restartArgs, /listening at/, env);
const headBack = performance.now() - killed;
// The new head's own node offers no CPU: the task waits for the node that comes back.
await tsray.get(during);
const servedAgain = performance.now() - killed;
const survived = / attempt 0 /.test(await tsray.get(running));
await tsray.shutdown();
progress(`head restart: listening again after ${f2(headBack)} ms, work made meanwhile served after ${f2(servedAgain)} ms; the running task ${survived ? 'finished once' : 'ran again'}`);

// Death, on a fresh two-node cluster with room to spare: each node takes half of eight long naps;
// kill -9 one and time how soon the head sees it and how soon its naps finish elsewhere.
stopAll();
const head2 = await launch(startArgs(['--head', '--port', '0', '--num-cpus', '8']), /listening at (ws:\/\/\S+)/, env);
const head2Address = head2.m[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
const victim = await launch(startArgs(['--address', head2Address, '--num-cpus', '8']), /tsray node ([0-9a-f]{16}) joined/, env);
const victimId = victim.m[1];
const watcher = (await connect(head2Address, TOKEN, 'cli')).peer;
await tsray.init({ address: head2Address, token: TOKEN });
const slow = await tsray.load(readFileSync(join(ROOT, 'build', 'slow.wasm')));
await tsray.get(Array.from({ length: 8 }, () => slow.fn('nap').remote(1)));
const NAP = 1000;
const refs = Array.from({ length: 8 }, () => slow.fn('nap').remote(NAP));
const done = refs.map((r) => tsray.get(r).then((s) => ({ s, at: performance.now() })));
await new Promise((r) => setTimeout(r, 200));
const killedAt = performance.now();
victim.child.kill('SIGKILL');
let seenDead;
while (seenDead === undefined) {
  const st = await watcher.request({ t: 'status', id: 0 });
  if (st.nodes.some((n) => n.nodeId === victimId && n.state === 'DEAD')) seenDead = performance.now() - killedAt;
}
const results = await Promise.all(done);
const retried = results.filter((x) => / attempt 1 /.test(x.s));
const resubmit = retried.map((x) => x.at - killedAt - NAP);
progress(`death: seen dead after ${f2(seenDead)} ms; ${retried.length} tasks retried, done ${f2(median(resubmit))} ms after kill + nap`);
watcher.close();
await tsray.shutdown();
stopAll();

const med = (path, who) => median(cpuUs[path].map((u) => u[who]));
const total = (path) => med(path, 'self') + med(path, 'nodes') + med(path, 'head');
/** One 10 ms tick of /proc CPU time over a run of 5,000 tasks or calls: the finest head CPU per task it can show. */
const TICK_US = 10_000 / 5000;
/** The head is off the path when its CPU per task is a tenth of what the head path costs it, or below what one tick can show (heartbeats alone spend a tick now and then). */
const offPath = (direct, viaHead) => direct <= Math.max(viaHead / 10, TICK_US);
const medObj = median(obj);
const medRaw = median(raw);
const medTcp = median(tcp);
printTable([
  ['measurement', 'tsray', 'comparison (same run)', 'ratio', 'goal', 'goal met'],
  [`1. pull of a 1 GiB object between two processes (object server -> puller's store)`, `${f2(gbs(SIZE, medObj))} GB/s`, `bare ws stream, same bytes, 4 MiB frames: ${f2(gbs(SIZE, medRaw))} GB/s`, `${f2(median(ratios))}x`, '>= 1.2 GB/s and >= 0.8x ws', gbs(SIZE, medObj) >= 1.2 && median(ratios) >= 0.8 ? 'met' : 'MISSED'],
  ['     raw TCP, same bytes (the ceiling)', '', `${f2(gbs(SIZE, medTcp))} GB/s`, `${f2(medTcp / medObj)}x of tcp`, '', ''],
  ['2. tiny tasks (add), one driver over 1 / 2 / 3 one-CPU nodes, on worker leases (default)', overNodes.map((r) => fmtInt(r)).join(' / ') + ' tasks/s', `embedded node, 1 / 2 CPUs: ${fmtInt(embedded[0])} / ${fmtInt(embeddedRate)} tasks/s`, `${f2(clusterRate / 3 / embedded[0])}x per CPU (3 nodes)`, '>= 1x per CPU (3 nodes vs embedded 1 CPU)', clusterRate / 3 >= embedded[0] ? 'met' : 'MISSED'],
  ['     the same, every task through the head (TSRAY_WORKER_LEASES=0)', viaHead.map((r) => fmtInt(r)).join(' / ') + ' tasks/s', 'leases / through the head, 1 / 2 / 3 nodes', overNodes.map((r, i) => `${f2(r / viaHead[i])}x`).join(' / '), '', ''],
  ['     head CPU per task, 3 nodes: on leases / through the head', `${f2(med('leased', 'head'))} / ${f2(med('routed', 'head'))} us`, `read from /proc/PID/stat around each run (10 ms ticks: ${f2(TICK_US)} us per task)`, '', 'head off the per-task path', offPath(med('leased', 'head'), med('routed', 'head')) ? 'met' : 'MISSED'],
  ['     CPU per task, 3 nodes, driver / nodes (summed) / head: on leases', `${f2(med('leased', 'self'))} / ${f2(med('leased', 'nodes'))} / ${f2(med('leased', 'head'))} us`, `through the head: ${f2(med('routed', 'self'))} / ${f2(med('routed', 'nodes'))} / ${f2(med('routed', 'head'))} us`, `${f2(total('leased') / total('routed'))}x the CPU of all processes`, 'measure', ''],
  ['     the same, all processes, against the embedded node', `${f2(total('leased'))} us on leases`, `the embedded node, 1 CPU (driver and node in one process): ${f2(embeddedUs)} us; ${cpus().length} cores for all processes`, `${f2(total('leased') / embeddedUs)}x the embedded CPU`, 'measure', ''],
  ['     calls to one actor on a node (incr), 3 nodes: on an actor route (default)', `${fmtInt(median(actorCalls.routed))} calls/s`, `through the head: ${fmtInt(median(actorCalls.viaHead))} calls/s`, `${f2(median(actorCalls.routed) / median(actorCalls.viaHead))}x`, 'head off the per-call path', ''],
  ['     head CPU per actor call: on a route / through the head', `${f2(median(actorCalls.headUs.routed))} / ${f2(median(actorCalls.headUs.viaHead))} us`, `read from /proc/PID/stat around each run (10 ms ticks: ${f2(TICK_US)} us per call)`, '', 'head off the per-call path', offPath(median(actorCalls.headUs.routed), median(actorCalls.headUs.viaHead)) ? 'met' : 'MISSED'],
  ['     head killed (-9) and started again at its address (tables in a local file): listening again', `${f2(headBack)} ms`, 'its node dials again with backoff (250 ms, doubling)', '', 'measure', ''],
  ['     a task made while the head was away, served (by the node, back under its id)', `${f2(servedAgain)} ms`, `the same driver throughout; a task running at the kill ${survived ? 'finished once, not run again' : 'RAN AGAIN'}`, '', 'measure', ''],
  ['3. node killed (-9): head sees it dead', `${f2(seenDead)} ms`, 'its connection closes; heartbeats (10 s) catch silent nodes', '', 'measure', ''],
  ['     its tasks resubmitted: done elsewhere, past kill + their 1 s nap', `${f2(median(resubmit))} ms`, `${retried.length} of 8 tasks retried (attempt 1) on a node with free CPUs`, '', 'measure', ''],
]);
console.log('');
console.log(`1: medians of ${REPS} rounds, the three variants back to back each round, after one warm-up pull; the ratio is the median of per-round ratios. GB/s = 10^9 bytes/s. All on loopback.`);
console.log('2: medians of 5 rounds x 5,000 tasks after 200 warm-up tasks, each round both paths (a fresh driver each), alternating which goes first. On leases a task travels driver -> node -> driver and the head only grants leases (a few per run), so at 1,000 nodes the head\'s work grows with leases and membership, not with tasks; through the head every task costs it the CPU above. Actor calls: medians of 3 rounds x 5,000 calls to one actor after 200 warm-up calls, both paths each round; on a route a call travels driver -> node -> driver, and the head only signs the route.');
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node.js ${process.version}, load average ${LOAD_BEFORE[0].toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end; run took ${((performance.now() - START) / 1000).toFixed(0)} s`);
process.exit(0);
