// One suite of tensor-kernel checks run against every tsray:accel backend:
// each kernel on seeded random inputs against the plain loops below, at odd
// sizes, with broadcasting, every reduction axis, float16 and aliased outputs.
import { source } from './source.mjs';

const { toHalf, fromHalf } = await source('host/accel/backends/half.ts');

/** Seeded uniform values in [-1, 1). */
export function random(n, seed) {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    out[i] = (((z ^ (z >>> 14)) >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** What a tensor of `dtype` holds after storing `x`. */
export const stored = (dtype, x) => Float32Array.from(x, (v) => (dtype === 'float16' ? fromHalf(toHalf(v)) : v));

export const ref = {
  matmul(a, b, m, k, n) {
    const out = new Float32Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
    return out;
  },
  binary: (op, a, b) => Float32Array.from(a, (v, i) => (op === 'add' ? v + b[i % b.length] : v * b[i % b.length])),
  reduce(op, a, outer, n, inner) {
    const out = new Float32Array(outer * inner);
    for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
      const vals = [];
      for (let t = 0; t < n; t++) vals.push(a[(o * n + t) * inner + j]);
      const sum = vals.reduce((x, y) => x + y, 0);
      out[o * inner + j] = op === 'sum' ? sum : op === 'mean' ? sum / n : op === 'max' ? Math.max(...vals) : Math.min(...vals);
    }
    return out;
  },
  transpose(a, rows, cols) {
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
    return out;
  },
};

/** The largest difference, or Infinity when lengths differ or a NaN appears. */
function worst(got, want, tol) {
  if (got.length !== want.length) return { ok: false, why: `length ${got.length} != ${want.length}` };
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol(want[i]))) return { ok: false, why: `element ${i}: got ${got[i]}, want ${want[i]}` };
  }
  return { ok: true };
}

export function close(t, got, want, tol, msg) {
  const r = worst(got, want, typeof tol === 'number' ? () => tol : tol);
  t.ok(r.ok, r.ok ? msg : `${msg}: ${r.why}`);
}

/** Tolerance for a result rounded to `dtype` after summing `terms` products of magnitude <= 1. */
const tolFor = (dtype, terms) => (w) => terms * 2e-7 + (dtype === 'float16' ? Math.abs(w) * 2 ** -10 : Math.abs(w) * 2e-7);

let seed = 1;

/** A tensor holding seeded random values; returns [store, values as stored]. */
function tensor(dev, dtype, n) {
  const x = random(n, seed++);
  const s = dev.allocTensor(dtype, n);
  dev.upload(s, x);
  return [s, stored(dtype, x)];
}

