// Component call benchmark: the lean engine (default), jco's generated glue
// (the reference engine) and the raw WebAssembly floor, measured side by side
// in one run so that the ratios do not depend on how noisy the machine is.
//
//   npx tsc -p . && node bench/component.mjs
//
// Progress goes to stderr, the table to stdout.
import { printTable } from './lib/table.mjs';
import { build, load } from 'tsray';

const now = () => process.hrtime.bigint();
const progress = (msg) => process.stderr.write(`${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
let sink = 0; // keeps results alive so nothing is optimised away

/** Runs `fn(n)` (which does n operations) `reps` times; returns the median ns per operation. */
function timeSync(fn, n, reps) {
  const per = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    fn(n);
    per.push(Number(now() - t0) / n);
  }
  return median(per);
}

async function timeAsync(fn, n, reps) {
  const per = [];
  for (let r = 0; r < reps; r++) {
    const t0 = now();
    await fn(n);
    per.push(Number(now() - t0) / n);
  }
  return median(per);
}

// ---------------------------------------------------------------------------
progress('building guest/examples/matrix.ts (world matrix)...');
const built = await build({ entry: 'guest/examples/matrix.ts', wit: 'wit', world: 'matrix' });
const lean = await load(built.component);
const jco = await load(built.component, { engine: 'jco' });
const core = new WebAssembly.Module(built.core);
const stubImports = {};
for (const imp of WebAssembly.Module.imports(core)) {
  if (imp.kind !== 'function') throw new Error(`unexpected ${imp.kind} import ${imp.module}#${imp.name}`);
  (stubImports[imp.module] ??= {})[imp.name] = () => 0;
}
const rawInstance = () => new WebAssembly.Instance(core, stubImports);
progress(`engines: lean=${lean.engineName}, jco=${jco.engineName}; core module ${built.core.length} bytes, component ${built.component.length} bytes`);

// ---------------------------------------------------------------------------
// 1. Fresh instance of a loaded component.
progress('measuring fresh instances...');
const instLean = async (n) => { for (let i = 0; i < n; i++) { const x = await lean.instantiate(); x.dispose(); } };
const instJco = async (n) => { for (let i = 0; i < n; i++) { const x = await jco.instantiate(); x.dispose(); } };
const instRaw = (n) => { for (let i = 0; i < n; i++) sink += rawInstance().exports.memory.buffer.byteLength & 1; };
// warm-up
await instLean(300); await instJco(100); instRaw(300);
const INST_N = 1000, INST_REPS = 9;
const fresh = { lean: [], jco: [], raw: [] };
for (let r = 0; r < INST_REPS; r++) { // interleave engines so drift hits all of them alike
  fresh.lean.push(await timeAsync(instLean, INST_N, 1));
  fresh.jco.push(await timeAsync(instJco, Math.max(50, INST_N / 10), 1));
  fresh.raw.push(timeSync(instRaw, INST_N, 1));
}
const freshNs = { lean: median(fresh.lean), jco: median(fresh.jco), raw: median(fresh.raw) };

// ---------------------------------------------------------------------------
// 2. Trivial export call: add(s32, s32) -> s32.
progress('measuring trivial calls (add)...');
const li = await lean.instantiate();
const ji = await jco.instantiate();
const ri = rawInstance();
const rawAdd = ri.exports.add;
const rawPostAdd = ri.exports.cabi_post_add;
const args12 = [1, 2];
const callLean = (n) => { let s = 0; for (let i = 0; i < n; i++) s += li.call('add', args12); sink += s; };
const callJco = (n) => { let s = 0; for (let i = 0; i < n; i++) s += ji.call('add', args12); sink += s; };
const callRaw = typeof rawPostAdd === 'function'
  ? (n) => { let s = 0; for (let i = 0; i < n; i++) { const v = rawAdd(1, 2); rawPostAdd(v); s += v; } sink += s; }
  : (n) => { let s = 0; for (let i = 0; i < n; i++) s += rawAdd(1, 2); sink += s; };
