/// <reference types="@webgpu/types" />
/**
 * The WebGPU backend on Dawn: raw compute objects for guests' WGSL, and the
 * tensor kernels of kernels.ts. Every device call that can raise a WebGPU
 * validation error runs inside an error scope (or is checked first), so a
 * mistake becomes an `AccelFailure` for the call that made it, never an
 * uncaptured error or a silently wrong result.
 *
 * Device ids map to GPUDevices on Dawn's default adapter: Dawn offers no
 * enumeration of several adapters of one kind, so on a multi-GPU machine a
 * node should be started per GPU with `CUDA_VISIBLE_DEVICES` (as Ray's
 * workers are) for each id to be its own physical device.
 */
import {
  AccelFailure, type BufferObj, type BufferUsage, type DeviceBackend, type DeviceLimits, type DType, type EncoderObj,
  type RawCompute, type TensorStore, type CommandsObj, type PipelineObj, type ShaderObj, type BindGroupObj,
} from '../backend.js';
import { openAdapter } from './dawn.js';
import { KERNELS, ROW, WG, type KernelName } from './kernels.js';
import { fromHalf, toHalf } from '../half.js';
import { DEFAULT_DEVICE_MEMORY } from '../../limits.js';

type Buf = BufferObj & { gpu: GPUBuffer; destroyed?: boolean };
type Tensor = TensorStore & { gpu: GPUBuffer };

const round4 = (n: number): number => Math.ceil(n / 4) * 4;
/** Read-back staging buffers kept per device, and the largest kept. */
const STAGING_SPARES = 2;
const STAGING_KEEP_BYTES = 64 * 2 ** 20;

function bad(message: string): never {
  throw new AccelFailure('invalid-argument', message);
}

export async function openWebGpuDevices(count: number, opts: { memoryBytes?: number | undefined }): Promise<DeviceBackend[]> {
  const out: DeviceBackend[] = [];
  // An adapter makes one device: each id asks for its own.
  for (let i = 0; i < count; i++) out.push(await openDevice(await openAdapter(), opts.memoryBytes ?? DEFAULT_DEVICE_MEMORY));
  return out;
}

