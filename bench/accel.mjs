// tsray:accel beside raw Dawn, side by side in one run: float32 matmul with
// the tensors staying on the device (the same WGSL kernel, dispatched by a
// sandboxed guest through tsray:accel vs by Node through Dawn directly), the
// same product end to end (data in and out of the guest), the CPU backend and
// a plain AssemblyScript guest; and host<->device transfer through a guest's
// buffer vs Dawn's writeBuffer/mapAsync.
//
//   npm run build && node bench/accel.mjs [--sizes 256,512] [--reps 5] [--backend webgpu|cpu]
//
// Without a GPU, Dawn runs on SwiftShader (a CPU implementation), where the
// figures show only overhead; sizes then default to 256 and 512 (1024 and 4096
// on a GPU). Progress goes to stderr, the tables to stdout.
import * as tsray from 'tsray';
import { parseArgs } from 'node:util';
import { printTable } from './lib/table.mjs';
import { matmulWgsl } from '../dist/host/accel/backends/webgpu/kernels.js';

const progress = (msg) => process.stderr.write(`${msg}\n`);
const { values: args } = parseArgs({ options: { sizes: { type: 'string' }, reps: { type: 'string', default: '4' }, backend: { type: 'string', default: 'webgpu' } } });
const reps = Number(args.reps);

await tsray.init({ numCpus: 2, numGpus: 1, accelBackend: args.backend, logLevel: 'error' });
const [device] = await tsray.acceleratorDevices();
const software = /swiftshader/i.test(`${device.vendor} ${device.description}`);
const sizes = args.sizes ? args.sizes.split(',').map(Number) : software || device.backend === 'cpu' ? [256, 512] : [1024, 4096];
progress(`device: ${device.backend} ${device.description || device.vendor}${software ? ' (software: figures show overhead only)' : ''}`);
const c = await tsray.load('build/accel.wasm');
const gpu = { numGpus: 1 };

// Raw Dawn in this process, on the same kind of adapter.
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const nav = create([]);
const adapter = await nav.requestAdapter({ powerPreference: 'high-performance' });
const dev = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const pipeline = dev.createComputePipeline({ layout: 'auto', compute: { module: dev.createShaderModule({ code: matmulWgsl('float32', 'float32') }), entryPoint: 'main' } });

async function readBack(buf, bytes) {
  const staging = dev.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = dev.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, bytes);
  dev.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Uint8Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

/** Raw Dawn: `reps` products with the inputs on the device, a fresh output each, then the last read. */
async function rawMatmul(n, count) {
  const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const a = dev.createBuffer({ size: data.byteLength, usage: STORAGE });
  const b = dev.createBuffer({ size: data.byteLength, usage: STORAGE });
  dev.queue.writeBuffer(a, 0, data);
  dev.queue.writeBuffer(b, 0, data);
  const run = () => {
    // the kernel's Params: count, d0 = m, d1 = k, d2 = n, factor, padding
    const params = dev.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    dev.queue.writeBuffer(params, 0, Uint32Array.of(n * n, n, n, n, 0, 0, 0, 0));
    const out = dev.createBuffer({ size: data.byteLength, usage: STORAGE });
    const bind = dev.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [out, a, b, params].map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(n / 16), Math.ceil(n / 16));
    pass.end();
    dev.queue.submit([enc.finish()]);
    params.destroy();
    return out;
  };
  await readBack(run(), 4); // warm up
  const t0 = performance.now();
  let last;
  for (let r = 0; r < count; r++) { last?.destroy(); last = run(); }
  await readBack(last, 4);
  const ms = performance.now() - t0;
  for (const x of [a, b, last]) x.destroy();
  return ms;
}

async function rawTransfer(bytes, count) {
  const buf = dev.createBuffer({ size: bytes, usage: STORAGE });
  const data = Uint8Array.from({ length: bytes }, (_, i) => i);
  dev.queue.writeBuffer(buf, 0, data);
  await readBack(buf, bytes);
  const t0 = performance.now();
  for (let r = 0; r < count; r++) { dev.queue.writeBuffer(buf, 0, data); await readBack(buf, bytes); }
  const ms = performance.now() - t0;
  buf.destroy();
  return ms;
}