if (li.call('add', [1, 2]) !== 3 || ji.call('add', [1, 2]) !== 3) throw new Error('add(1, 2) is not 3');
callLean(50_000); callJco(50_000); callRaw(50_000); // warm-up
const CALL_N = 200_000, CALL_REPS = 7;
const calls = { lean: [], jco: [], raw: [] };
for (let r = 0; r < CALL_REPS; r++) {
  calls.lean.push(timeSync(callLean, CALL_N, 1));
  calls.jco.push(timeSync(callJco, CALL_N, 1));
  calls.raw.push(timeSync(callRaw, CALL_N, 1));
}
const callNs = { lean: median(calls.lean), jco: median(calls.jco), raw: median(calls.raw) };

// ---------------------------------------------------------------------------
// 3. An 8 MB list<f64> argument: sum(list<f64>) -> f64.
progress('measuring 8 MB list<f64> argument (sum)...');
const N = 1_048_576;
const big = new Float64Array(N);
for (let i = 0; i < N; i++) big[i] = (i % 1000) * 0.5;
let expected = 0;
for (let i = 0; i < N; i++) expected += big[i];
const bigArgs = [big];
const src = new Float64Array(N);
const dst = new Float64Array(N);
for (let i = 0; i < N; i++) { src[i] = i; dst[i] = -i; } // pre-touch both

// Raw core floor: copy into linear memory with cabi_realloc, then call sum.
const rbig = rawInstance();
const rawSum = (n) => {
  const ex = rbig.exports;
  for (let i = 0; i < n; i++) {
    const ptr = ex.cabi_realloc(0, 0, 8, N * 8) >>> 0;
    new Float64Array(ex.memory.buffer, ptr, N).set(big);
    const v = ex.sum(ptr, N);
    if (typeof ex.cabi_post_sum === 'function') ex.cabi_post_sum(v);
    sink += v;
  }
};
// Guest computation alone: the list already sits in linear memory and only sum runs. Post-return
// is skipped on purpose: it would release the argument buffer that every repetition reuses.
const rsum = rawInstance();
const sumPtr = rsum.exports.cabi_realloc(0, 0, 8, N * 8) >>> 0;
new Float64Array(rsum.exports.memory.buffer, sumPtr, N).set(big);
const guestSum = (n) => {
  const ex = rsum.exports;
  for (let i = 0; i < n; i++) sink += ex.sum(sumPtr, N);
};
const memcpy = (n) => { for (let i = 0; i < n; i++) dst.set(src); sink += dst[n & 1023]; };
const sumLean = (n) => { for (let i = 0; i < n; i++) sink += li.call('sum', bigArgs); };
const sumJco = (n) => { for (let i = 0; i < n; i++) sink += ji.call('sum', bigArgs); };
const sumLeanFresh = async (n) => { for (let i = 0; i < n; i++) sink += await lean.call('sum', bigArgs); };
const sumJcoFresh = async (n) => { for (let i = 0; i < n; i++) sink += await jco.call('sum', bigArgs); };
for (const [name, v] of [['lean', li.call('sum', bigArgs)], ['jco', ji.call('sum', bigArgs)]]) {
  if (v !== expected) throw new Error(`${name} sum is ${v}, expected ${expected}`);
}
// warm-up (the reused instances grow their memory here)
memcpy(10); rawSum(5); guestSum(5); sumLean(5); sumJco(5); await sumLeanFresh(2); await sumJcoFresh(2);
const BIG_REPS = 21;
const bigMs = { lean: [], jco: [], raw: [], guest: [], memcpy: [], leanFresh: [], jcoFresh: [] };
for (let r = 0; r < BIG_REPS; r++) {
  bigMs.memcpy.push(timeSync(memcpy, 4, 1) / 1e6);
  bigMs.guest.push(timeSync(guestSum, 2, 1) / 1e6);
  bigMs.lean.push(timeSync(sumLean, 2, 1) / 1e6);
  bigMs.jco.push(timeSync(sumJco, 2, 1) / 1e6);
  bigMs.raw.push(timeSync(rawSum, 2, 1) / 1e6);
  if (r < 7) {
    bigMs.leanFresh.push(await timeAsync(sumLeanFresh, 1, 1) / 1e6);
    bigMs.jcoFresh.push(await timeAsync(sumJcoFresh, 1, 1) / 1e6);
  }
}
const big8 = Object.fromEntries(Object.entries(bigMs).map(([k, v]) => [k, median(v)]));
// Ratios and differences are taken per repetition (measurements of one repetition run back to back), then the median.
const paired = (a, b, f) => median(a.map((x, i) => f(x, b[i])));
const pr = {
  fresh: paired(fresh.lean, fresh.raw, (x, y) => x / y),
  call: paired(calls.lean, calls.raw, (x, y) => x / y),
  big: paired(bigMs.lean, bigMs.memcpy, (x, y) => x / y),
  bigRaw: paired(bigMs.lean, bigMs.raw, (x, y) => x / y),
  lowerLean: paired(bigMs.lean, bigMs.guest, (x, y) => x - y),
  lowerJco: paired(bigMs.jco, bigMs.guest, (x, y) => x - y),
  fresh8: paired(bigMs.leanFresh, bigMs.memcpy, (x, y) => x / y),
};
pr.lowerRatio = paired(bigMs.lean.map((x, i) => x - bigMs.guest[i]), bigMs.memcpy, (x, y) => x / y);

