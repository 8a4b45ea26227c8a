/// <reference types="@webgpu/types" />
/**
 * The tensor kernels on a Dawn device. A tensor is one storage buffer (float16:
 * two halves per u32 word, so sizes round up to 4 bytes). Each kernel call
 * encodes one compute pass and submits it at once; pipelines are compiled on
 * first use and cached per device. Scratch buffers (uniforms, f32
 * intermediates for float16 results) are destroyed right after submission,
 * which WebGPU defers until the work using them has finished.
 */
import {
  AccelFailure, DTYPE_BYTES,
  type DType, type DeviceLimits, type ReduceOp, type TensorKernels, type TensorStore,
} from '../backend.js';
import { decodeHalves, encodeHalves } from '../half.js';
import * as shapes from '../shapes.js';
import type { DeviceGuard } from './guard.js';
import * as wgsl from './kernels.js';
import { readBack } from './readback.js';
import { COPY_DST, COPY_SRC, STORAGE, UNIFORM, plainBytes, roundUp4 } from './usage.js';

/** Row length from which a reduction with inner == 1 uses the workgroup tree. */
export const TREE_MIN = 1024;

class GpuTensor implements TensorStore {
  readonly kind = 'tensor';
  freed = false;
  constructor(readonly owner: GpuTensors, readonly dtype: DType, readonly elements: number,
    readonly bytes: number, readonly buffer: GPUBuffer) {}
}

/** Numbers for the kernels' Params uniform. */
interface Params { count: number; d0?: number; d1?: number; d2?: number; factor?: number }

/** A buffer bound for one dispatch. */
type Binding = [binding: number, buffer: GPUBuffer];

export class GpuTensors implements TensorKernels {
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(private readonly guard: DeviceGuard, private readonly limits: DeviceLimits) {}

  private get device(): GPUDevice { return this.guard.device; }

  private own(t: TensorStore, what: string): GpuTensor {
    this.guard.alive();
    if (!(t instanceof GpuTensor) || t.owner !== this) throw new AccelFailure('invalid-argument', `${what} is not a tensor of this device`);
    if (t.freed) throw new AccelFailure('invalid-argument', `${what} was freed`);
    return t;
  }

  tensorBytes(dtype: DType, elements: number): number {
    return roundUp4(elements * DTYPE_BYTES[dtype]);
  }

