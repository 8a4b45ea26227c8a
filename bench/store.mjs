// Object store benchmark on the embedded node: put of a 256 MiB Float64Array
// against a plain memcpy of the same bytes, get (a private copy) and getView
// (zero-copy, checked by a CRC-32) of a 1 MiB and a 256 MiB object, small
// put/get calls per second (against Ray's published figures), and
// spill/restore throughput of 1 GiB through a 256 MiB store (against dd with
// direct I/O to the same directory, in the same run).
//
//   npx tsc -p . && node bench/store.mjs [--quick]
//
// --quick: every size divided by 16 and fewer repetitions, to check that it runs (figures not comparable).
// Progress goes to stderr, the table to stdout.
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median, tick } from './lib/stats.mjs';
import * as tsray from 'tsray';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const START = performance.now();
const LOAD_BEFORE = loadavg();
const progress = makeProgress(START);
const MiB = 2 ** 20;
const gbs = (bytes, ms) => bytes / 1e6 / ms; // GB/s (10^9 B/s) from bytes and milliseconds
const f2 = (x) => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(2));
const met = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED');
const storeStats = () => tsray.memory().nodes[0].store;
const QUICK = process.argv.includes('--quick');
const SCALE = QUICK ? 16 : 1;

console.log(`machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores, Node.js ${process.version}`);
console.log(`command: npx tsc -p . && node bench/store.mjs${QUICK ? ' --quick' : ''}`);
console.log('');

const spillDir = mkdtempSync(join(tmpdir(), 'tsray-bench-store-'));
const CPUS = 1; // the store runs on the driver thread; one worker keeps the second core quiet

// ---------------------------------------------------------------------------
// 1. put of 256 MiB vs memcpy. Each repetition is put -> release (the next put
// reuses the freed block, whose pages are committed already) and a memcpy,
// back to back, in alternating order.
const BIG = 256 * MiB / SCALE, BIG_LEN = BIG / 8;
const PUT_REPS = QUICK ? 3 : 9;

progress(`put vs memcpy: allocating and touching 2 x ${BIG / MiB} MiB...`);
let big = new Float64Array(BIG_LEN);
for (let i = 0; i < big.length; i++) big[i] = i * 0.5;
let bigBytes = new Uint8Array(big.buffer);
let dst = new Uint8Array(BIG);
dst.fill(1);

await tsray.init({ numCpus: CPUS, objectStoreMemory: 700 * MiB / SCALE, spillDir });
progress(`tsray node up: objectStoreMemory ${700 / SCALE} MiB, spillDir ${spillDir}`);

const timePut = (value) => {
  const t0 = performance.now();
  const ref = tsray.put(value);
  return { ref, ms: performance.now() - t0 };
};
const timeCopy = () => {
  const t0 = performance.now();
  dst.set(bigBytes);
  return performance.now() - t0;
};

const committed0 = storeStats().committedBytes;
const first = timePut(big);
const committed1 = storeStats().committedBytes;
first.ref.release();
progress(`first put: ${f2(gbs(BIG, first.ms))} GB/s (${first.ms.toFixed(0)} ms; committed ${committed0 / MiB} -> ${committed1 / MiB} MiB)`);
timeCopy(); // warm-up
const putGbs = [], copyGbs = [];
for (let r = 0; r < PUT_REPS; r++) {
  let p, c;
  if (r % 2 === 0) { p = timePut(big); p.ref.release(); c = timeCopy(); } else { c = timeCopy(); p = timePut(big); p.ref.release(); }
  putGbs.push(gbs(BIG, p.ms));
  copyGbs.push(gbs(BIG, c));
  progress(`rep ${r + 1}/${PUT_REPS}: put ${f2(putGbs[r])} GB/s, memcpy ${f2(copyGbs[r])} GB/s`);
}
const committed2 = storeStats().committedBytes;
const P = {
  first: gbs(BIG, first.ms), put: median(putGbs), copy: median(copyGbs),
  ratio: median(putGbs.map((x, i) => x / copyGbs[i])),
};

