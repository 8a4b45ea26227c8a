// Accelerators inside tasks: one matrix product split into row bands, each band
// a task holding a quarter of a GPU, computed through tsray:accel by a sandboxed
// component, then checked against the same product in plain AssemblyScript.
// WebGPU (Dawn) drives the GPUs when an adapter is found (on a machine without
// a GPU, Debian chromium's SwiftShader serves as one); otherwise the host's CPU
// kernels do. Components are built from guest/examples/*.ts by `npm run build`.
import * as tsray from 'tsray';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const GPUS = 2;

async function start() {
  const wanted = process.env.TSRAY_ACCEL_BACKEND ?? 'webgpu';
  try {
    await tsray.init({ numGpus: GPUS, accelBackend: wanted, logLevel: 'error' });
  } catch (e) {
    if (wanted !== 'webgpu') throw e;
    console.log(`no WebGPU adapter (${e.message.split(';')[0]}); using the CPU backend\n`);
    await tsray.init({ numGpus: GPUS, accelBackend: 'cpu', logLevel: 'error' });
  }
}

await start();
const devices = await tsray.acceleratorDevices();
for (const d of devices) {
  console.log(`GPU ${d.id}: ${d.backend} backend, ${d.description || d.vendor}, ${(d.memoryBytes / 2 ** 20).toFixed(0)} MiB`);
}
const software = devices.some((d) => /swiftshader/i.test(`${d.vendor} ${d.description}`));

const c = await tsray.load(join(root, 'build', 'accel.wasm'));
const [m, k, n] = [512, 256, 256];
const bands = 8;
const rows = m / bands;
let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const a = Float32Array.from({ length: m * k }, rand);
const b = Float32Array.from({ length: k * n }, rand);

console.log(`\nC[${m}x${n}] = A[${m}x${k}] x B[${k}x${n}] in ${bands} tasks of ${rows} rows, each holding half a GPU and half a CPU`);
const t0 = performance.now();
const refs = Array.from({ length: bands }, (_, i) =>
  c.fn('matmul-granted').options({ numGpus: 0.5, numCpus: 0.5 }).remote(rows, k, n, a.subarray(i * rows * k, (i + 1) * rows * k), b));
const reports = await tsray.get(refs);
const accelMs = performance.now() - t0;
reports.forEach((r, i) => console.log(`  band ${i}: rows ${i * rows}-${(i + 1) * rows - 1} on GPU ${r.device} (${r.backend})`));

const t1 = performance.now();
const plain = await tsray.get(c.fn('matmul-plain').remote(m, k, n, a, b));
const plainMs = performance.now() - t1;
let worst = 0;
reports.forEach((r, i) => r.product.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - plain[i * rows * n + j])); }));
const used = new Set(reports.map((r) => r.device));
console.log(`\ntsray:accel: ${accelMs.toFixed(0)} ms over ${used.size} GPU${used.size === 1 ? '' : 's'}; plain AssemblyScript on one CPU: ${plainMs.toFixed(0)} ms`);
if (software) console.log('(SwiftShader runs WebGPU on the CPU, for correctness: on a real GPU the same tasks run on the device)');
console.log(`largest difference from the plain product: ${worst.toExponential(2)} ${worst < 1e-3 ? '(they agree)' : '(MISMATCH)'}`);
await tsray.shutdown();
if (worst >= 1e-3) process.exit(1);
