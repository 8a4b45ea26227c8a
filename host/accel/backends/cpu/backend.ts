/**
 * The CPU backend: tensor kernels on typed arrays in the device thread, for
 * nodes with no WebGPU adapter. It has no raw WebGPU (`raw` is absent), so a
 * guest's WGSL is refused with `unsupported`. float16 tensors are stored as
 * IEEE halves and computed in f32, as a GPU without f16 arithmetic would.
 */
import type { DType, DeviceBackend, DeviceLimits, ReduceOp, TensorStore } from '../backend.js';
import { fromHalf, toHalf } from '../half.js';

interface CpuTensor extends TensorStore { data: Float32Array | Uint16Array }

/** A tensor's values as f32 (a copy for float16). */
function values(t: TensorStore): Float32Array {
  const c = t as CpuTensor;
  if (c.data instanceof Float32Array) return c.data;
  const out = new Float32Array(c.elements);
  for (let i = 0; i < out.length; i++) out[i] = fromHalf(c.data[i]!);
  return out;
}

/** Stores f32 `v` into `t` (rounded for float16). */
function store(t: TensorStore, v: Float32Array): void {
  const c = t as CpuTensor;
  if (c.data instanceof Float32Array) { if (c.data !== v) c.data.set(v); return; }
  for (let i = 0; i < v.length; i++) c.data[i] = toHalf(v[i]!);
}

/** Where the result is computed: the output itself for f32, scratch for f16. */
function target(t: TensorStore): Float32Array {
  const c = t as CpuTensor;
  return c.data instanceof Float32Array ? c.data : new Float32Array(c.elements);
}

/** i-k-j order: the inner loop walks rows of b and out contiguously. */
function matmul(out: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void {
  out.fill(0);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p]!;
      if (av === 0) continue;
      const brow = p * n;
      for (let j = 0; j < n; j++) out[row + j] = out[row + j]! + av * b[brow + j]!;
    }
  }
}

const REDUCE: Record<ReduceOp, { init: number; step: (acc: number, v: number) => number }> = {
  sum: { init: 0, step: (a, v) => a + v },
  mean: { init: 0, step: (a, v) => a + v },
  max: { init: -Infinity, step: (a, v) => (v > a ? v : a) },
  min: { init: Infinity, step: (a, v) => (v < a ? v : a) },
};

export function createCpuDevice(opts: { memoryBytes: number }): DeviceBackend {
  const limits: DeviceLimits = {
    maxBufferSize: opts.memoryBytes,
    maxStorageBufferBindingSize: opts.memoryBytes,
    maxComputeWorkgroupSizeX: 1, maxComputeWorkgroupSizeY: 1, maxComputeWorkgroupSizeZ: 1,
    maxComputeInvocationsPerWorkgroup: 1, maxComputeWorkgroupsPerDimension: 65535,
    maxBindGroups: 4, maxStorageBuffersPerShaderStage: 8,
  };
  return {
    description: { backend: 'cpu', vendor: 'tsray', architecture: 'cpu', description: 'tsray CPU kernels', shaderF16: false, memoryBytes: opts.memoryBytes },
    limits,
    tensorBytes: (dtype: DType, elements: number) => elements * (dtype === 'float32' ? 4 : 2),
    allocTensor(dtype: DType, elements: number): TensorStore {
      const data = dtype === 'float32' ? new Float32Array(elements) : new Uint16Array(elements);
      return { kind: 'tensor', dtype, elements, bytes: data.byteLength, data } as CpuTensor;
    },
    upload: (t, data) => store(t, data),
    download: async (t) => Float32Array.from(values(t)),
    matmul(out, a, b, m, k, n) {
      const o = target(out);
      matmul(o, values(a), values(b), m, k, n);
      store(out, o);
    },
    binary(op, out, a, b) {
      const x = values(a), y = values(b), o = target(out);
      const period = y.length;
      if (op === 'add') for (let i = 0; i < o.length; i++) o[i] = x[i]! + y[i % period]!;
      else for (let i = 0; i < o.length; i++) o[i] = x[i]! * y[i % period]!;
      store(out, o);
    },
    scale(out, a, factor) {
      const x = values(a), o = target(out);
      const f = Math.fround(factor);
      for (let i = 0; i < o.length; i++) o[i] = x[i]! * f;
      store(out, o);
    },
    reduce(op, out, a, outer, n, inner) {
      const x = values(a), o = target(out);
      const { init, step } = REDUCE[op];
      for (let p = 0; p < outer; p++) {
        for (let q = 0; q < inner; q++) {
          let acc = init;
          for (let i = 0; i < n; i++) acc = step(acc, x[(p * n + i) * inner + q]!);
          o[p * inner + q] = op === 'mean' ? acc / n : acc;
        }
      }
      store(out, o);
    },
    transpose(out, a, rows, cols) {
      const x = values(a), o = target(out);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) o[c * rows + r] = x[r * cols + c]!;
      store(out, o);
    },
    cast: (out, a) => store(out, values(a)),
    freeTensor(t) {
      (t as { data?: unknown }).data = undefined; // the budget is given back by the scope; the memory to the GC
    },
    wait: async () => undefined,
    close: () => undefined,
  };
}