// ---------------------------------------------------------------------------
// 2. Reading a stored typed array back: getView (views of the shared arena,
// released at once; costs one CRC-32 pass over the block) and get (the
// caller's own copy: one block copy into fresh private memory). Rounds of
// both sizes interleaved; the large object gets fewer calls per round.
const GET_ROUNDS = QUICK ? 2 : 7;
const N_SMALL = QUICK ? 100 : 500, N_BIG = QUICK ? 2 : 5;
const small1 = new Float64Array(MiB / 8);
for (let i = 0; i < small1.length; i++) small1[i] = i;
const refBig = tsray.put(big);
const ref1 = tsray.put(small1);

function checkRead(v, len, shared) {
  if (!(v instanceof Float64Array) || v.length !== len || (v.buffer instanceof SharedArrayBuffer) !== shared) throw new Error(`expected a ${shared ? 'shared' : 'private'} Float64Array`);
  if (v[len - 1] !== (len === small1.length ? len - 1 : (len - 1) * 0.5)) throw new Error('read wrong contents');
}
/** Microseconds per read of `ref` (`len` elements), `n` sequential awaited reads. */
async function readRound(how, ref, n, len) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    if (how === 'view') {
      const v = await tsray.getView(ref);
      checkRead(v.value, len, true);
      v.release();
    } else {
      checkRead(await tsray.get(ref), len, false);
    }
  }
  return ((performance.now() - t0) / n) * 1000;
}
progress(`getView and get: warm-up, then ${GET_ROUNDS} rounds of ${N_SMALL} reads of 1 MiB and ${N_BIG} of ${BIG / MiB} MiB, each way...`);
for (const how of ['view', 'copy']) { await readRound(how, ref1, N_SMALL, small1.length); await readRound(how, refBig, N_BIG, BIG_LEN); }
const R = { view1: [], viewBig: [], copy1: [], copyBig: [] };
for (let r = 0; r < GET_ROUNDS; r++) {
  R.view1.push(await readRound('view', ref1, N_SMALL, small1.length));
  R.copy1.push(await readRound('copy', ref1, N_SMALL, small1.length));
  R.viewBig.push(await readRound('view', refBig, N_BIG, BIG_LEN));
  R.copyBig.push(await readRound('copy', refBig, N_BIG, BIG_LEN));
  progress(`round ${r + 1}/${GET_ROUNDS}: getView 1 MiB ${R.view1[r].toFixed(1)} us, ${BIG / MiB} MiB ${(R.viewBig[r] / 1000).toFixed(1)} ms; get 1 MiB ${R.copy1[r].toFixed(1)} us, ${BIG / MiB} MiB ${(R.copyBig[r] / 1000).toFixed(1)} ms`);
}
const G = {
  view1: median(R.view1), viewBig: median(R.viewBig), copy1: median(R.copy1), copyBig: median(R.copyBig),
  ratio1: median(R.copy1.map((x, i) => x / R.view1[i])), ratioBig: median(R.copyBig.map((x, i) => x / R.viewBig[i])),
};
ref1.release();
refBig.release();
big = bigBytes = dst = undefined; // memory the rest does not need

// ---------------------------------------------------------------------------
// 3. Small put and get calls per second (values stay inline in the object table).
const RAY_PUT = 5196; // Ray docs, single client put calls (Plasma Store) per second
const RAY_GET = 10270; // Ray docs, single client get calls (Plasma Store) per second
const SMALL_N = QUICK ? 10_000 : 100_000, SMALL_ROUNDS = QUICK ? 2 : 5;

