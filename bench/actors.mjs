// Actor benchmark on the embedded node: 1:1 actor calls (sequential round
// trip and asynchronous throughput, each against piscina running a stateful
// counter on one thread in the same run), n:n calls with two callers and two
// actors, and guest-initiated calls from tasks holding actor handles. Ray
// 2.22's microbenchmark figures are printed beside them as anchors.
//
//   npx tsc -p . && node guest/examples/build-all.mjs && node bench/actors.mjs
//
// Progress goes to stderr, the table to stdout. Needs build/counter.wasm and
// build/counter-client.wasm.
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median, quantile, tick } from './lib/stats.mjs';
import { threadTimes, sameCore } from './lib/placement.mjs';
import * as tsray from 'tsray';
import { Piscina } from 'piscina';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

const START = performance.now();
const LOAD_BEFORE = loadavg();
const progress = makeProgress(START);
const paired = (a, b) => median(a.map((x, i) => x / b[i]));

const CPUS = 2;
// Ray 2.22 release microbenchmark (64 vCPUs).
const RAY_1_1_SYNC = 2096; // 1:1 actor calls sync, calls/s
const RAY_1_1_ASYNC = 9063; // 1:1 actor calls async, calls/s
const RAY_N_N_ASYNC = 27688; // n:n actor calls async, calls/s

// Sizes: the whole run stays well under two minutes on this machine.
const SEQ_WARM = 20_000, SEQ_N = 10_000, SEQ_ROUNDS = 9;
const ASYNC_N = 50_000, ASYNC_WARM = 1, ASYNC_ROUNDS = 7;
const NN_N = 50_000, NN_CHUNK = 1_000, NN_WARM = 2, NN_ROUNDS = 7;
const BUMP_TIMES = 5_000, BUMP_WARM = 1, BUMP_ROUNDS = 5;

await tsray.init({ numCpus: CPUS });
const counterMod = await tsray.load(join(ROOT, 'build', 'counter.wasm'));
const clientMod = await tsray.load(join(ROOT, 'build', 'counter-client.wasm'));
const Counter = counterMod.actor('counter');
const bump = clientMod.fn('bump');

