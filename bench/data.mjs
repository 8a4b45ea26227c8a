// tsray.data (issue 17), on the embedded node with two CPUs and a small object
// store, side by side in one run: rows/s of read -> map_batches(square) ->
// filter(keep-even) over data 3x the store's size, fused (one task per block)
// vs not fused (a task per block per stage), and the same pipeline written by
// hand with tasks as the floor; with the bytes each spilled to disk (the
// intermediate blocks an unfused plan puts through the store) and its peak
// store use beside the bound the streaming plan keeps (blocks in flight x
// targetMaxBlockSize per stage).
//
//   npm run build && node bench/data.mjs [--store-mib 64] [--rounds 3]
//
// Progress goes to stderr, the table to stdout.
import * as tsray from 'tsray';
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median } from './lib/stats.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const progress = makeProgress();
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const STORE = arg('--store-mib', 64) * 2 ** 20;
const ROUNDS = arg('--rounds', 3);
const ROWS = Math.floor((3 * STORE) / 8); // f64 ids: 3x the store
const BLOCKS = 96; // 2 MiB blocks, as targetMaxBlockSize below cuts them

await tsray.init({ numCpus: 2, objectStoreMemory: STORE, spillProgress: false });
const m = await tsray.load(join(ROOT, 'build', 'batches.wasm'));
const square = m.fn('square');
const keepEven = m.fn('keep-even');
const spilled = () => tsray.memory().nodes.reduce((n, x) => n + x.store.spill.spilledBytes, 0);
const used = () => tsray.memory().nodes.reduce((n, x) => n + x.store.usedBytes, 0);
const TARGET = 2 * 2 ** 20;
tsray.data.DataContext.targetMaxBlockSize = TARGET;

/** Runs one variant; returns rows/s, bytes spilled meanwhile and the peak of the store's use (sampled). */
async function timed(run) {
  // What the variant before left is freed asynchronously: let it go first, so it does not count in this peak.
  for (let i = 0; i < 200 && used() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  const s0 = spilled();
  let peak = used();
  const sampler = setInterval(() => { peak = Math.max(peak, used()); }, 25);
  const t0 = performance.now();
  const rows = await run();
  const s = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (rows !== ROWS / 2) throw new Error(`expected ${ROWS / 2} rows, got ${rows}`);
  return { rate: ROWS / s, spilledBytes: spilled() - s0, peak };
}

/** Counts the rows of each block as it is ready, and lets it go. */
async function drain(refs) {
  let rows = 0;
  for (const r of refs) { rows += (await tsray.get(r)).id.length; r.release(); }
  return rows;
}

const variants = {
  fused: () => { tsray.data.DataContext.optimizeFuseStages = true; return tsray.data.range(ROWS, { parallelism: BLOCKS }).lazy().mapBatches(square).filter(keepEven).count(); },
  unfused: () => { tsray.data.DataContext.optimizeFuseStages = false; return tsray.data.range(ROWS, { parallelism: BLOCKS }).lazy().mapBatches(square).filter(keepEven).count(); },
  'by hand': () => {
    const id = new Float64Array(ROWS);
    for (let i = 0; i < ROWS; i++) id[i] = i;
    const refs = [];
    for (let b = 0; b < BLOCKS; b++) {
      const block = tsray.put({ id: id.subarray(Math.floor((b * ROWS) / BLOCKS), Math.floor(((b + 1) * ROWS) / BLOCKS)) });
      refs.push(keepEven.remote(square.remote(block)));
      block.release();
    }
    return drain(refs);
  },
};

// One unrecorded round first: the JIT and each worker's pooled instances (and the pages they keep) warm up.
for (const [name, run] of Object.entries(variants)) {
  await timed(run);
  progress(`warm-up: ${name}`);
}
const results = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(variants)) {
    results[name].push(await timed(run));
    progress(`round ${r + 1}/${ROUNDS}: ${name} ${fmtInt(results[name].at(-1).rate)} rows/s`);
  }
}
tsray.data.DataContext.optimizeFuseStages = true;

const rate = (k) => median(results[k].map((x) => x.rate));
const mib = (k) => (median(results[k].map((x) => x.spilledBytes)) / 2 ** 20).toFixed(0);
const peak = (k) => (Math.max(...results[k].map((x) => x.peak)) / 2 ** 20).toFixed(0);
const inFlight = tsray.data.DataContext.maxBlocksInFlight;
printTable([
  ['pipeline', 'rows/s', 'vs unfused', 'spilled to disk (MiB)', 'peak store use (MiB)', 'goal'],
  ['fused (lazy)', fmtInt(rate('fused')), `${(rate('fused') / rate('unfused')).toFixed(2)}x`, mib('fused'), peak('fused'), '>= 1.5x unfused, fewer bytes through the store'],
  ['unfused (lazy, fusion off)', fmtInt(rate('unfused')), '1.00x', mib('unfused'), peak('unfused'), '-'],
  ['by hand (put, two tasks per block)', fmtInt(rate('by hand')), `${(rate('by hand') / rate('unfused')).toFixed(2)}x`, mib('by hand'), peak('by hand'), 'the floor'],
]);
console.log(`\n${fmtInt(ROWS)} f64 rows (${(ROWS * 8 / 2 ** 20).toFixed(0)} MiB, 3x the ${STORE / 2 ** 20} MiB store) in ${BLOCKS} blocks; medians of ${ROUNDS} rounds after a warm-up round (peaks: the largest); tsray.init({ numCpus: 2 })`);
console.log(`targetMaxBlockSize ${TARGET / 2 ** 20} MiB, maxBlocksInFlight ${inFlight}: a streaming stage holds at most ${inFlight} x ${TARGET / 2 ** 20} = ${(inFlight * TARGET) / 2 ** 20} MiB of its output at once`);
await tsray.shutdown();