async function smallRound(make) {
  const refs = new Array(SMALL_N);
  const t0 = performance.now();
  for (let i = 0; i < SMALL_N; i++) refs[i] = tsray.put(make(i));
  const t1 = performance.now();
  let sum = 0;
  for (let i = 0; i < SMALL_N; i++) {
    const v = await tsray.get(refs[i]);
    sum += typeof v === 'number' ? v : v.i;
  }
  const t2 = performance.now();
  for (const r of refs) r.release();
  if (sum !== (SMALL_N * (SMALL_N - 1)) / 2) throw new Error(`small get sum is ${sum}`);
  return { put: (SMALL_N / (t1 - t0)) * 1000, get: (SMALL_N / (t2 - t1)) * 1000 };
}
const objOf = (i) => ({ i, s: 'x' });
const numOf = (i) => i;
progress(`small puts/gets: warm-up, then ${SMALL_ROUNDS} rounds x ${fmtInt(SMALL_N)} of { i, s: 'x' } and of a number...`);
await smallRound(objOf);
await smallRound(numOf);
const sObj = [], sNum = [];
for (let r = 0; r < SMALL_ROUNDS; r++) {
  sObj.push(await smallRound(objOf));
  sNum.push(await smallRound(numOf));
  progress(`round ${r + 1}/${SMALL_ROUNDS}: object put ${fmtInt(sObj[r].put)}/s get ${fmtInt(sObj[r].get)}/s; number put ${fmtInt(sNum[r].put)}/s get ${fmtInt(sNum[r].get)}/s`);
}
const S = {
  objPut: median(sObj.map((x) => x.put)), objGet: median(sObj.map((x) => x.get)),
  numPut: median(sNum.map((x) => x.put)), numGet: median(sNum.map((x) => x.get)),
};
await tsray.shutdown();

// ---------------------------------------------------------------------------
// 4. Spill and restore: 64 x 16 MiB through a 256 MiB store, against dd with
// direct I/O to the same directory (before and after; the mean is compared).
const OBJ = 16 * MiB / SCALE, OBJ_N = 64, SPILL_STORE = 256 * MiB / SCALE;
const ddFile = join(spillDir, 'dd.bin');

function dd(args) {
  const res = spawnSync('dd', args, { encoding: 'utf8', timeout: 60_000 });
  if (res.error || res.status !== 0) return undefined;
  const m = /(\d+) bytes .*copied, ([\d.]+) s/.exec(res.stderr ?? '');
  return m && Number(m[2]) > 0 ? gbs(Number(m[1]), Number(m[2]) * 1000) : undefined;
}
function ddPair() {
  const w = dd(['if=/dev/zero', `of=${ddFile}`, `bs=${OBJ / MiB}M`, `count=${OBJ_N}`, 'oflag=direct', 'conv=fsync']);
  const r = w === undefined ? undefined : dd([`if=${ddFile}`, 'of=/dev/null', `bs=${OBJ / MiB}M`, 'iflag=direct']);
  rmSync(ddFile, { force: true });
  progress(`dd (O_DIRECT): write ${f2(w)} GB/s, read ${f2(r)} GB/s`);
  return { w, r };
}
const meanOf = (a, b) => (a === undefined || b === undefined ? a ?? b : (a + b) / 2);

progress(`spill: dd with direct I/O to ${spillDir}...`);
const dd1 = ddPair();

await tsray.init({ numCpus: CPUS, objectStoreMemory: SPILL_STORE, spillDir });
const chunk = new Float64Array(OBJ / 8);
for (let i = 0; i < chunk.length; i++) chunk[i] = i;
progress(`spill: putting ${OBJ_N} x ${OBJ / MiB} MiB into a ${SPILL_STORE / MiB} MiB store...`);
const refs = [];
const p0 = performance.now();
for (let k = 0; k < OBJ_N; k++) {
  chunk[0] = k;
  refs.push(tsray.put(chunk));
}
const putMs = performance.now() - p0;
await tick(); // lets a background spill past the threshold run
const afterPut = storeStats();
progress(`  ${(putMs / 1000).toFixed(2)} s; ${afterPut.spill.spilledObjects} objects spilled (${(afterPut.spill.spilledBytes / MiB).toFixed(0)} MiB) in ${afterPut.spill.spillMs.toFixed(0)} ms, ${afterPut.spill.filesOnDisk} files`);

