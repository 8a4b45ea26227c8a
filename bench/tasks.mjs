// Task benchmark on the embedded node: tiny-task throughput (against piscina
// running the same trivial function in the same run, and with task state
// events recorded vs not), the sequential
// submit+get round trip, one task with many ObjectRef arguments (and a
// 10,000-task fan-in), and 1,000,000 tasks queued then drained.
//
//   npx tsc -p . && node guest/examples/build-all.mjs && node bench/tasks.mjs
//
// Progress goes to stderr, the table to stdout. Needs build/matrix.wasm.
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median, quantile, tick } from './lib/stats.mjs';
import { threadTimes, sameCore } from './lib/placement.mjs';
import * as tsray from 'tsray';
import { Piscina } from 'piscina';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');

// ---------------------------------------------------------------------------
// Wide-signature components: a WIT function with n f64 parameters returning
// their sum. Generated under a temp dir and built in a child process (this
// file run with --build-wide), because the AssemblyScript compiler ends the
// whole process when it crashes.

function wideSources(n) {
  const ps = Array.from({ length: n }, (_, i) => `p${i}`);
  const wit = `package bench:wide${n};\n\nworld wide${n} {\n  include tsray:runtime/task;\n`
    + `  export sum-all: func(${ps.map((p) => `${p}: f64`).join(', ')}) -> f64;\n}\n`;
  const ts = `export function sumAll(${ps.map((p) => `${p}: f64`).join(', ')}): f64 {\n  let s = 0.0;\n`
    + `${ps.map((p) => `  s += ${p};`).join('\n')}\n  return s;\n}\n`;
  return { wit, ts };
}

