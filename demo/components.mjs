// A tour of the component toolchain: AssemblyScript tasks built into WASM
// components (by `npm run build`), loaded and called from Node with typed values.
import { load, TaskError } from 'tsray';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const component = (name) => join(root, 'build', `${name}.wasm`);

// 1. Matrices: a record with a list<f64> inside, and a result<matrix, string>.
const matrix = await load(component('matrix'));
console.log('matrix exports:');
for (const f of matrix.functions) console.log(`  ${f.signature}`);
const n = 160;
const a = { rows: n, cols: n, data: Float64Array.from({ length: n * n }, (_, i) => (i % 7) - 3) };
const b = { rows: n, cols: n, data: Float64Array.from({ length: n * n }, (_, i) => (i % 5) * 0.5) };
let started = performance.now();
const c = await matrix.call('matmul', [a, b]);
const wasmMs = performance.now() - started;
let maxErr = 0;
for (let i = 0; i < n; i++) {
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += a.data[i * n + k] * b.data[k * n + j];
    maxErr = Math.max(maxErr, Math.abs(s - c.data[i * n + j]));
  }
}
console.log(`matmul ${n}x${n} in a fresh sandboxed instance: ${wasmMs.toFixed(1)} ms, max error vs JavaScript ${maxErr}`);
try {
  await matrix.call('matmul', [a, { rows: 2, cols: 2, data: new Float64Array(4) }]);
} catch (e) {
  if (!(e instanceof TaskError)) throw e;
  console.log(`mismatched shapes -> ${e.name}: ${e.payload}`);
}

// 2. Text: strings in, list<tuple<string, u32>> out.
const text = await load(component('text'));
console.log(await text.call('greet', ['tsray']));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const top = (await text.call('word-count', [readme])).slice(0, 5);
console.log('most frequent words in README.md:', top.map(([w, k]) => `${w}(${k})`).join(' '));

// 3. An actor-shaped resource: state lives in one instance across calls.
const counters = await load(component('counter'));
const inst = await counters.instantiate();
const counter = inst.construct('counter', [10n]);
for (let i = 0; i < 3; i++) counter.call('incr', [1n]);
console.log(`counter after 3 increments from 10: ${counter.call('get')}`);
counter.drop();

// 4. Failures are typed errors carrying the guest's own message.
const faulty = await load(component('faulty'));
for (const [fn, args] of [['fail', ['disk on fire']], ['divide', [1, 0]]]) {
  try {
    await faulty.call(fn, args);
  } catch (e) {
    console.log(`${fn} -> ${e.name} [${e.code}]: ${e.guestMessage}`);
  }
}

// 5. Host imports: the guest sleeps and reads its task context through tsray:runtime.
const slow = await load(component('slow'));
started = performance.now();
const said = await slow.call('nap', [20], { taskInfo: () => ({ taskId: 'demo-1', nodeId: 'local', attempt: 0, acceleratorIds: new Uint32Array(0) }) });
console.log(`${said} (took ${(performance.now() - started).toFixed(0)} ms)`);