  allocTensor(dtype: DType, elements: number): TensorStore {
    shapes.count('elements', elements);
    const bytes = this.tensorBytes(dtype, elements);
    if (bytes > this.limits.maxStorageBufferBindingSize) {
      throw new AccelFailure('limit-exceeded', `a tensor of ${bytes} bytes passes the device's binding limit of ${this.limits.maxStorageBufferBindingSize}`);
    }
    const buffer = this.guard.sync(() => this.device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC | COPY_DST }));
    return new GpuTensor(this, dtype, elements, bytes, buffer);
  }

  upload(t: TensorStore, data: Float32Array): void {
    const g = this.own(t, 'tensor');
    shapes.checkUpload(g, data);
    let bytes: Uint8Array;
    if (g.dtype === 'float32') {
      bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } else {
      const halves = new Uint16Array(g.bytes / 2);
      encodeHalves(data, halves);
      bytes = new Uint8Array(halves.buffer);
    }
    if (bytes.byteLength === 0) return;
    this.guard.sync(() => this.device.queue.writeBuffer(g.buffer, 0, plainBytes(bytes), 0, bytes.byteLength));
  }

  async download(t: TensorStore): Promise<Float32Array> {
    const g = this.own(t, 'tensor');
    const bytes = await readBack(this.guard, g.buffer, 0, g.bytes);
    return g.dtype === 'float32'
      ? new Float32Array(bytes.buffer, 0, g.elements)
      : decodeHalves(new Uint16Array(bytes.buffer), g.elements);
  }

  freeTensor(t: TensorStore): void {
    if (!(t instanceof GpuTensor) || t.owner !== this || t.freed) return;
    t.freed = true;
    if (!this.guard.lost) this.guard.sync(() => t.buffer.destroy());
  }

  /** The cached pipeline for `key`, compiling `code` on first use. */
  private pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: code() });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Workgroups for `groups` of 1-D work: a row of up to the per-dimension limit, then more rows. */
  private grid(groups: number): [number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.max(1, Math.min(groups, max));
    const y = Math.ceil(groups / x);
    if (y > max) throw new AccelFailure('limit-exceeded', `${groups} workgroups are more than one dispatch can run`);
    return [x, Math.max(1, y)];
  }

  private scratch(bytes: number, usage: number): GPUBuffer {
    return this.device.createBuffer({ size: roundUp4(bytes), usage });
  }

  /**
   * Encodes and submits one dispatch of `pipeline` with `bindings` and the
   * Params uniform, inside the guard's error scopes. `after` may add copies.
   */
  private run(pipeline: GPUComputePipeline, bindings: Binding[], params: Params, grid: [number, number, number],
    after?: (enc: GPUCommandEncoder) => void): void {
    const u = new ArrayBuffer(32);
    new Uint32Array(u, 0, 4).set([params.count, params.d0 ?? 0, params.d1 ?? 0, params.d2 ?? 0]);
    new Float32Array(u, 16, 1)[0] = params.factor ?? 0;
    const uniform = this.scratch(32, UNIFORM | COPY_DST);
    this.device.queue.writeBuffer(uniform, 0, u);
    const group = this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...bindings, [3, uniform] as Binding].map(([binding, buffer]) => ({ binding, resource: { buffer } })),
    });
    const enc = this.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(...grid);
    pass.end();
    after?.(enc);
    this.device.queue.submit([enc.finish()]);
    uniform.destroy();
  }

  /**
   * Runs a kernel writing `out`: into its buffer directly, or, when `out` is
   * also an input (a buffer cannot be bound as both), into a scratch buffer
   * copied over afterwards.
   */
  private into(out: GpuTensor, inputs: GpuTensor[], kernel: (dst: GPUBuffer) => void): void {
    this.guard.sync(() => {
      if (out.elements === 0) return;
      if (!inputs.includes(out)) { kernel(out.buffer); return; }
      const tmp = this.scratch(out.bytes, STORAGE | COPY_SRC);
      kernel(tmp);
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(tmp, 0, out.buffer, 0, out.bytes);
      this.device.queue.submit([enc.finish()]);
      tmp.destroy();
    });
  }

  /** A 1-D elementwise kernel over `out`'s elements (a word, i.e. two float16 elements, per invocation). */
  private elementwise(key: string, code: () => string, out: GpuTensor, ins: GpuTensor[], params: Omit<Params, 'count'>): void {
    const words = out.dtype === 'float32' ? out.elements : Math.ceil(out.elements / 2);
    const [x, y] = this.grid(Math.ceil(words / wgsl.WG));
    this.into(out, ins, (dst) => {
      const p = this.pipeline(`${key}:${out.dtype}:${ins.map((i) => i.dtype).join(':')}`, code);
      this.run(p, [[0, dst], ...ins.map((t, i): Binding => [i + 1, t.buffer])], { count: out.elements, ...params }, [x, y, 1]);
    });
  }

  /**
   * Runs an f32-writing kernel for `out`: straight into a float32 `out`, or
   * into an f32 scratch buffer cast into a float16 one.
   */
  private viaF32(out: GpuTensor, ins: GpuTensor[], kernel: (dst: GPUBuffer) => void): void {
    if (out.dtype === 'float32') { this.into(out, ins, kernel); return; }
    this.guard.sync(() => {
      if (out.elements === 0) return;
      const tmp = this.scratch(out.elements * 4, STORAGE | COPY_SRC);
      kernel(tmp);
      const tmpTensor = new GpuTensor(this, 'float32', out.elements, out.elements * 4, tmp);
      this.elementwise('cast', () => wgsl.castWgsl('float16', 'float32'), out, [tmpTensor], {});
      tmp.destroy();
    });
  }

  matmul(out: TensorStore, a: TensorStore, b: TensorStore, m: number, k: number, n: number): void {
    shapes.checkMatmul(out, a, b, m, k, n);
    const [o, ga, gb] = [this.own(out, 'out'), this.own(a, 'a'), this.own(b, 'b')];
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const gx = Math.ceil(n / wgsl.TILE);
    const rows = Math.ceil(m / wgsl.TILE);
    const gy = Math.min(rows, max);
    const gz = Math.ceil(rows / Math.max(1, gy));
    if (gx > max || gz > max) throw new AccelFailure('limit-exceeded', `a ${m}x${n} result needs more workgroups than one dispatch runs`);
    if (k === 0) { this.fillZero(o); return; }
    this.viaF32(o, [ga, gb], (dst) => {
      const p = this.pipeline(`matmul:${ga.dtype}:${gb.dtype}`, () => wgsl.matmulWgsl(ga.dtype, gb.dtype));
      this.run(p, [[0, dst], [1, ga.buffer], [2, gb.buffer]], { count: m * n, d0: m, d1: k, d2: n }, [gx, Math.max(1, gy), Math.max(1, gz)]);
    });
  }

  private fillZero(o: GpuTensor): void {
    this.guard.sync(() => {
      const enc = this.device.createCommandEncoder();
      enc.clearBuffer(o.buffer);
      this.device.queue.submit([enc.finish()]);
    });
  }

  binary(op: 'add' | 'mul', out: TensorStore, a: TensorStore, b: TensorStore): void {
    shapes.checkBinary(out, a, b);
    const [o, ga, gb] = [this.own(out, 'out'), this.own(a, 'a'), this.own(b, 'b')];
    this.elementwise(op, () => wgsl.binaryWgsl(op, o.dtype, ga.dtype, gb.dtype), o, [ga, gb], { d0: gb.elements });
  }

  scale(out: TensorStore, a: TensorStore, factor: number): void {
    shapes.checkSameSize(out, a);
    const [o, ga] = [this.own(out, 'out'), this.own(a, 'a')];
    this.elementwise('scale', () => wgsl.scaleWgsl(o.dtype, ga.dtype), o, [ga], { factor });
  }

  cast(out: TensorStore, a: TensorStore): void {
    shapes.checkSameSize(out, a);
    const [o, ga] = [this.own(out, 'out'), this.own(a, 'a')];
    this.elementwise('cast', () => wgsl.castWgsl(o.dtype, ga.dtype), o, [ga], {});
  }

  transpose(out: TensorStore, a: TensorStore, rows: number, cols: number): void {
    shapes.checkTranspose(out, a, rows, cols);
    const [o, ga] = [this.own(out, 'out'), this.own(a, 'a')];
    this.elementwise('transpose', () => wgsl.transposeWgsl(o.dtype, ga.dtype), o, [ga], { d0: rows, d1: cols });
  }

  /**
   * Long rows (inner == 1, n at least TREE_MIN) use the workgroup tree, which
   * spreads each row over 256 invocations; otherwise one invocation per
   * output loops over n, which is already parallel enough when outputs are many.
   */
  reduce(op: ReduceOp, out: TensorStore, a: TensorStore, outer: number, n: number, inner: number): void {
    shapes.checkReduce(out, a, outer, n, inner);
    const [o, ga] = [this.own(out, 'out'), this.own(a, 'a')];
    if (inner !== 1 || n < TREE_MIN) {
      this.elementwise(`reduce-${op}`, () => wgsl.reduceLoopWgsl(op, o.dtype, ga.dtype), o, [ga], { d0: n, d1: inner });
      return;
    }
    const [x, y] = this.grid(outer);
    this.viaF32(o, [ga], (dst) => {
      const p = this.pipeline(`tree-${op}:${ga.dtype}`, () => wgsl.reduceTreeWgsl(op, ga.dtype));
      this.run(p, [[0, dst], [1, ga.buffer]], { count: outer, d0: n }, [x, y, 1]);
    });
  }
}
