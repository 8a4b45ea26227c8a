/**
 * The CPU device: tsray:accel's tensor kernels on typed arrays, for nodes
 * without a GPU (and as the reference the WebGPU kernels are tested against).
 * float32 tensors are Float32Arrays; float16 tensors are Uint16Arrays of IEEE
 * halves, converted to f32 around each kernel. There is no raw WGSL: `raw` is
 * absent, and the scope layer answers `unsupported` for it.
 */
import {
  AccelFailure, DTYPE_BYTES,
  type DType, type DeviceBackend, type DeviceLimits, type ReduceOp, type TensorStore,
} from '../backend.js';
import { decodeHalves, encodeHalves } from '../half.js';
import * as shapes from '../shapes.js';
import * as k from './kernels.js';

/** A CPU tensor; `data` is null once freed. */
class CpuTensor implements TensorStore {
  readonly kind = 'tensor';
  constructor(
    readonly owner: object,
    readonly dtype: DType,
    readonly elements: number,
    readonly bytes: number,
    public data: Float32Array | Uint16Array | null,
  ) {}
}

export interface CpuDeviceOptions {
  /** Host memory the device may hold in tensors; allocations past it fail with out-of-memory. */
  memoryBytes: number;
}

export function createCpuDevice(opts: CpuDeviceOptions): DeviceBackend {
  shapes.count('memoryBytes', opts.memoryBytes);
  const self = {};
  let used = 0;
  let closed = false;

  function own(t: TensorStore, what = 'tensor'): CpuTensor & { data: Float32Array | Uint16Array } {
    if (closed) throw new AccelFailure('device-lost', 'the CPU device is closed');
    if (!(t instanceof CpuTensor) || t.owner !== self) throw new AccelFailure('invalid-argument', `${what} is not a tensor of this device`);
    if (t.data === null) throw new AccelFailure('invalid-argument', `${what} was freed`);
    return t as CpuTensor & { data: Float32Array | Uint16Array };
  }

  /** The tensor's values as f32: its own array for float32 (no copy), decoded for float16. */
  function values(t: CpuTensor & { data: Float32Array | Uint16Array }): Float32Array {
    return t.data instanceof Float32Array ? t.data : decodeHalves(t.data, t.elements);
  }

  /**
   * Runs a kernel into `out`: straight into its array when it is float32 and
   * no input shares it, otherwise into a scratch array stored afterwards.
   */
  function into(out: TensorStore, inputs: TensorStore[], run: (dst: Float32Array) => void): void {
    const o = own(out, 'out');
    const direct = o.data instanceof Float32Array && !inputs.includes(o) ? o.data : null;
    const dst = direct ?? new Float32Array(o.elements);
    run(dst);
    if (dst === o.data) return;
    if (o.data instanceof Float32Array) o.data.set(dst);
    else encodeHalves(dst, o.data);
  }

  /** The CPU device dispatches no workgroups: it has no raw compute, so those limits are 0. */
  const limits: DeviceLimits = {
    maxBufferSize: opts.memoryBytes,
    maxStorageBufferBindingSize: opts.memoryBytes,
    maxComputeWorkgroupSizeX: 0,
    maxComputeWorkgroupSizeY: 0,
    maxComputeWorkgroupSizeZ: 0,
    maxComputeInvocationsPerWorkgroup: 0,
    maxComputeWorkgroupsPerDimension: 0,
    maxBindGroups: 0,
    maxStorageBuffersPerShaderStage: 0,
  };

  return {
    description: {
      backend: 'cpu',
      vendor: 'tsray',
      architecture: 'cpu',
      description: 'tsray CPU kernels',
      shaderF16: true,
      memoryBytes: opts.memoryBytes,
    },
    limits,

    tensorBytes(dtype: DType, elements: number): number {
      return elements * DTYPE_BYTES[dtype];
    },

    allocTensor(dtype: DType, elements: number): TensorStore {
      if (closed) throw new AccelFailure('device-lost', 'the CPU device is closed');
      shapes.count('elements', elements);
      const bytes = elements * DTYPE_BYTES[dtype];
      if (used + bytes > opts.memoryBytes) {
        throw new AccelFailure('out-of-memory', `${bytes} bytes more would pass the CPU device's ${opts.memoryBytes}`);
      }
      const data = dtype === 'float32' ? new Float32Array(elements) : new Uint16Array(elements);
      used += bytes;
      return new CpuTensor(self, dtype, elements, bytes, data);
    },

    upload(t: TensorStore, data: Float32Array): void {
      const o = own(t);
      shapes.checkUpload(o, data);
      if (o.data instanceof Float32Array) o.data.set(data);
      else encodeHalves(data, o.data);
    },

    async download(t: TensorStore): Promise<Float32Array> {
      const o = own(t);
      return o.data instanceof Float32Array ? o.data.slice() : decodeHalves(o.data, o.elements);
    },

    matmul(out: TensorStore, a: TensorStore, b: TensorStore, m: number, kk: number, n: number): void {
      shapes.checkMatmul(out, a, b, m, kk, n);
      const av = values(own(a, 'a'));
      const bv = values(own(b, 'b'));
      into(out, [a, b], (dst) => k.matmul(dst, av, bv, m, kk, n));
    },

    binary(op: 'add' | 'mul', out: TensorStore, a: TensorStore, b: TensorStore): void {
      shapes.checkBinary(out, a, b);
      const av = values(own(a, 'a'));
      const bv = values(own(b, 'b'));
      // Elementwise: writing over `a` as it is read is safe; over a broadcast `b` it is not.
      into(out, b.elements === a.elements ? [] : [b], (dst) => k.binary(op, dst, av, bv));
    },

    scale(out: TensorStore, a: TensorStore, factor: number): void {
      shapes.checkSameSize(out, a);
      const av = values(own(a, 'a'));
      into(out, [], (dst) => k.scale(dst, av, factor));
    },

    reduce(op: ReduceOp, out: TensorStore, a: TensorStore, outer: number, n: number, inner: number): void {
      shapes.checkReduce(out, a, outer, n, inner);
      const av = values(own(a, 'a'));
      into(out, [a], (dst) => k.reduce(op, dst, av, outer, n, inner));
    },

    transpose(out: TensorStore, a: TensorStore, rows: number, cols: number): void {
      shapes.checkTranspose(out, a, rows, cols);
      const av = values(own(a, 'a'));
      into(out, [a], (dst) => k.transpose(dst, av, rows, cols));
    },

    cast(out: TensorStore, a: TensorStore): void {
      shapes.checkSameSize(out, a);
      const av = values(own(a, 'a'));
      into(out, [a], (dst) => dst.set(av));
    },

    freeTensor(t: TensorStore): void {
      if (!(t instanceof CpuTensor) || t.owner !== self || t.data === null) return;
      t.data = null;
      used -= t.bytes;
    },

    async wait(): Promise<void> {
      if (closed) throw new AccelFailure('device-lost', 'the CPU device is closed');
    },

    close(): void {
      closed = true;
      used = 0;
    },
  };
}