progress(`restore: getView of all ${OBJ_N}, each released at once...`);
let getMs = 0;
for (let k = 0; k < OBJ_N; k++) {
  const t0 = performance.now();
  const v = await tsray.getView(refs[k]);
  getMs += performance.now() - t0;
  if (v.value[0] !== k || v.value[v.value.length - 1] !== v.value.length - 1) throw new Error(`object ${k} came back wrong`);
  v.release();
}
const afterGet = storeStats();
for (const r of refs) r.release();
await tick();
const afterRelease = storeStats();
progress(`  ${(getMs / 1000).toFixed(2)} s; ${afterGet.spill.restoredObjects} restored in ${afterGet.spill.restoreMs.toFixed(0)} ms; after release: ${afterRelease.spill.filesOnDisk} files, ${afterRelease.spill.bytesOnDisk} B on disk`);
await tsray.shutdown();

const dd2 = ddPair();
const D = { w: meanOf(dd1.w, dd2.w), r: meanOf(dd1.r, dd2.r) };
const sp = afterGet.spill;
const SP = {
  spill: gbs(sp.spilledBytes, sp.spillMs), restore: gbs(sp.restoredBytes, sp.restoreMs),
  putWall: gbs(OBJ_N * OBJ, putMs), getWall: gbs(OBJ_N * OBJ, getMs),
};
const left = readdirSync(spillDir);
rmSync(spillDir, { recursive: true, force: true });