/** An actor plus the value its counter must hold (every call is incr(1)). */
function newCounter() {
  return { h: Counter.remote(0n), expected: 0n };
}
function check(what, got, want) {
  if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`);
}

const one = newCounter();
check('first incr', await tsray.get(one.h.incr.remote(1n)), ++one.expected);
progress(`tsray node up: numCpus ${CPUS}, ${tsray.testing.workerCount()} task workers; counter actor ready`);

const pool = new Piscina({ filename: new URL('./piscina-counter.mjs', import.meta.url).href, minThreads: 1, maxThreads: 1 });
let piscinaExpected = 0;
check('piscina first run', await pool.run(1), ++piscinaExpected);
progress('piscina up: 1 thread, stateful counter worker');

// ---------------------------------------------------------------------------
// Core placement (Linux, from /proc): whether the main thread and the busiest
// other thread since `before` were last seen on one core.

// ---------------------------------------------------------------------------
// 1. Sequential 1:1 round trip: await get(c.incr.remote(1n)), against
// await pool.run(1) on the one-thread piscina counter; rounds interleaved.
async function seqTsray(n, each, off) {
  const c = one;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = performance.now();
    const v = await tsray.get(c.h.incr.remote(1n));
    if (each) each[off + i] = performance.now() - a;
    if (v !== ++c.expected) check('sequential incr', v, c.expected);
  }
  return ((performance.now() - t0) / n) * 1000;
}
async function seqPiscina(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const v = await pool.run(1);
    if (v !== ++piscinaExpected) check('piscina sequential run', v, piscinaExpected);
  }
  return ((performance.now() - t0) / n) * 1000;
}

progress(`1:1 sequential: warm-up (${fmtInt(SEQ_WARM)} calls each)...`);
await seqTsray(SEQ_WARM);
await seqPiscina(SEQ_WARM);
const seq = { tsray: [], piscina: [], shared: [] };
const seqEach = new Float64Array(SEQ_N * SEQ_ROUNDS);
for (let r = 0; r < SEQ_ROUNDS; r++) {
  const before = threadTimes();
  seq.tsray.push(await seqTsray(SEQ_N, seqEach, r * SEQ_N));
  seq.shared.push(sameCore(before));
  seq.piscina.push(await seqPiscina(SEQ_N));
  const where = seq.shared[r] === undefined ? '' : seq.shared[r] ? ', main thread and actor on one core' : ', main thread and actor on two cores';
  progress(`1:1 sequential round ${r + 1}/${SEQ_ROUNDS}: tsray ${seq.tsray[r].toFixed(1)} us${where}; piscina ${seq.piscina[r].toFixed(1)} us`);
}
const seqSorted = [...seqEach].sort((a, b) => a - b);
const S = {
  us: median(seq.tsray), min: Math.min(...seq.tsray), max: Math.max(...seq.tsray), over: seq.tsray.filter((x) => x > 50).length,
  p50: quantile(seqSorted, 0.5) * 1000, p99: quantile(seqSorted, 0.99) * 1000,
  shared: seq.shared.every((x) => x === undefined) ? undefined : seq.shared.filter(Boolean).length,
  piscina: median(seq.piscina), ratio: paired(seq.tsray, seq.piscina),
};

// ---------------------------------------------------------------------------
// 2. 1:1 async: N calls, then one get of all; piscina: N pool.run(1), Promise.all.
async function asyncTsray(n) {
  const c = one;
  const t0 = performance.now();
  const refs = new Array(n);
  for (let i = 0; i < n; i++) refs[i] = c.h.incr.remote(1n);
  const vals = await tsray.get(refs);
  const dt = performance.now() - t0;
  c.expected += BigInt(n);
  check('1:1 async: last value', vals[n - 1], c.expected);
  return (n / dt) * 1000;
}
async function asyncPiscina(n) {
  const t0 = performance.now();
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = pool.run(1);
  const vals = await Promise.all(ps);
  const dt = performance.now() - t0;
  // piscina does not promise to run queued tasks in submission order: check
  // that the values are exactly prev + 1 .. prev + n, in whatever order.
  let max = 0, sum = 0;
  for (const v of vals) { if (v > max) max = v; sum += v; }
  const prev = piscinaExpected;
  piscinaExpected += n;
  check('piscina async: highest value', max, piscinaExpected);
  check('piscina async: sum of values', sum, n * prev + (n * (n + 1)) / 2);
  return (n / dt) * 1000;
}

progress(`1:1 async: warm-up (${ASYNC_WARM} rounds x ${fmtInt(ASYNC_N)} calls each)...`);
for (let r = 0; r < ASYNC_WARM; r++) { await asyncTsray(ASYNC_N); await asyncPiscina(ASYNC_N); }
const asy = { tsray: [], piscina: [] };
for (let r = 0; r < ASYNC_ROUNDS; r++) {
  asy.tsray.push(await asyncTsray(ASYNC_N));
  asy.piscina.push(await asyncPiscina(ASYNC_N));
  progress(`1:1 async round ${r + 1}/${ASYNC_ROUNDS}: tsray ${fmtInt(asy.tsray[r])} calls/s; piscina ${fmtInt(asy.piscina[r])} calls/s`);
}
const A = { tsray: median(asy.tsray), piscina: median(asy.piscina), ratio: paired(asy.tsray, asy.piscina), min: Math.min(...asy.tsray), max: Math.max(...asy.tsray) };
await pool.destroy();

// ---------------------------------------------------------------------------
// 3. n:n async, 2 callers x 2 actors: two async loops in the driver, each
// owning one actor, submit N/2 calls each in chunks (yielding to the event
// loop between chunks, so the callers interleave), then get their own refs.
const pair = [newCounter(), newCounter()];
await tsray.get(pair.map((c) => c.h.incr.remote(1n)));
for (const c of pair) c.expected++;

async function caller(c, n) {
  const refs = new Array(n);
  for (let i = 0; i < n; i += NN_CHUNK) {
    for (let j = i; j < Math.min(n, i + NN_CHUNK); j++) refs[j] = c.h.incr.remote(1n);
    await tick();
  }
  const vals = await tsray.get(refs);
  c.expected += BigInt(n);
  check('n:n: last value', vals[n - 1], c.expected);
}
async function nnRound(n) {
  const t0 = performance.now();
  await Promise.all(pair.map((c) => caller(c, n / pair.length)));
  return (n / (performance.now() - t0)) * 1000;
}

progress(`n:n async (2 callers, 2 actors): warm-up (${NN_WARM} rounds x ${fmtInt(NN_N)} calls)...`);
for (let r = 0; r < NN_WARM; r++) await nnRound(NN_N);
const nn = [];
for (let r = 0; r < NN_ROUNDS; r++) {
  nn.push(await nnRound(NN_N));
  progress(`n:n async round ${r + 1}/${NN_ROUNDS}: ${fmtInt(nn[r])} calls/s`);
}
const N = { tps: median(nn), min: Math.min(...nn), max: Math.max(...nn) };

// ---------------------------------------------------------------------------
// 3b. Callers as tasks: `bump(counter, times)` (counter-client world) calls
// incr(1) on its actor `times` times through the host, one after another.
// Two tasks, each bumping its own actor; then one task alone on one actor.
async function bumpRound(cs) {
  const t0 = performance.now();
  const lasts = await tsray.get(cs.map((c) => bump.remote(c.h, BUMP_TIMES)));
  const dt = performance.now() - t0;
  cs.forEach((c, i) => { c.expected += BigInt(BUMP_TIMES); check('bump task: last value', lasts[i], c.expected); });
  return ((cs.length * BUMP_TIMES) / dt) * 1000;
}
progress(`task callers: 2 bump tasks x ${fmtInt(BUMP_TIMES)} guest calls, 2 actors (${BUMP_WARM} warm-up + ${BUMP_ROUNDS} rounds)...`);
for (let r = 0; r < BUMP_WARM; r++) await bumpRound(pair);
const b2 = [];
for (let r = 0; r < BUMP_ROUNDS; r++) {
  b2.push(await bumpRound(pair));
  progress(`2 bump tasks round ${r + 1}/${BUMP_ROUNDS}: ${fmtInt(b2[r])} guest calls/s`);
}
progress(`task callers: 1 bump task x ${fmtInt(BUMP_TIMES)} guest calls, 1 actor...`);
await bumpRound([one]);
const b1 = [];
for (let r = 0; r < BUMP_ROUNDS; r++) {
  b1.push(await bumpRound([one]));
  progress(`1 bump task round ${r + 1}/${BUMP_ROUNDS}: ${fmtInt(b1[r])} guest calls/s (${(1e6 / b1[r]).toFixed(1)} us per call)`);
}
const B = { two: median(b2), one: median(b1) };

// Every counter holds exactly the increments made on it.
for (const c of [one, ...pair]) check('final counter value', await tsray.get(c.h.get.remote()), c.expected);
await tsray.shutdown();

// ---------------------------------------------------------------------------
const met = (ok) => (ok ? 'met' : 'MISSED');
const us = (cps) => `${(1e6 / cps).toFixed(0)} us`;
const rows = [
  ['measurement', 'tsray', 'goal', 'goal met', 'piscina, 1 thread, same run', 'Ray 2.22 anchor (64 vCPUs)'],
  ['1. 1:1 sequential: await get(c.incr.remote(1n))', `${S.us.toFixed(1)} us`, '<= 50 us', met(S.us <= 50),
    `await pool.run(1): ${S.piscina.toFixed(1)} us -> tsray/piscina ${S.ratio.toFixed(2)}x (latency: lower is better)`,
    `${fmtInt(RAY_1_1_SYNC)} calls/s = ${us(RAY_1_1_SYNC)} -> ${(1e6 / RAY_1_1_SYNC / S.us).toFixed(0)}x faster`],
  ['     rounds (min / max), rounds over 50 us', `${S.min.toFixed(1)} / ${S.max.toFixed(1)} us`, '', '',
    `${S.over} of ${SEQ_ROUNDS} rounds over 50 us${S.shared === undefined ? '' : `; main thread and actor on one core in ${S.shared} of ${SEQ_ROUNDS}`}`, ''],
  ['     each round trip: p50 / p99', `${S.p50.toFixed(1)} / ${S.p99.toFixed(1)} us`, '', '', `= ${fmtInt(1e6 / S.us)} calls/s sequential`, ''],
  [`2. 1:1 async: ${fmtInt(ASYNC_N)} x c.incr.remote(1n), one get`, `${fmtInt(A.tsray)} calls/s`, '>= 50,000 calls/s', met(A.tsray >= 50_000),
    `pool.run(1) x ${fmtInt(ASYNC_N)}, Promise.all: ${fmtInt(A.piscina)} calls/s -> tsray/piscina ${A.ratio.toFixed(2)}x`,
    `${fmtInt(RAY_1_1_ASYNC)} calls/s -> ${(A.tsray / RAY_1_1_ASYNC).toFixed(1)}x`],
  ['     rounds (min / max)', `${fmtInt(A.min)} / ${fmtInt(A.max)}`, '', '', '', ''],
  [`3. n:n async: 2 driver callers x 2 actors, ${fmtInt(NN_N)} calls`, `${fmtInt(N.tps)} calls/s`, 'measure', '', '',
    `${fmtInt(RAY_N_N_ASYNC)} calls/s -> ${(N.tps / RAY_N_N_ASYNC).toFixed(1)}x`],
  ['     rounds (min / max)', `${fmtInt(N.min)} / ${fmtInt(N.max)}`, '', '', '', ''],
  [`3b. 2 bump tasks x 2 actors, ${fmtInt(BUMP_TIMES)} guest calls each`, `${fmtInt(B.two)} calls/s`, 'measure', '', '', ''],
  ['     1 bump task x 1 actor (sequential guest calls)', `${fmtInt(B.one)} calls/s`, '', '', `= ${(1e6 / B.one).toFixed(1)} us per guest-initiated call`, ''],
];

printTable(rows);
console.log('');
console.log(`tsray/piscina (stateful counter, 1 actor vs 1 piscina thread): sequential latency ${S.ratio.toFixed(2)}x (lower is better), async throughput ${A.ratio.toFixed(2)}x (higher is better); medians of per-round ratios`);
console.log(`sequential: median of ${SEQ_ROUNDS} rounds x ${fmtInt(SEQ_N)} after ${fmtInt(SEQ_WARM)} warm-up; async: ${ASYNC_ROUNDS} interleaved rounds x ${fmtInt(ASYNC_N)} after ${ASYNC_WARM} warm-up; n:n: ${NN_ROUNDS} rounds after ${NN_WARM} warm-up, chunks of ${fmtInt(NN_CHUNK)}; tasks: ${BUMP_ROUNDS} rounds after ${BUMP_WARM} warm-up`);
console.log(`anchors: Ray 2.22 on 64 vCPUs, 1:1 sync ${fmtInt(RAY_1_1_SYNC)} calls/s, 1:1 async ${fmtInt(RAY_1_1_ASYNC)} calls/s, n:n async ${fmtInt(RAY_N_N_ASYNC)} calls/s`);
const LOAD_AFTER = loadavg();
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node.js ${process.version}, load average ${LOAD_BEFORE[0].toFixed(2)} at start, ${LOAD_AFTER[0].toFixed(2)} at end; run took ${((performance.now() - START) / 1000).toFixed(0)} s`);