async function openDevice(adapter: GPUAdapter, memoryBytes: number): Promise<DeviceBackend> {
  const f16 = adapter.features.has('shader-f16');
  const device = await adapter.requestDevice({
    requiredFeatures: f16 ? ['shader-f16'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
    },
  });
  let lost: string | undefined;
  void device.lost.then((l) => { lost = l.message || l.reason; });
  const alive = (): void => { if (lost !== undefined) throw new AccelFailure('device-lost', `the device was lost: ${lost}`); };
  const l = device.limits;
  const limits: DeviceLimits = {
    maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX, maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ, maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension, maxBindGroups: l.maxBindGroups,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  const info = adapter.info;

  /** Runs `f` in a validation scope; an error becomes `validation` (the call's own fault). */
  const scoped = async <T>(what: string, f: () => T | Promise<T>): Promise<T> => {
    alive();
    device.pushErrorScope('validation');
    let v: T;
    try {
      v = await f();
    } catch (e) {
      await device.popErrorScope();
      throw new AccelFailure('validation', `${what}: ${(e as Error).message}`);
    }
    const err = await device.popErrorScope();
    if (err) throw new AccelFailure('validation', `${what}: ${err.message}`);
    return v;
  };

  const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  // Read-back staging buffers are kept for reuse: a new one costs an allocation and Dawn's zero-fill each time.
  const spare: GPUBuffer[] = [];
  const readBack = async (src: GPUBuffer, offset: number, size: number): Promise<Uint8Array> => {
    alive();
    const at = spare.findIndex((b) => b.size >= size);
    const staging = at >= 0 ? spare.splice(at, 1)[0]! : device.createBuffer({ size: Math.max(4, round4(size)), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    let keep = false;
    try {
      const enc = device.createCommandEncoder();
      if (size > 0) enc.copyBufferToBuffer(src, offset, staging, 0, size);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, round4(size)));
      const out = new Uint8Array(staging.getMappedRange(0, Math.max(4, round4(size))).slice(0, size));
      staging.unmap();
      keep = staging.size <= STAGING_KEEP_BYTES;
      return out;
    } finally {
      if (keep) { spare.push(staging); if (spare.length > STAGING_SPARES) spare.shift()!.destroy(); } else staging.destroy();
    }
  };

  const pipelines = new Map<KernelName, GPUComputePipeline>();
  const pipeline = (k: KernelName): GPUComputePipeline => {
    let p = pipelines.get(k);
    if (!p) pipelines.set(k, (p = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: KERNELS[k] }), entryPoint: 'main' } })));
    return p;
  };
  /** One kernel launch over `groups` (x, y) workgroups with dims `p` and buffers bound from 1. */
  const launch = (k: KernelName, p: number[], buffers: GPUBuffer[], groups: [number, number]): void => {
    alive();
    const params = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(params, 0, Uint32Array.from([p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0]));
    const pipe = pipeline(k);
    const bind = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: params } }, ...buffers.map((b, i) => ({ binding: i + 1, resource: { buffer: b } }))] });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(groups[0], groups[1]);
    pass.end();
    device.queue.submit([enc.finish()]);
    params.destroy();
  };
  const linear = (n: number): [number, number] => {
    const groups = Math.ceil(n / WG);
    return groups <= ROW ? [Math.max(1, groups), 1] : [ROW, Math.ceil(groups / ROW)];
  };
  const scratch = (elements: number): GPUBuffer => device.createBuffer({ size: round4(elements * 4), usage: STORAGE });
  /** The tensor's values as an f32 buffer (a scratch copy for float16, destroyed by `done`). */
  const f32Of = (t: TensorStore): GPUBuffer => {
    const g = (t as Tensor).gpu;
    if (t.dtype === 'float32') return g;
    const s = scratch(t.elements);
    launch('unpack', [t.elements], [g, s], linear(t.elements));
    return s;
  };
  /** Runs `compute` into an f32 buffer for `out`, packing to halves when `out` is float16. */
  const into = (out: TensorStore, compute: (dst: GPUBuffer) => void): void => {
    const o = (out as Tensor).gpu;
    const dst = out.dtype === 'float32' ? o : scratch(out.elements);
    compute(dst);
    if (dst !== o) { launch('pack', [out.elements], [dst, o], linear(Math.ceil(out.elements / 2))); dst.destroy(); }
  };

  const raw: RawCompute = {
    createBuffer(size: number, usage: BufferUsage): BufferObj {
      alive();
      let u = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
      if (usage.storage) u |= GPUBufferUsage.STORAGE;
      if (usage.uniform) u |= GPUBufferUsage.UNIFORM;
      if (!usage.storage && !usage.uniform) u |= GPUBufferUsage.STORAGE;
      return { kind: 'buffer', size, gpu: device.createBuffer({ size, usage: u }) } as Buf;
    },
    writeBuffer(b: BufferObj, offset: number, data: Uint8Array): void {
      alive();
      if (offset % 4 || data.byteLength % 4) bad(`write offset ${offset} and length ${data.byteLength} must be multiples of 4`);
      if (offset + data.byteLength > b.size) bad(`write of ${data.byteLength} bytes at ${offset} passes the end of a ${b.size}-byte buffer`);
      device.queue.writeBuffer((b as Buf).gpu, offset, data as Uint8Array<ArrayBuffer>); // arrives by postMessage: never shared
    },
    readBuffer(b: BufferObj, offset: number, size: number): Promise<Uint8Array> {
      if (offset % 4 || size % 4) bad(`read offset ${offset} and size ${size} must be multiples of 4`);
      if (offset + size > b.size) bad(`read of ${size} bytes at ${offset} passes the end of a ${b.size}-byte buffer`);
      return readBack((b as Buf).gpu, offset, size);
    },
    destroyBuffer(b: BufferObj): void {
      (b as Buf).gpu.destroy();
    },
    async createShaderModule(code: string): Promise<ShaderObj> {
      alive();
      if (/\benable\s+f16\b/.test(code) && !f16) throw new AccelFailure('unsupported', 'this adapter has no shader-f16: WGSL cannot enable f16 here (float16 tensors still work)');
      // In an error scope: Dawn would otherwise print the compiler's complaint as an uncaptured error.
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ code });
      const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      const scoped = await device.popErrorScope();
      if (errors.length) throw new AccelFailure('validation', `WGSL does not compile: ${errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join('; ')}`);
      if (scoped) throw new AccelFailure('validation', `WGSL does not compile: ${scoped.message}`);
      return { kind: 'shader', module } as ShaderObj;
    },
    createComputePipeline(m: ShaderObj, entryPoint: string): Promise<PipelineObj> {
      return scoped(`compute pipeline '${entryPoint}'`, async () => ({
        kind: 'pipeline', pipeline: await device.createComputePipelineAsync({ layout: 'auto', compute: { module: (m as unknown as { module: GPUShaderModule }).module, entryPoint } }),
      }) as PipelineObj);
    },
    createBindGroup(p: PipelineObj, group: number, entries): Promise<BindGroupObj> {
      return scoped(`bind group ${group}`, () => {
        for (const e of entries) if (e.offset + (e.size ?? 0) > e.buffer.size) bad(`binding ${e.binding} passes the end of its ${e.buffer.size}-byte buffer`);
        const layout = (p as unknown as { pipeline: GPUComputePipeline }).pipeline.getBindGroupLayout(group);
        return {
          kind: 'bind-group',
          group: device.createBindGroup({ layout, entries: entries.map((e) => ({ binding: e.binding, resource: { buffer: (e.buffer as Buf).gpu, offset: e.offset, ...(e.size !== undefined ? { size: e.size } : {}) } })) }),
        } as BindGroupObj;
      });
    },
    createCommandEncoder: (): EncoderObj => ({ kind: 'encoder', steps: [] }) as EncoderObj,
    copyBufferToBuffer(e, src, so, dst, dof, size): void {
      if (so % 4 || dof % 4 || size % 4) bad('copy offsets and size must be multiples of 4');
      if (so + size > src.size || dof + size > dst.size) bad('the copy passes the end of a buffer');
      (e as unknown as { steps: ((enc: GPUCommandEncoder) => void)[] }).steps.push((enc) => enc.copyBufferToBuffer((src as Buf).gpu, so, (dst as Buf).gpu, dof, size));
    },
    dispatch(e, p, groups, x, y, z): void {
      (e as unknown as { steps: ((enc: GPUCommandEncoder) => void)[] }).steps.push((enc) => {
        const pass = enc.beginComputePass();
        pass.setPipeline((p as unknown as { pipeline: GPUComputePipeline }).pipeline);
        groups.forEach((g, i) => pass.setBindGroup(i, (g as unknown as { group: GPUBindGroup }).group));
        pass.dispatchWorkgroups(x, y, z);
        pass.end();
      });
    },
    finish(e): CommandsObj {
      return { kind: 'commands', steps: (e as unknown as { steps: unknown[] }).steps } as CommandsObj;
    },
    submit(commands): void {
      // Encoded here, in one validation scope per submit: a bad dispatch is an error of this call.
      alive();
      device.pushErrorScope('validation');
      const enc = device.createCommandEncoder();
      for (const c of commands) for (const step of (c as unknown as { steps: ((enc: GPUCommandEncoder) => void)[] }).steps) step(enc);
      device.queue.submit([enc.finish()]);
      pendingCheck = device.popErrorScope().then((err) => (err ? err.message : undefined));
    },
  };
  let pendingCheck: Promise<string | undefined> | undefined;

  const backend: DeviceBackend = {
    description: {
      backend: 'webgpu', vendor: info.vendor || 'unknown', architecture: info.architecture || '', description: info.description || `${info.vendor} ${info.architecture}`.trim(),
      shaderF16: f16, memoryBytes,
    },
    limits,
    raw,
    tensorBytes: (dtype: DType, elements: number) => round4(elements * (dtype === 'float32' ? 4 : 2)),
    allocTensor(dtype: DType, elements: number): TensorStore {
      alive();
      const bytes = round4(elements * (dtype === 'float32' ? 4 : 2));
      if (bytes > limits.maxStorageBufferBindingSize) throw new AccelFailure('limit-exceeded', `a tensor of ${bytes} bytes passes this device's largest binding (${limits.maxStorageBufferBindingSize} bytes)`);
      return { kind: 'tensor', dtype, elements, bytes, gpu: device.createBuffer({ size: bytes, usage: STORAGE }) } as Tensor;
    },
    upload(t: TensorStore, data: Float32Array): void {
      alive();
      if (t.dtype === 'float32') { device.queue.writeBuffer((t as Tensor).gpu, 0, data as Float32Array<ArrayBuffer>); return; }
      const halves = new Uint16Array(round4(t.elements * 2) / 2);
      for (let i = 0; i < data.length; i++) halves[i] = toHalf(data[i]!);
      device.queue.writeBuffer((t as Tensor).gpu, 0, halves);
    },
    async download(t: TensorStore): Promise<Float32Array> {
      const bytes = await readBack((t as Tensor).gpu, 0, t.bytes);
      if (t.dtype === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, t.elements);
      const h = new Uint16Array(bytes.buffer, bytes.byteOffset, t.elements);
      const out = new Float32Array(t.elements);
      for (let i = 0; i < out.length; i++) out[i] = fromHalf(h[i]!);
      return out;
    },
    matmul(out, a, b, m, k, n) {
      const x = f32Of(a), y = f32Of(b);
      into(out, (dst) => launch('matmul', [m, k, n], [x, y, dst], [Math.ceil(n / 16), Math.ceil(m / 16)]));
      free(a, x); free(b, y);
    },
    binary(op, out, a, b) {
      const x = f32Of(a), y = f32Of(b);
      into(out, (dst) => launch('binary', [out.elements, b.elements, op === 'mul' ? 1 : 0], [x, y, dst], linear(out.elements)));
      free(a, x); free(b, y);
    },
    scale(out, a, factor) {
      const x = f32Of(a);
      const bits = new Uint32Array(Float32Array.of(factor).buffer)[0]!;
      into(out, (dst) => launch('scale', [out.elements, bits], [x, dst], linear(out.elements)));
      free(a, x);
    },
    reduce(op, out, a, outer, n, inner) {
      const x = f32Of(a);
      const code = { sum: 0, mean: 1, max: 2, min: 3 }[op];
      into(out, (dst) => launch('reduce', [outer * inner, n, inner, code], [x, dst], linear(outer * inner)));
      free(a, x);
    },
    transpose(out, a, rows, cols) {
      const x = f32Of(a);
      into(out, (dst) => launch('transpose', [rows * cols, rows, cols], [x, dst], linear(rows * cols)));
      free(a, x);
    },
    cast(out, a) {
      const x = f32Of(a);
      into(out, (dst) => {
        const enc = device.createCommandEncoder();
        enc.copyBufferToBuffer(x, 0, dst, 0, a.elements * 4);
        device.queue.submit([enc.finish()]);
      });
      free(a, x);
    },
    freeTensor(t) {
      (t as Tensor).gpu.destroy();
    },
    async wait() {
      alive();
      await device.queue.onSubmittedWorkDone();
      const err = await pendingCheck;
      pendingCheck = undefined;
      if (err) throw new AccelFailure('validation', `submitted work failed validation: ${err}`);
    },
    close() {
      device.destroy();
    },
  };
  /** Destroys the f32 scratch copy of a float16 input. */
  const free = (t: TensorStore, x: GPUBuffer): void => { if (x !== (t as Tensor).gpu) x.destroy(); };
  return backend;
}