// ---------------------------------------------------------------------------
const ratio = (a, b) => (a === undefined || b === undefined ? undefined : a / b);
const spillRatio = ratio(SP.spill, D.w), restoreRatio = ratio(SP.restore, D.r);
const rows = [
  ['measurement', 'tsray', 'comparison (same run / anchor)', 'ratio', 'goal', 'goal met'],
  [`1. put of a ${BIG / MiB} MiB Float64Array (steady state: put, release, put)`, `${f2(P.put)} GB/s`,
    `memcpy (dst.set) of the same bytes: ${f2(P.copy)} GB/s`, `${f2(P.ratio)}x`, '>= 0.8x memcpy', met(P.ratio >= 0.8)],
  ['     first put (fresh arena pages)', `${f2(P.first)} GB/s`, `${first.ms.toFixed(0)} ms; committed ${committed0 / MiB} -> ${committed1 / MiB} MiB (${committed2 / MiB} MiB after all reps)`, '', '', ''],
  ['2. getView + release of a 1 MiB Float64Array (zero-copy, CRC-32 checked)', `${G.view1.toFixed(1)} us`, `${f2(gbs(MiB, G.view1 / 1000))} GB/s checked`, '', 'print only', ''],
  ['     get of it (a private copy)', `${G.copy1.toFixed(1)} us`, `${f2(gbs(MiB, G.copy1 / 1000))} GB/s copied`, `${f2(G.ratio1)}x getView`, 'print only', ''],
  [`     getView + release of a ${BIG / MiB} MiB Float64Array`, `${(G.viewBig / 1000).toFixed(1)} ms`, `${f2(gbs(BIG, G.viewBig / 1000))} GB/s checked`, '', 'print only', ''],
  ['     get of it (a private copy)', `${(G.copyBig / 1000).toFixed(1)} ms`, `${f2(gbs(BIG, G.copyBig / 1000))} GB/s copied; memcpy ${f2(P.copy)} GB/s`, `${f2(G.ratioBig)}x getView`, 'print only', ''],
  [`3. put of { i, s: 'x' }, ${fmtInt(SMALL_N)} calls`, `${fmtInt(S.objPut)} /s`, `Ray docs: ${fmtInt(RAY_PUT)} /s (other machine)`, `${(S.objPut / RAY_PUT).toFixed(1)}x`, 'measure', ''],
  ['     get of it', `${fmtInt(S.objGet)} /s`, `Ray docs: ${fmtInt(RAY_GET)} /s (other machine)`, `${(S.objGet / RAY_GET).toFixed(1)}x`, 'measure', ''],
  ['     put of a number', `${fmtInt(S.numPut)} /s`, `Ray docs: ${fmtInt(RAY_PUT)} /s (other machine)`, `${(S.numPut / RAY_PUT).toFixed(1)}x`, 'measure', ''],
  ['     get of it', `${fmtInt(S.numGet)} /s`, `Ray docs: ${fmtInt(RAY_GET)} /s (other machine)`, `${(S.numGet / RAY_GET).toFixed(1)}x`, 'measure', ''],
  [`4. spill: ${OBJ_N} x ${OBJ / MiB} MiB through a ${SPILL_STORE / MiB} MiB store (spilledBytes / spillMs)`, `${f2(SP.spill)} GB/s`,
    `dd write, O_DIRECT + fsync: ${f2(D.w)} GB/s`, spillRatio === undefined ? 'n/a' : `${f2(spillRatio)}x`, '>= 0.7x dd', met(spillRatio === undefined ? undefined : spillRatio >= 0.7)],
  ['     restore: getView of all of them (restoredBytes / restoreMs)', `${f2(SP.restore)} GB/s`,
    `dd read, O_DIRECT: ${f2(D.r)} GB/s`, restoreRatio === undefined ? 'n/a' : `${f2(restoreRatio)}x`, '>= 0.7x dd', met(restoreRatio === undefined ? undefined : restoreRatio >= 0.7)],
  [`     wall: the ${OBJ_N} puts / the ${OBJ_N} getViews`, `${f2(SP.putWall)} / ${f2(SP.getWall)} GB/s`,
    `${(putMs / 1000).toFixed(2)} s / ${(getMs / 1000).toFixed(2)} s; ${(sp.spilledBytes / MiB).toFixed(0)} MiB spilled in ${sp.spilledObjects} objects, ${sp.restoredObjects} restored`, '', '', ''],
  ['     after release', `${afterRelease.spill.filesOnDisk} files, ${afterRelease.spill.bytesOnDisk} B on disk`,
    left.length === 0 ? 'spill directory empty after shutdown' : `left in the spill directory: ${left.join(', ')}`, '', 'nothing left', met(afterRelease.spill.filesOnDisk === 0 && left.length === 0)],
];
printTable(rows);
console.log('');
console.log(`1: medians of ${PUT_REPS} repetitions (put then memcpy, order alternating); the ratio is the median of per-repetition ratios. GB/s = 10^9 bytes/s.`);
console.log(`2: medians of ${GET_ROUNDS} interleaved rounds of ${N_SMALL} (1 MiB) and ${N_BIG} (${BIG / MiB} MiB) sequential awaited reads; getView pins until its release() right after, and its cost is one CRC-32 pass over the object; get copies into fresh memory (page faults included). The ratio is get's time over getView's.`);
console.log(`3: medians of ${SMALL_ROUNDS} rounds x ${fmtInt(SMALL_N)}, one awaited get at a time. Ray's figures are from its published microbenchmarks (single client, Plasma store), on a different machine.`);
console.log(`4: spill/restore rates are the store's own counters (direct-I/O writes and reads on the spill thread, CRC-32 on the store's thread alongside; no fsync); dd figures are the mean of runs before and after (${f2(dd1.w)}/${f2(dd1.r)} and ${f2(dd2.w)}/${f2(dd2.r)} GB/s write/read), 'n/a' where dd or O_DIRECT is unavailable.`);
const LOAD_AFTER = loadavg();
console.log(`load average ${LOAD_BEFORE[0].toFixed(2)} at start, ${LOAD_AFTER[0].toFixed(2)} at end; run took ${((performance.now() - START) / 1000).toFixed(0)} s`);