// ---------------------------------------------------------------------------
const us = (ns) => `${(ns / 1000).toFixed(1)} us`;
const ns = (x) => `${x.toFixed(0)} ns`;
const ms = (x) => `${x.toFixed(2)} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const fx = (r) => `${r.toFixed(2)}x`;
const met = (ok) => (ok ? 'met' : 'MISSED');

const rows = [
  ['measurement', 'tsray (lean)', 'jco', 'floor', 'goal', 'lean/floor', 'goal met'],
  ['fresh instance (await instantiate())', us(freshNs.lean), us(freshNs.jco), `${us(freshNs.raw)} (new WebAssembly.Instance)`,
    '<= 100 us', fx(pr.fresh), met(freshNs.lean <= 100_000)],
  ['trivial call add(1, 2)', ns(callNs.lean), ns(callNs.jco), `${ns(callNs.raw)} (core add + cabi_post_add)`,
    '<= 1 us', fx(pr.call), met(callNs.lean <= 1000)],
  ['sum(list<f64>), 8 MB, reused instance (whole call)', ms(big8.lean), ms(big8.jco), `${ms(big8.memcpy)} (8 MB memcpy)`,
    '', fx(pr.big), ''],
  ['  of which: guest sum alone (list already in memory)', '', '', `${ms(big8.guest)} (raw core sum)`,
    '', '', ''],
  ['  of which: passing the 8 MB argument (call minus guest sum)', ms(pr.lowerLean), ms(pr.lowerJco), `${ms(big8.memcpy)} (8 MB memcpy)`,
    '<= 2x memcpy', fx(pr.lowerRatio), met(pr.lowerRatio <= 2)],
  ['  raw core, same call (realloc + copy + sum + post)', '', '', ms(big8.raw),
    '', fx(pr.bigRaw) + ' (lean/raw)', ''],
  ['sum(list<f64>), 8 MB, fresh instance', ms(big8.leanFresh), ms(big8.jcoFresh), `${ms(big8.memcpy)} (8 MB memcpy)`,
    '', fx(pr.fresh8), ''],
];
printTable(rows);
console.log('');
console.log(`jco/lean: fresh instance ${ratio(freshNs.jco, freshNs.lean)}, trivial call ${ratio(callNs.jco, callNs.lean)}, 8 MB sum ${ratio(big8.jco, big8.lean)}`);
console.log('lean/floor and the ABI-lowering row are medians of per-repetition ratios/differences (each repetition measures its variants back to back)');
console.log(`medians of ${INST_REPS} x ${INST_N} instantiations, ${CALL_REPS} x ${CALL_N} calls, ${BIG_REPS} x 2 8 MB calls (7 x 1 fresh-instance calls)`);
console.log(`default engine: '${(await load(built.component)).engineName}' (load(bytes)); jco's generated glue is kept as the reference engine (load(bytes, { engine: 'jco' }))`);
li.dispose(); ji.dispose();
if (sink === 0.5) console.log(''); // never true; uses sink
