// tsray quick start: tasks on the embedded node, or on a cluster when TSRAY_ADDRESS and TSRAY_TOKEN are set.
// Components are built from guest/examples/*.ts by `npm run build`.
import * as tsray from 'tsray';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const component = (name) => tsray.load(join(root, 'build', `${name}.wasm`));
const ms = (t0) => `${(performance.now() - t0).toFixed(0)} ms`;

const started = performance.now();
await tsray.init();
const cpus = tsray.clusterResources().CPU;
const where = process.env.TSRAY_ADDRESS ? `the cluster at ${process.env.TSRAY_ADDRESS}` : 'an embedded node';
console.log(`tsray: ${where} with ${cpus} CPU${cpus === 1 ? '' : 's'} (${availableParallelism()} on this machine)\n`);

// 1. Hello world: one remote task, one get.
const text = await component('text');
console.log(await tsray.get(text.fn('greet').remote('world')));

// 2. Monte Carlo pi: many independent tasks, each in its own sandboxed instance.
const pi = await component('pi');
const tasks = 200;
const samples = 200_000;
let t0 = performance.now();
const refs = Array.from({ length: tasks }, (_, i) => pi.fn('hits').remote(samples, BigInt(i + 1)));
const inside = (await tsray.get(refs)).reduce((a, b) => a + b, 0);
const estimate = (4 * inside) / (tasks * samples);
console.log(`pi ~= ${estimate.toFixed(5)} from ${tasks} tasks x ${samples.toLocaleString('en')} samples ` +
  `(error ${Math.abs(estimate - Math.PI).toExponential(1)}) in ${ms(t0)}`);

// 3. A matrix put into the object store once, then summed in bands by parallel tasks.
const matrix = await component('matrix');
const rows = 2000;
const cols = 1000;
const data = new Float64Array(rows * cols);
for (let i = 0; i < data.length; i++) data[i] = (i % 100) / 100;
t0 = performance.now();
const m = tsray.put({ rows, cols, data });
const band = 250;
const partials = [];
for (let first = 0; first < rows; first += band) partials.push(matrix.fn('sumRows').remote(m, first, band));
const total = (await tsray.get(partials)).reduce((a, b) => a + b, 0);
const expected = data.reduce((a, b) => a + b, 0);
console.log(`matrix ${rows}x${cols} (${(data.byteLength / 2 ** 20).toFixed(0)} MiB) put once, summed by ${partials.length} tasks: ` +
  `${total.toFixed(2)} (expected ${expected.toFixed(2)}) in ${ms(t0)}`);

// 4. Failures are typed: a task that divides by zero, and one that loops forever under a timeout.
const faulty = await component('faulty');
try {
  await tsray.get(faulty.fn('divide').remote(1, 0));
} catch (e) {
  console.log(`divide(1, 0) -> ${e.name}: ${e.guestMessage}`);
}
const slow = await component('slow');
try {
  await tsray.get(slow.fn('spin').options({ timeoutMs: 200 }).remote());
} catch (e) {
  console.log(`spin() with a 200 ms timeout -> ${e.name}`);
}

await tsray.shutdown();
console.log(`\ndone in ${ms(started)}`);
