/**
 * What a device backend does for tsray:accel: raw WebGPU compute objects
 * (only the WebGPU backend has them) and the tensor kernels every backend
 * has. Backends know nothing of tasks, budgets or ids handed to guests: the
 * scope layer (../scope.ts) charges every allocation against the task's budget
 * before asking the backend for it, and destroys what a task left behind.
 *
 * Everything here runs on the node's device thread. Methods that touch the
 * device's queue return at once; `read*` and `wait` wait for submitted work.
 * Failures throw `AccelFailure` with the WIT error code.
 */

/** The WIT `error-code` of tsray:accel/types. */
export type AccelErrorCode =
  | 'not-granted' | 'out-of-memory' | 'invalid-argument' | 'unsupported'
  | 'validation' | 'limit-exceeded' | 'device-lost';

/** A failed accelerator call; it reaches the guest as `accel-error`. */
export class AccelFailure extends Error {
  constructor(readonly code: AccelErrorCode, message: string) {
    super(message);
    this.name = 'AccelFailure';
  }
}

export type DType = 'float32' | 'float16';

/** Bytes per element. */
export const DTYPE_BYTES: Record<DType, number> = { float32: 4, float16: 2 };

/** What the node and guests learn about a device (the WIT `device-info`, less the per-task budget). */
export interface DeviceDescription {
  backend: 'webgpu' | 'cpu';
  vendor: string;
  architecture: string;
  description: string;
  shaderF16: boolean;
  /** Device memory in bytes as far as known (the node may declare it), for fractional budgets. */
  memoryBytes: number;
}

/** The WIT `device-limits`, camelCased. */
export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupSizeZ: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  maxBindGroups: number;
  maxStorageBuffersPerShaderStage: number;
}

/** WIT `buffer-usage` flags. */
export interface BufferUsage { copySrc?: boolean; copyDst?: boolean; uniform?: boolean; storage?: boolean }

/** Opaque backend objects; the scope layer keeps them in its tables. */
export type BufferObj = { readonly kind: 'buffer'; readonly size: number };
export type ShaderObj = { readonly kind: 'shader' };
export type PipelineObj = { readonly kind: 'pipeline' };
export type BindGroupObj = { readonly kind: 'bind-group' };
export type EncoderObj = { readonly kind: 'encoder' };
export type CommandsObj = { readonly kind: 'commands' };

/** A tensor's storage: `elements` values of `dtype`; `bytes` is what it costs the budget. */
export type TensorStore = { readonly kind: 'tensor'; readonly dtype: DType; readonly elements: number; readonly bytes: number };

export type ReduceOp = 'sum' | 'max' | 'min' | 'mean';

/** The raw compute part of tsray:accel/gpu (WebGPU only; the CPU backend throws `unsupported`). */
export interface RawCompute {
  createBuffer(size: number, usage: BufferUsage): BufferObj;
  writeBuffer(b: BufferObj, offset: number, data: Uint8Array): void;
  readBuffer(b: BufferObj, offset: number, size: number): Promise<Uint8Array>;
  destroyBuffer(b: BufferObj): void;
  /** Compiles WGSL; compilation errors throw `validation` with the compiler's messages. */
  createShaderModule(code: string): Promise<ShaderObj>;
  createComputePipeline(module: ShaderObj, entryPoint: string): Promise<PipelineObj>;
  createBindGroup(pipeline: PipelineObj, group: number, entries: { binding: number; buffer: BufferObj; offset: number; size?: number }[]): Promise<BindGroupObj>;
  createCommandEncoder(): EncoderObj;
  copyBufferToBuffer(e: EncoderObj, src: BufferObj, srcOffset: number, dst: BufferObj, dstOffset: number, size: number): void;
  dispatch(e: EncoderObj, pipeline: PipelineObj, groups: BindGroupObj[], x: number, y: number, z: number): void;
  finish(e: EncoderObj): CommandsObj;
  submit(commands: CommandsObj[]): void;
}

/**
 * Tensor kernels. Outputs are allocated by the caller with `allocTensor`
 * (after charging the budget) and passed in; shapes were checked by the caller.
 */
export interface TensorKernels {
  /** Bytes a tensor of `elements` values of `dtype` takes on this device (WebGPU rounds up to 4). */
  tensorBytes(dtype: DType, elements: number): number;
  allocTensor(dtype: DType, elements: number): TensorStore;
  /** Stores `data` converted to the tensor's dtype. */
  upload(t: TensorStore, data: Float32Array): void;
  /** Its elements as f32 (waits for submitted work). */
  download(t: TensorStore): Promise<Float32Array>;
  /** out[m, n] = a[m, k] x b[k, n]. */
  matmul(out: TensorStore, a: TensorStore, b: TensorStore, m: number, k: number, n: number): void;
  /** out[i] = a[i] op b[i % b.elements] (b broadcast over a's leading axes). */
  binary(op: 'add' | 'mul', out: TensorStore, a: TensorStore, b: TensorStore): void;
  scale(out: TensorStore, a: TensorStore, factor: number): void;
  /** a viewed as [outer, n, inner] reduced over the middle axis into out[outer, inner]. */
  reduce(op: ReduceOp, out: TensorStore, a: TensorStore, outer: number, n: number, inner: number): void;
  /** out[cols, rows] = a[rows, cols] transposed. */
  transpose(out: TensorStore, a: TensorStore, rows: number, cols: number): void;
  /** out = a converted to out's dtype. */
  cast(out: TensorStore, a: TensorStore): void;
  freeTensor(t: TensorStore): void;
}

/** One device as its backend drives it. */
export interface DeviceBackend extends TensorKernels {
  readonly description: DeviceDescription;
  readonly limits: DeviceLimits;
  /** Present on WebGPU devices only. */
  readonly raw?: RawCompute;
  /** Resolves when everything submitted so far has finished. */
  wait(): Promise<void>;
  /** Frees the device (node shutdown). */
  close(): void;
}