const gflops = (n, ms, count) => (2 * n ** 3 * count) / (ms / 1000) / 1e9;
const rows = [];
for (const n of sizes) {
  progress(`matmul ${n}x${n}...`);
  const count = n >= 2048 ? Math.max(2, Math.floor(reps / 2)) : reps;
  // Alternating rounds, best of each: SwiftShader shares the CPU cores with everything else.
  let tsrayMs = Infinity, rawMs = Infinity;
  for (let round = 0; round < 3; round++) {
    tsrayMs = Math.min(tsrayMs, await tsray.get(c.fn('matmul-repeat').options(gpu).remote(0, n, count)));
    rawMs = Math.min(rawMs, await rawMatmul(n, count));
  }
  const data = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  await tsray.get(c.fn('tensor-matmul').options(gpu).remote(0, n, n, n, data, data, 0)); // warm
  let t0 = performance.now();
  await tsray.get(c.fn('tensor-matmul').options(gpu).remote(0, n, n, n, data, data, 0));
  const endToEnd = performance.now() - t0;
  const plainN = Math.min(n, 1024); // the plain guest is O(n^3) on one core
  t0 = performance.now();
  await tsray.get(c.fn('matmul-plain').remote(plainN, plainN, plainN, data.subarray(0, plainN * plainN), data.subarray(0, plainN * plainN)));
  const plainMs = performance.now() - t0;
  rows.push([
    `${n}`, (tsrayMs / count).toFixed(2), (rawMs / count).toFixed(2), (tsrayMs / rawMs).toFixed(2),
    gflops(n, tsrayMs, count).toFixed(2), gflops(n, rawMs, count).toFixed(2), endToEnd.toFixed(1),
    `${gflops(plainN, plainMs, 1).toFixed(2)}${plainN !== n ? ` (n=${plainN})` : ''}`,
  ]);
}
printTable([['n', 'tsray:accel ms', 'raw Dawn ms', 'ratio', 'tsray GFLOP/s', 'raw GFLOP/s', 'end to end ms', 'plain AS GFLOP/s'], ...rows]);

const transfers = [];
for (const mib of [1, 16]) {
  progress(`transfer ${mib} MiB...`);
  const bytes = mib * 2 ** 20;
  const count = 5;
  let g = Infinity, r = Infinity;
  for (let round = 0; round < 3; round++) {
    g = Math.min(g, await tsray.get(c.fn('transfer-repeat').options(gpu).remote(0, bytes, count)));
    r = Math.min(r, await rawTransfer(bytes, count));
  }
  const gbs = (ms) => ((2 * bytes * count) / (ms / 1000) / 1e9).toFixed(2);
  transfers.push([`${mib} MiB`, gbs(g), gbs(r), (g / r).toFixed(2)]);
}
console.log('');
printTable([['write + read back', 'tsray:accel GB/s', 'raw Dawn GB/s', 'time ratio'], ...transfers]);

if (args.backend === 'webgpu') {
  await tsray.shutdown();
  progress('CPU backend...');
  await tsray.init({ numCpus: 2, numGpus: 1, accelBackend: 'cpu', logLevel: 'error' });
  const cpu = await tsray.load('build/accel.wasm');
  const cpuRows = [];
  for (const n of sizes.filter((x) => x <= 1024)) {
    const ms = await tsray.get(cpu.fn('matmul-repeat').options(gpu).remote(0, n, 2));
    cpuRows.push([`${n}`, (ms / 2).toFixed(1), gflops(n, ms, 2).toFixed(2)]);
  }
  console.log('');
  printTable([['n', 'CPU backend ms', 'CPU backend GFLOP/s'], ...cpuRows]);
}
dev.destroy();
await tsray.shutdown();