if (process.argv[2] === '--build-wide') {
  const [n, dir, debug] = [Number(process.argv[3]), process.argv[4], process.argv[5] === 'debug'];
  const name = `wide${n}${debug ? '-debug' : ''}`;
  const { wit, ts } = wideSources(n);
  writeFileSync(join(dir, `${name}.wit`), wit.replace(`world wide${n}`, `world ${name}`).replace(`bench:wide${n}`, `bench:${name}`));
  writeFileSync(join(dir, `${name}.ts`), ts);
  const t0 = performance.now();
  let out;
  try {
    await tsray.build({ entry: join(dir, `${name}.ts`), wit: join(dir, `${name}.wit`), world: name, out: join(dir, `${name}.wasm`), debug });
    out = { ok: true, path: join(dir, `${name}.wasm`), ms: performance.now() - t0 };
  } catch (e) {
    out = { ok: false, error: `${e.code ?? e.name}: ${e.message}`, ms: performance.now() - t0 };
  }
  process.stdout.write(`@@wide ${JSON.stringify(out)}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const START = performance.now();
const LOAD_BEFORE = loadavg();
const progress = makeProgress(START);

const CPUS = 2;
const ANCHOR_ASYNC = 8194; // Ray 2.22, 64 vCPUs: tasks/s, async submission
const ANCHOR_SYNC = 971; // Ray 2.22, 64 vCPUs: tasks/s, sequential submit + get

await tsray.init({ numCpus: CPUS });
const matrix = await tsray.load(join(ROOT, 'build', 'matrix.wasm'));
const add = matrix.fn('add');
if (add.signature !== 'add: func(a: s32, b: s32) -> s32') throw new Error(`unexpected signature ${add.signature}`);
if ((await tsray.get(add.remote(1, 2))) !== 3) throw new Error('add(1, 2) is not 3');
progress(`tsray node up: numCpus ${CPUS}, ${tsray.testing.workerCount()} workers; ${add.signature}`);

// ---------------------------------------------------------------------------
// 1. Tiny-task throughput, submitted asynchronously: tsray vs piscina.
const THR_N = 50_000, THR_WARM = 2, THR_ROUNDS = 7;

async function tsrayRound(n) {
  const t0 = performance.now();
  const refs = new Array(n);
  for (let i = 0; i < n; i++) refs[i] = add.remote(i, 1);
  const vals = await tsray.get(refs);
  const dt = performance.now() - t0;
  for (let i = 0; i < n; i += 997) if (vals[i] !== i + 1) throw new Error(`tsray add(${i}, 1) gave ${vals[i]}`);
  return (n / dt) * 1000;
}

async function piscinaRound(pool, n) {
  const t0 = performance.now();
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = pool.run({ a: i, b: 1 });
  const vals = await Promise.all(ps);
  const dt = performance.now() - t0;
  for (let i = 0; i < n; i += 997) if (vals[i] !== i + 1) throw new Error(`piscina add(${i}, 1) gave ${vals[i]}`);
  return (n / dt) * 1000;
}

progress('building the matrix core module for the piscina WASM worker...');
const matrixCore = (await tsray.build({ entry: join(ROOT, 'guest/examples/matrix.ts'), wit: join(ROOT, 'wit'), world: 'matrix' })).core;
const poolJs = new Piscina({ filename: new URL('./piscina-add.mjs', import.meta.url).href, minThreads: CPUS, maxThreads: CPUS });
const poolWasm = new Piscina({ filename: new URL('./piscina-add-wasm.mjs', import.meta.url).href, minThreads: CPUS, maxThreads: CPUS, workerData: matrixCore });

progress(`throughput: warm-up (${THR_WARM} rounds x ${THR_N} tasks each)...`);
for (let r = 0; r < THR_WARM; r++) {
  await tsrayRound(THR_N); await piscinaRound(poolJs, THR_N); await piscinaRound(poolWasm, THR_N);
}
const thr = { tsray: [], js: [], wasm: [] };
for (let r = 0; r < THR_ROUNDS; r++) { // interleaved so drift hits all three alike
  thr.tsray.push(await tsrayRound(THR_N));
  thr.js.push(await piscinaRound(poolJs, THR_N));
  thr.wasm.push(await piscinaRound(poolWasm, THR_N));
  progress(`throughput round ${r + 1}/${THR_ROUNDS}: tsray ${fmtInt(thr.tsray[r])}/s, piscina JS ${fmtInt(thr.js[r])}/s, piscina WASM ${fmtInt(thr.wasm[r])}/s`);
}
await poolJs.destroy();
await poolWasm.destroy();
const paired = (a, b) => median(a.map((x, i) => x / b[i]));
const T = {
  tsray: median(thr.tsray), js: median(thr.js), wasm: median(thr.wasm),
  ratioJs: paired(thr.tsray, thr.js), ratioWasm: paired(thr.tsray, thr.wasm),
};

// ---------------------------------------------------------------------------
// 2. Sequential round trip: await get(add.remote(i, 1)). Each round also
// notes (Linux only, from /proc) whether the main thread and the busiest
// worker thread were last seen on the same core: the round trip is bimodal
// depending on that placement.
const RT_WARM = 30_000, RT_N = 10_000, RT_ROUNDS = 9;



async function roundTrips(fn, label) {
  progress(`${label}: warm-up (${RT_WARM} iterations)...`);
  for (let i = 0; i < RT_WARM; i++) await tsray.get(fn.remote(i, 1));
  const rounds = [], shared = [];
  const each = new Float64Array(RT_N * RT_ROUNDS);
  for (let r = 0; r < RT_ROUNDS; r++) {
    const before = threadTimes();
    const t0 = performance.now();
    for (let i = 0; i < RT_N; i++) {
      const a = performance.now();
      const v = await tsray.get(fn.remote(i, 1));
      each[r * RT_N + i] = performance.now() - a;
      if (v !== i + 1) throw new Error(`add(${i}, 1) gave ${v}`);
    }
    rounds.push(((performance.now() - t0) / RT_N) * 1000);
    shared.push(sameCore(before));
    progress(`${label} round ${r + 1}/${RT_ROUNDS}: ${rounds[r].toFixed(1)} us${shared[r] === undefined ? '' : shared[r] ? ' (main thread and worker on one core)' : ' (main thread and worker on two cores)'}`);
  }
  const sorted = [...each].sort((a, b) => a - b);
  return {
    us: median(rounds), min: Math.min(...rounds), max: Math.max(...rounds), over: rounds.filter((x) => x > 50).length,
    p50: quantile(sorted, 0.5) * 1000, p99: quantile(sorted, 0.99) * 1000,
    shared: shared.every((x) => x === undefined) ? undefined : shared.filter(Boolean).length,
  };
}
const RT = await roundTrips(add, 'round trip');

// ---------------------------------------------------------------------------
// 4. One task with many ObjectRef arguments (each WIT parameter is one argument).
const WIDE_TRIES = [[10000, 'release'], [10000, 'debug'], [2000, 'release'], [1001, 'release'], [1000, 'release'], [500, 'release']];
const wideDir = mkdtempSync(join(tmpdir(), 'tsray-bench-wide-'));

function buildWide(n, mode) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--build-wide', String(n), wideDir, mode],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000, killSignal: 'SIGKILL' });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith('@@wide '));
      if (line) return resolve(JSON.parse(line.slice(7)));
      const crash = /crashed during (\w+)/.exec(err);
      const why = /^[▌\s]*((?:Range|Type|Runtime)?Error: .*)$/m.exec(err);
      if (signal) return resolve({ ok: false, error: `build did not finish within 90 s (killed with ${signal})` });
      resolve({ ok: false, error: crash ? `AssemblyScript compiler crashed during ${crash[1]}${why ? `: ${why[1].trim()}` : ''}` : `build process exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' ')}` });
    });
  });
}

const wideTries = [];
let wideOk;
for (const [n, mode] of WIDE_TRIES) {
  progress(`wide signature: building a component with ${n} f64 parameters (${mode} build)...`);
  const res = await buildWide(n, mode);
  const error = res.ok ? undefined : res.error.replace(/\s+/g, ' ').trim();
  wideTries.push({ n, mode, ok: res.ok, ms: res.ms, error });
  progress(res.ok ? `  built in ${(res.ms / 1000).toFixed(1)} s` : `  failed: ${error}`);
  if (res.ok && mode === 'release') { wideOk = { n, path: res.path }; break; }
}

let W;
if (wideOk) {
  const n = wideOk.n;
  const wmod = await tsray.load(wideOk.path);
  const sumAll = wmod.fn('sum-all');
  const expected = (n * (n - 1)) / 2;
  const once = async (useRefs) => {
    const p0 = performance.now();
    const args = new Array(n);
    for (let i = 0; i < n; i++) args[i] = useRefs ? tsray.put(i) : i;
    const t0 = performance.now();
    const v = await tsray.get(sumAll.remote(...args));
    const t1 = performance.now();
    if (v !== expected) throw new Error(`sum-all gave ${v}, expected ${expected}`);
    return { put: t0 - p0, run: t1 - t0 };
  };
  progress(`wide signature: calling sum-all with ${n} put() refs...`);
  const cold = await once(true);
  const warm = [], plain = [];
  for (let r = 0; r < 9; r++) { warm.push(await once(true)); plain.push(await once(false)); }
  W = {
    n, cold: cold.run, put: median(warm.map((x) => x.put)), run: median(warm.map((x) => x.run)),
    plain: median(plain.map((x) => x.run)),
  };
  progress(`  first call ${W.cold.toFixed(1)} ms, then ${W.run.toFixed(2)} ms submit-to-result (puts ${W.put.toFixed(2)} ms)`);
}
rmSync(wideDir, { recursive: true, force: true });

// The alternative: 10,000 put() refs, each the single ref argument of its own task, one get.
const FAN_N = 10_000, FAN_ROUNDS = 7;
progress(`fan-in alternative: ${FAN_N} put() refs -> ${FAN_N} add(ref, 1) tasks -> one get...`);
const fan = [];
for (let r = 0; r < FAN_ROUNDS + 1; r++) {
  const p0 = performance.now();
  const refs = new Array(FAN_N);
  for (let i = 0; i < FAN_N; i++) refs[i] = tsray.put(i);
  const t0 = performance.now();
  const out = new Array(FAN_N);
  for (let i = 0; i < FAN_N; i++) out[i] = add.remote(refs[i], 1);
  const vals = await tsray.get(out);
  const t1 = performance.now();
  let s = 0;
  for (const v of vals) s += v;
  if (s !== (FAN_N * (FAN_N + 1)) / 2) throw new Error(`fan-in sum is ${s}`);
  if (r > 0) fan.push({ put: t0 - p0, run: t1 - t0 }); // round 0 is warm-up
}
const F = { put: median(fan.map((x) => x.put)), run: median(fan.map((x) => x.run)), total: median(fan.map((x) => x.put + x.run)) };
progress(`  puts ${F.put.toFixed(1)} ms, submit-to-result ${F.run.toFixed(1)} ms`);

// ---------------------------------------------------------------------------
// 2b. The same round trip on a node whose idle workers sleep at once instead of spinning.
await tsray.shutdown();
await tsray.init({ numCpus: CPUS, workerSpinUs: 0 });
const addNoSpin = (await tsray.load(join(ROOT, 'build', 'matrix.wasm'))).fn('add');
const RT0 = await roundTrips(addNoSpin, 'round trip, workerSpinUs 0');

// ---------------------------------------------------------------------------
// 1b. What recording task state events costs tiny tasks: the same async
// throughput on a node that records them (the default) and on one that
// records none (stateEventsKept: 0), in alternating pairs of fresh nodes.
const EV_PAIRS = 5;
async function throughputOn(opts) {
  await tsray.shutdown();
  await tsray.init({ numCpus: CPUS, ...opts });
  const fn = (await tsray.load(join(ROOT, 'build', 'matrix.wasm'))).fn('add');
  const round = async () => {
    const t0 = performance.now();
    const refs = new Array(THR_N);
    for (let i = 0; i < THR_N; i++) refs[i] = fn.remote(i, 1);
    await tsray.get(refs);
    return (THR_N / (performance.now() - t0)) * 1000;
  };
  await round();
  return median([await round(), await round(), await round()]);
}
const ev = { on: [], off: [] };
for (let r = 0; r < EV_PAIRS; r++) {
  ev.off.push(await throughputOn({ stateEventsKept: 0 }));
  ev.on.push(await throughputOn({}));
  progress(`state events pair ${r + 1}/${EV_PAIRS}: recorded ${fmtInt(ev.on[r])}/s, none ${fmtInt(ev.off[r])}/s`);
}
const EV = { on: median(ev.on), off: median(ev.off), cost: 1 - median(ev.on.map((x, i) => x / ev.off[i])) };

// ---------------------------------------------------------------------------
// 3. 1,000,000 tasks queued then drained, on a fresh node (the object table of
// the runs above is dropped with the old node).
await tsray.shutdown();
await tsray.init({ numCpus: CPUS });
const add2 = (await tsray.load(join(ROOT, 'build', 'matrix.wasm'))).fn('add');
await tsray.get(add2.remote(1, 2));
await new Promise((r) => setTimeout(r, 200));
const M_N = 1_000_000, M_STEP = 100_000;
let peakRss = process.memoryUsage().rss;
const rssStart = peakRss;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
progress(`1M tasks: submitting ${M_N.toLocaleString('en-US')} add tasks (RSS at start ${mib(rssStart)})...`);
const m0 = performance.now();
const mrefs = new Array(M_N);
for (let i = 0; i < M_N; i++) {
  mrefs[i] = add2.remote(i, 1);
  if ((i + 1) % M_STEP === 0) {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    progress(`  submitted ${(i + 1).toLocaleString('en-US')} (RSS ${mib(rss)})`);
    await tick(); // lets the progress line out and the workers start
  }
}
const m1 = performance.now();
let checksum = 0;
for (let c = 0; c < M_N; c += M_STEP) {
  const vals = await tsray.get(mrefs.slice(c, c + M_STEP));
  for (const v of vals) checksum += v;
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  progress(`  completed ${(c + M_STEP).toLocaleString('en-US')} (RSS ${mib(rss)})`);
}
const m2 = performance.now();
clearInterval(sampler);
if (checksum !== (M_N * (M_N + 1)) / 2) throw new Error(`1M checksum is ${checksum}`);
const M = {
  submit: (m1 - m0) / 1000, total: (m2 - m0) / 1000, tps: M_N / ((m2 - m0) / 1000),
  rssStart, peakRss, maxRss: process.resourceUsage().maxRSS * 1024,
};

await tsray.shutdown();

// ---------------------------------------------------------------------------
const met = (ok) => (ok ? 'met' : 'MISSED');
const rows = [
  ['measurement', 'tsray', 'goal', 'goal met', 'reference (same run / anchor)'],
  [`1. async throughput: ${fmtInt(THR_N)} x add.remote(i, 1), one get`, `${fmtInt(T.tsray)} tasks/s`,
    '>= 30,000 tasks/s and >= 1.5x piscina', met(T.tsray >= 30_000 && T.ratioJs >= 1.5),
    `piscina (2 threads, JS a + b): ${fmtInt(T.js)} tasks/s -> tsray/piscina ${T.ratioJs.toFixed(2)}x`],
  ['', '', '', '', `piscina (2 threads, WASM core add): ${fmtInt(T.wasm)} tasks/s -> ${T.ratioWasm.toFixed(2)}x`],
  ['', '', '', '', `Ray 2.22, 64 vCPUs: ${fmtInt(ANCHOR_ASYNC)} tasks/s -> ${(T.tsray / ANCHOR_ASYNC).toFixed(1)}x`],
  ['1b. same, with task state events recorded (the default)', `${fmtInt(EV.on)} tasks/s`, 'costs < 10% of tasks/s', met(EV.cost < 0.1),
    `stateEventsKept: 0 (none recorded): ${fmtInt(EV.off)} tasks/s -> ${(EV.cost * 100).toFixed(1)}% fewer (median of ${EV_PAIRS} paired fresh nodes)`],
  ['2. sequential round trip: await get(add.remote(i, 1))', `${RT.us.toFixed(1)} us`, '<= 50 us', met(RT.us <= 50),
    `Ray 2.22: ${ANCHOR_SYNC} tasks/s = ${(1e6 / ANCHOR_SYNC).toFixed(0)} us -> ${(1e6 / ANCHOR_SYNC / RT.us).toFixed(0)}x`],
  ['     rounds (min / max), rounds over 50 us', `${RT.min.toFixed(1)} / ${RT.max.toFixed(1)} us`, '', '',
    `${RT.over} of ${RT_ROUNDS} rounds over 50 us${RT.shared === undefined ? '' : `; main thread and worker on one core in ${RT.shared} of ${RT_ROUNDS}`}`],
  ['     each round trip: p50 / p99', `${RT.p50.toFixed(1)} / ${RT.p99.toFixed(1)} us`, '', '', `= ${fmtInt(1e6 / RT.us)} tasks/s sequential`],
  ['2b. same, init({ workerSpinUs: 0 }) (idle workers sleep at once)', `${RT0.us.toFixed(1)} us`, '', '',
    `rounds ${RT0.min.toFixed(1)} / ${RT0.max.toFixed(1)} us, ${RT0.over} of ${RT_ROUNDS} over 50 us${RT0.shared === undefined ? '' : `; one core in ${RT0.shared} of ${RT_ROUNDS}`}; p50 / p99 ${RT0.p50.toFixed(1)} / ${RT0.p99.toFixed(1)} us`],
  ['3. 1,000,000 tasks queued, then drained', `${M.total.toFixed(1)} s (${fmtInt(M.tps)} tasks/s)`, 'completes', met(true),
    `submitting took ${M.submit.toFixed(1)} s`],
  ['     peak RSS (sampled every 50 ms / maxRSS)', `${mib(M.peakRss)} / ${mib(M.maxRss)}`, '', '',
    `RSS at start ${mib(M.rssStart)}: ~${fmtInt((M.peakRss - M.rssStart) / M_N)} B per task`],
];
for (const t of wideTries) {
  rows.push([`4. one task, ${t.n} f64 params (${t.mode} build)`, t.ok ? `built (${(t.ms / 1000).toFixed(1)} s)` : 'FAILED', '', '',
    t.ok ? '' : t.error.replace(/: Failed to decode Wasm .*Caused by: /, ': ... ')]);
}
if (W) {
  rows.push([`4. one task with ${W.n} put() ref args: submit to result`, `${W.run.toFixed(2)} ms`, 'measure', '',
    `first call ${W.cold.toFixed(1)} ms (ships + compiles the module); ${W.n} puts ${W.put.toFixed(2)} ms`]);
  rows.push([`     same call with ${W.n} plain numbers`, `${W.plain.toFixed(2)} ms`, '', '', '']);
}
rows.push([`4 alt. fan-in: ${fmtInt(FAN_N)} put() refs -> ${fmtInt(FAN_N)} x add(ref, 1), one get`, `${F.run.toFixed(1)} ms`, 'measure', '',
  `+ ${F.put.toFixed(1)} ms of puts = ${F.total.toFixed(1)} ms; ${fmtInt(FAN_N / (F.run / 1000))} tasks/s`]);

printTable(rows);
console.log('');
console.log(`tsray/piscina (same trivial function, 2 threads each): ${T.ratioJs.toFixed(2)}x (JS a + b), ${T.ratioWasm.toFixed(2)}x (WASM core add); medians of per-round ratios`);
console.log(`throughput: medians of ${THR_ROUNDS} interleaved rounds x ${fmtInt(THR_N)} tasks after ${THR_WARM} warm-up rounds; round trip: median of ${RT_ROUNDS} rounds x ${fmtInt(RT_N)} after ${fmtInt(RT_WARM)} warm-up`);
console.log(`anchors: Ray 2.22 on 64 vCPUs, ${fmtInt(ANCHOR_ASYNC)} tasks/s async, ${ANCHOR_SYNC} tasks/s sync (~${(1e6 / ANCHOR_SYNC).toFixed(0)} us per round trip)`);
const LOAD_AFTER = loadavg();
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node.js ${process.version}, load average ${LOAD_BEFORE[0].toFixed(2)} at start, ${LOAD_AFTER[0].toFixed(2)} at end; run took ${((performance.now() - START) / 1000).toFixed(0)} s`);
