// A JavaScript guest (componentize-js: SpiderMonkey inside, several core
// modules, WASI imports) on the jco engine beside an AssemblyScript guest on
// the lean engine: a fresh instance per task, a pooled instance reset per
// task, and tasks/s end to end through the embedded node, side by side in
// one run.
//
//   npm run build && node bench/js-component.mjs
//
// Progress goes to stderr, the tables to stdout.
import { readFileSync } from 'node:fs';
import * as tsray from 'tsray';
import { printTable } from './lib/table.mjs';
import { jsGuest } from '../test/helpers/js-guest.mjs';
import { loadComponent } from '../dist/host/component/load.js';
import { variantFor } from '../dist/host/worker/module-variants.js';
import { JcoInstance, importGlue } from '../dist/host/engine/jco.js';
import { LeanInstance } from '../dist/host/engine/lean.js';
import { systemNow, wasiHost } from '../dist/host/engine/wasi/index.js';

const progress = (msg) => process.stderr.write(`${msg}\n`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const CAPS = ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr'];

progress('building the JavaScript guest (cached after the first run)...');
const jsPath = await jsGuest();
const js = await loadComponent(jsPath);
const as = await loadComponent('build/matrix.wasm');
progress(`engines: JavaScript guest ${js.engine} (${(readFileSync(jsPath).length / 2 ** 20).toFixed(1)} MiB, restorable ${js.jco.restorable}); matrix ${as.engine}`);

// Worker-prepared variants: what a worker instantiates (sandboxed cores, globals exported for resets).
const jv = variantFor(js);
const glue = { entry: jv.entry, cores: new Map(), compiled: new Map(jv.cores), restorable: jv.restorable };
await importGlue(glue);
const lv = variantFor(as);
const io = { write() {}, sleep() {}, checkpoint() {}, now: systemNow };
const jsAdd = { func: js.world.exports.find((e) => e.name === 'add').func };
const asAdd = { func: as.world.exports.find((e) => e.name === 'add').func };
const makeJs = (resettable) => JcoInstance.create(glue, js.world, {}, () => undefined, wasiHost(new Set(CAPS), io).imports, { resettable });
const makeAs = (resettable) => new LeanInstance(lv.module, as.world, {}, () => undefined, { resettable });

/** Median ms per task over `reps` rounds of `n` tasks run by `task()`. */
function perTask(task, n, reps) {
  const per = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) task(i);
    per.push((performance.now() - t0) / n);
  }
  return median(per);
}

progress('fresh instance + add per task...');
const fresh = {
  js: perTask((i) => { const x = makeJs(false); x.call(jsAdd, [i, 1]); x.dispose(); }, 10, 5),
  as: perTask((i) => { const x = makeAs(false); x.call(asAdd, [i, 1]); x.dispose(); }, 500, 5),
};
progress('pooled instance: add + reset per task...');
const pj = makeJs(true);
const pa = makeAs(true);
for (let i = 0; i < 200; i++) { pj.call(jsAdd, [i, 1]); pj.reset(); pa.call(asAdd, [i, 1]); pa.reset(); } // warm-up
const pooled = {
  js: perTask((i) => { pj.call(jsAdd, [i, 1]); if (!pj.reset()) throw new Error('reset refused'); }, 200, 7),
  as: perTask((i) => { pa.call(asAdd, [i, 1]); if (!pa.reset()) throw new Error('reset refused'); }, 20_000, 7),
};
const warm = perTask((i) => pj.call(jsAdd, [i, 1]), 200, 7);

const ms = (x) => x.toFixed(x < 0.1 ? 4 : 3);
console.log('\nOne task = a pristine instance + `add(i, 1)` (in one thread, ms per task)\n');
printTable([
  ['', 'JavaScript guest (jco)', 'AssemblyScript (lean)', 'ratio'],
  ['fresh instance per task', ms(fresh.js), ms(fresh.as), `${(fresh.js / fresh.as).toFixed(0)}x`],
  ['pooled instance, reset after each task', ms(pooled.js), ms(pooled.as), `${(pooled.js / pooled.as).toFixed(0)}x`],
  ['pooling speed-up', `${(fresh.js / pooled.js).toFixed(0)}x`, `${(fresh.as / pooled.as).toFixed(1)}x`, ''],
]);
console.log(`\nThe same JavaScript instance without a reset (state kept, not a task's semantics): ${ms(warm)} ms per call.`);

progress('tasks through the embedded node (2 workers)...');
await tsray.init({ numCpus: 2 });
const jsMod = await tsray.load(jsPath);
const asMod = await tsray.load('build/matrix.wasm');
const jsFn = jsMod.fn('add').options({ capabilities: CAPS });
const asFn = asMod.fn('add');
async function rate(fn, n) {
  await tsray.get(Array.from({ length: 50 }, (_, i) => fn.remote(i, 1))); // warm pools in both workers
  const t0 = performance.now();
  await tsray.get(Array.from({ length: n }, (_, i) => fn.remote(i, 1)));
  return n / ((performance.now() - t0) / 1000);
}
const rates = { js: [], as: [] };
for (let r = 0; r < 3; r++) { rates.js.push(await rate(jsFn, 1000)); rates.as.push(await rate(asFn, 20_000)); }
await tsray.shutdown();
const rj = median(rates.js);
const ra = median(rates.as);
console.log('\nEnd to end: `get([...n tasks])` of `add` on the embedded node, 2 workers\n');
printTable([
  ['', 'JavaScript guest (jco)', 'AssemblyScript (lean)', 'ratio'],
  ['tasks/s', rj.toFixed(0), ra.toFixed(0), `${(ra / rj).toFixed(1)}x`],
]);