/** Runs every kernel check on `dev` (a DeviceBackend), as subtests of `t`. */
export async function kernelSuite(t, dev) {
  const { AccelFailure } = await source('host/accel/backends/backend.ts');

  await t.test('upload and download: float32 exactly, float16 as rounded halves', async (t) => {
    for (const dtype of ['float32', 'float16']) for (const n of [1, 7, 64]) {
      const x = random(n, seed++);
      const s = dev.allocTensor(dtype, n);
      dev.upload(s, x);
      t.same(Array.from(await dev.download(s)), Array.from(stored(dtype, x)), `${dtype} x ${n}`);
      dev.freeTensor(s);
    }
  });

  await t.test('matmul at odd sizes, within a tolerance growing with k', async (t) => {
    const cases = [[1, 1, 1], [17, 33, 5], [5, 1, 9], [64, 64, 64], [33, 100, 47], [128, 24, 72]];
    for (const [da, db, dout] of [['float32', 'float32', 'float32'], ['float16', 'float32', 'float16'], ['float16', 'float16', 'float32']]) {
      for (const [m, k, n] of (da === 'float32' ? cases : cases.slice(0, 4))) {
        const [a, av] = tensor(dev, da, m * k);
        const [b, bv] = tensor(dev, db, k * n);
        const out = dev.allocTensor(dout, m * n);
        dev.matmul(out, a, b, m, k, n);
        close(t, await dev.download(out), ref.matmul(av, bv, m, k, n), tolFor(dout, k), `${da} x ${db} -> ${dout}: ${m}x${k}x${n}`);
        for (const s of [a, b, out]) dev.freeTensor(s);
      }
    }
    const a = dev.allocTensor('float32', 0);
    const b = dev.allocTensor('float32', 0);
    const out = dev.allocTensor('float32', 6);
    dev.upload(out, new Float32Array(6).fill(9));
    dev.matmul(out, a, b, 2, 0, 3);
    t.same(Array.from(await dev.download(out)), [0, 0, 0, 0, 0, 0], 'k = 0 gives zeros');
  });

  await t.test('add and mul, same shape and broadcast over leading axes', async (t) => {
    for (const op of ['add', 'mul']) {
      for (const [na, nb, dtype] of [[2805, 2805, 'float32'], [2805, 165, 'float32'], [2805, 5, 'float16'], [2805, 1, 'float32'], [1, 1, 'float16'], [63, 63, 'float16']]) {
        const [a, av] = tensor(dev, dtype, na);
        const [b, bv] = tensor(dev, 'float32', nb);
        const out = dev.allocTensor(dtype, na);
        dev.binary(op, out, a, b);
        close(t, await dev.download(out), stored(dtype, ref.binary(op, av, bv)), tolFor(dtype, 1), `${op} ${dtype} [${na}] with [${nb}]`);
        for (const s of [a, b, out]) dev.freeTensor(s);
      }
    }
  });

  await t.test('scale by a factor, into a new tensor and in place', async (t) => {
    for (const dtype of ['float32', 'float16']) {
      const [a, av] = tensor(dev, dtype, 1001);
      const out = dev.allocTensor(dtype, 1001);
      dev.scale(out, a, -2.5);
      close(t, await dev.download(out), stored(dtype, av.map((v) => v * -2.5)), tolFor(dtype, 1), `${dtype} scale`);
      dev.scale(a, a, 3);
      close(t, await dev.download(a), stored(dtype, av.map((v) => v * 3)), tolFor(dtype, 1), `${dtype} scale in place`);
    }
  });

  await t.test('reductions over every axis of 17x33x5 and over everything', async (t) => {
    const shape = [17, 33, 5];
    const views = [[1, 17, 165], [17, 33, 5], [561, 5, 1], [1, 2805, 1], [3, 1500, 1], [1, 1, 1]];
    for (const dtype of ['float32', 'float16']) {
      const [a, av] = tensor(dev, dtype, 2805);
      for (const op of ['sum', 'max', 'min', 'mean']) {
        for (const [outer, n, inner] of views) {
          if (outer * n * inner !== 2805) {
            const [b, bv] = tensor(dev, dtype, outer * n * inner);
            const out = dev.allocTensor(dtype, outer * inner);
            dev.reduce(op, out, b, outer, n, inner);
            close(t, await dev.download(out), stored(dtype, ref.reduce(op, bv, outer, n, inner)), tolFor(dtype, n), `${op} ${dtype} [${outer}, ${n}, ${inner}]`);
            dev.freeTensor(b); dev.freeTensor(out);
            continue;
          }
          const out = dev.allocTensor(dtype, outer * inner);
          dev.reduce(op, out, a, outer, n, inner);
          close(t, await dev.download(out), stored(dtype, ref.reduce(op, av, outer, n, inner)), tolFor(dtype, n), `${op} ${dtype} [${outer}, ${n}, ${inner}] of ${shape.join('x')}`);
          dev.freeTensor(out);
        }
      }
      dev.freeTensor(a);
    }
  });

  await t.test('transpose, including in place for a square matrix', async (t) => {
    for (const [rows, cols, dtype] of [[1, 1, 'float32'], [17, 33, 'float32'], [64, 64, 'float16'], [3, 128, 'float16']]) {
      const [a, av] = tensor(dev, dtype, rows * cols);
      const out = dev.allocTensor(dtype, rows * cols);
      dev.transpose(out, a, rows, cols);
      t.same(Array.from(await dev.download(out)), Array.from(ref.transpose(av, rows, cols)), `${dtype} ${rows}x${cols}`);
      if (rows === cols) {
        dev.transpose(a, a, rows, cols);
        t.same(Array.from(await dev.download(a)), Array.from(ref.transpose(av, rows, cols)), `${dtype} ${rows}x${cols} in place`);
      }
    }
    const [sq, sqv] = tensor(dev, 'float32', 16 * 16);
    dev.matmul(sq, sq, sq, 16, 16, 16);
    close(t, await dev.download(sq), ref.matmul(sqv, sqv, 16, 16, 16), tolFor('float32', 16), 'matmul into one of its inputs');
  });

  await t.test('cast rounds to the nearest half, ties to even, and back exactly', async (t) => {
    const special = Float32Array.from([0, -0, 1, -1, 65504, 65519, 65520, 1e6, -1e6, Infinity, -Infinity,
      1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, 6.1e-5, 1e-8, 0.1, 1 / 3]);
    const x = new Float32Array([...special, ...random(333, seed++).map((v) => v * 1000)]);
    const a = dev.allocTensor('float32', x.length);
    dev.upload(a, x);
    const h = dev.allocTensor('float16', x.length);
    dev.cast(h, a);
    const back = dev.allocTensor('float32', x.length);
    dev.cast(back, h);
    t.same(Array.from(await dev.download(back)), Array.from(x, (v) => fromHalf(toHalf(v))), 'f32 -> f16 -> f32 matches the host rounding');
    const nan = dev.allocTensor('float32', 1);
    dev.upload(nan, Float32Array.of(NaN));
    const nh = dev.allocTensor('float16', 1);
    dev.cast(nh, nan);
    t.ok(Number.isNaN((await dev.download(nh))[0]), 'NaN stays NaN');
  });

  await t.test('bad arguments are invalid-argument', async (t) => {
    const a = dev.allocTensor('float32', 6);
    const out = dev.allocTensor('float32', 4);
    t.throws(() => dev.matmul(out, a, a, 2, 3, 3), { code: 'invalid-argument' }, 'shape mismatch');
    t.throws(() => dev.binary('add', a, a, out), { code: 'invalid-argument' }, 'b does not broadcast');
    t.throws(() => dev.reduce('sum', out, a, 6, 0, 1), { code: 'invalid-argument' }, 'empty axis');
    t.throws(() => dev.upload(a, new Float32Array(5)), { code: 'invalid-argument' }, 'upload length');
    dev.freeTensor(a);
    t.throws(() => dev.scale(a, a, 2), AccelFailure, 'a freed tensor');
    await t.rejects(dev.download(a), { code: 'invalid-argument' });
    dev.freeTensor(a);
    t.pass('freeing twice is harmless');
    await dev.wait();
  });
}
