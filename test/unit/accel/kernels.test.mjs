// Every tensor kernel of both backends against a float64 reference, on shapes
// that do not fit the kernels' tiles and workgroups (1x1, odd, > 16, packed
// halves of odd length), and the half-precision conversion at its edges.
import t from 'tap';
import { existsSync } from 'node:fs';
import { createCpuDevice } from '../../../dist/host/accel/backends/cpu/backend.js';
import { fromHalf, toHalf } from '../../../dist/host/accel/backends/half.js';
import { random, matmulRef, maxError } from '../../helpers/accel-suite.mjs';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
// Dawn reads the driver from the process environment when it loads (the main thread's env is the process's).
process.env.VK_ICD_FILENAMES ??= existsSync(ICD) ? ICD : '';

t.test('halves: exact values, ties to even, subnormals, overflow, inf and nan', async (t) => {
  for (const v of [0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 1 + 2 ** -10]) t.equal(fromHalf(toHalf(v)), v, `${v} is exact`);
  t.equal(fromHalf(toHalf(1 + 2 ** -11)), 1, 'a tie rounds to the even neighbour (down)');
  t.equal(fromHalf(toHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9, 'a tie rounds to the even neighbour (up)');
  t.equal(fromHalf(toHalf(2 ** -25)), 0, 'half the smallest subnormal rounds to even (zero)');
  t.equal(fromHalf(toHalf(3 * 2 ** -26)), 2 ** -24, 'above half rounds up to the smallest subnormal');
  t.equal(fromHalf(toHalf(65520)), Infinity, 'past the largest half: infinity');
  t.equal(fromHalf(toHalf(-Infinity)), -Infinity);
  t.ok(Number.isNaN(fromHalf(toHalf(NaN))));
  t.ok(Object.is(fromHalf(toHalf(-0)), -0), 'negative zero keeps its sign');
  // every half survives the round trip through f32
  let bad = 0;
  for (let h = 0; h < 0x10000; h++) {
    const v = fromHalf(h);
    if (!Number.isNaN(v) && toHalf(v) !== h) bad++;
  }
  t.equal(bad, 0, 'all 63,488 non-NaN halves round-trip');
});

async function backends() {
  const out = [['cpu', createCpuDevice({ memoryBytes: 2 ** 26 })]];
  const { openWebGpuDevices } = await import('../../../dist/host/accel/backends/webgpu/backend.js');
  out.push(['webgpu', (await openWebGpuDevices(1, { memoryBytes: 2 ** 26 }))[0]]);
  return out;
}

const ref = {
  binary: (op, a, b) => Array.from(a, (x, i) => (op === 'add' ? x + b[i % b.length] : x * b[i % b.length])),
  reduce: (op, a, outer, n, inner) => {
    const out = [];
    for (let p = 0; p < outer; p++) for (let q = 0; q < inner; q++) {
      const xs = Array.from({ length: n }, (_, i) => a[(p * n + i) * inner + q]);
      out.push(op === 'sum' ? xs.reduce((s, x) => s + x, 0) : op === 'mean' ? xs.reduce((s, x) => s + x, 0) / n : op === 'max' ? Math.max(...xs) : Math.min(...xs));
    }
    return out;
  },
  transpose: (a, rows, cols) => Array.from({ length: rows * cols }, (_, i) => a[(i % rows) * cols + Math.floor(i / rows)]),
};

t.test('kernels agree with the reference on both backends', async (t) => {
  if (!process.env.VK_ICD_FILENAMES) t.fail(`no Vulkan driver for Dawn at ${ICD}: install Debian's chromium and libvulkan1 (.ci/run does)`);
  for (const [name, d] of await backends()) {
    const tensor = (data, dtype = 'float32') => { const x = d.allocTensor(dtype, data.length); d.upload(x, Float32Array.from(data)); return x; };
    const out = (n, dtype = 'float32') => d.allocTensor(dtype, n);
    for (const [m, k, n] of [[1, 1, 1], [17, 33, 5], [16, 16, 16], [64, 3, 70]]) {
      const a = random(m * k, m + k), b = random(k * n, n);
      const o = out(m * n);
      d.matmul(o, tensor(a), tensor(b), m, k, n);
      t.ok(maxError(await d.download(o), matmulRef(a, b, m, k, n)) < 1e-5 * k, `${name}: matmul ${m}x${k}x${n}`);
    }
    const a = random(3 * 5 * 7, 9), b = random(7, 10), full = random(105, 11);
    for (const op of ['add', 'mul']) {
      for (const [rhs, what] of [[full, 'same shape'], [b, 'broadcast suffix']]) {
        const o = out(105);
        d.binary(op, o, tensor(a), tensor(rhs));
        t.ok(maxError(await d.download(o), ref.binary(op, a, rhs)) < 1e-6, `${name}: ${op} (${what})`);
      }
    }
    const s = out(105);
    d.scale(s, tensor(a), -2.5);
    t.ok(maxError(await d.download(s), Array.from(a, (x) => x * -2.5)) < 1e-6, `${name}: scale`);
    for (const op of ['sum', 'mean', 'max', 'min']) {
      for (const [outer, n, inner] of [[1, 105, 1], [3, 5, 7], [15, 7, 1], [1, 3, 35]]) {
        const o = out(outer * inner);
        d.reduce(op, o, tensor(a), outer, n, inner);
        t.ok(maxError(await d.download(o), ref.reduce(op, a, outer, n, inner)) < 1e-5, `${name}: ${op} over [${outer}, ${n}, ${inner}]`);
      }
    }
    const tr = out(105);
    d.transpose(tr, tensor(a), 15, 7);
    t.strictSame([...await d.download(tr)], ref.transpose(a, 15, 7), `${name}: transpose 15x7 is exact`);
    // float16: an odd count packs a lone half in the last word
    const h = tensor(a.subarray(0, 13), 'float16');
    const back = await d.download(h);
    t.strictSame([...back], [...a.subarray(0, 13)].map((x) => fromHalf(toHalf(x))), `${name}: float16 upload rounds exactly as halves`);
    const h32 = out(13);
    d.cast(h32, h);
    t.strictSame([...await d.download(h32)], [...back], `${name}: cast float16 -> float32`);
    const h16 = out(13, 'float16');
    d.cast(h16, tensor(a.subarray(0, 13)));
    t.strictSame([...await d.download(h16)], [...back], `${name}: cast float32 -> float16 rounds as the host does`);
    const hm = out(4, 'float16');
    d.matmul(hm, tensor([1, 2, 3, 4], 'float16'), tensor([5, 6, 7, 8], 'float16'), 2, 2, 2);
    t.strictSame([...await d.download(hm)], [19, 22, 43, 50], `${name}: float16 matmul`);
    d.close();
  }
});
