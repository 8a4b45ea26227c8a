/// <reference types="@webgpu/types" />
/**
 * A tsray:accel device on Dawn: raw WebGPU compute (./raw.ts) and the tensor
 * kernels (./tensors.ts) sharing one GPUDevice and its error guard.
 */
import { AccelFailure, type DeviceBackend, type DeviceLimits } from '../backend.js';
import { requestAdapters, requestDefaultAdapter, type OpenedAdapter } from './dawn.js';
import { DeviceGuard } from './guard.js';
import { RawDevice } from './raw.js';
import { GpuTensors } from './tensors.js';

export interface WebGpuDeviceOptions {
  /**
   * Device memory in bytes, as the node declares it. WebGPU does not say how
   * much memory an adapter has; without a declaration the adapter's largest
   * buffer size stands in, which is at least a lower bound.
   */
  memoryBytes?: number;
}

/** Limits asked of the adapter beyond WebGPU's defaults: as large as it allows. */
const RAISED: (keyof GPUSupportedLimits & keyof DeviceLimits)[] = ['maxStorageBufferBindingSize', 'maxBufferSize'];

/** Opens a GPUDevice on `opened.adapter`, with shader-f16 when the adapter has it. */
export async function createWebGpuDevice(opened: OpenedAdapter, opts: WebGpuDeviceOptions = {}): Promise<DeviceBackend> {
  const { adapter } = opened;
  const shaderF16 = adapter.features.has('shader-f16');
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED) requiredLimits[k] = adapter.limits[k];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: shaderF16 ? ['shader-f16'] : [],
      requiredLimits,
    });
  } catch (e) {
    throw new AccelFailure('device-lost', `the adapter gave no device: ${e instanceof Error ? e.message : String(e)}`);
  }
  const l = device.limits;
  const limits: DeviceLimits = {
    maxBufferSize: l.maxBufferSize,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupSizeZ: l.maxComputeWorkgroupSizeZ,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxBindGroups: l.maxBindGroups,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
  const guard = new DeviceGuard(device);
  const tensors = new GpuTensors(guard, limits);
  const raw = new RawDevice(guard, limits);
  const info = adapter.info;
  // Holding the Dawn instance keeps the adapter alive; close() lets both go.
  let instance: GPU | undefined = opened.gpu;

  return {
    description: {
      backend: 'webgpu',
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description || opened.entry?.name || '',
      shaderF16,
      memoryBytes: opts.memoryBytes ?? l.maxBufferSize,
    },
    limits,
    raw,
    tensorBytes: (dtype, elements) => tensors.tensorBytes(dtype, elements),
    allocTensor: (dtype, elements) => tensors.allocTensor(dtype, elements),
    upload: (t, data) => tensors.upload(t, data),
    download: (t) => tensors.download(t),
    matmul: (out, a, b, m, k, n) => tensors.matmul(out, a, b, m, k, n),
    binary: (op, out, a, b) => tensors.binary(op, out, a, b),
    scale: (out, a, factor) => tensors.scale(out, a, factor),
    reduce: (op, out, a, outer, n, inner) => tensors.reduce(op, out, a, outer, n, inner),
    transpose: (out, a, rows, cols) => tensors.transpose(out, a, rows, cols),
    cast: (out, a) => tensors.cast(out, a),
    freeTensor: (t) => tensors.freeTensor(t),

    async wait(): Promise<void> {
      guard.alive();
      await device.queue.onSubmittedWorkDone();
      await guard.settle();
    },

    close(): void {
      if (instance === undefined) return;
      guard.markLost('the device was closed');
      device.destroy();
      instance = undefined;
    },
  };
}

/**
 * Devices 0..count-1 of a node, device i on adapter i as far as Dawn can
 * tell adapters apart (see requestAdapters in ./dawn.ts); indexes that share
 * an adapter each get their own GPUDevice.
 */
export async function openWebGpuDevices(count: number, opts: WebGpuDeviceOptions = {}): Promise<DeviceBackend[]> {
  const adapters = count === 1 ? [await requestDefaultAdapter()] : await requestAdapters(count);
  const out: DeviceBackend[] = [];
  try {
    for (const a of adapters) out.push(await createWebGpuDevice(a, opts));
  } catch (e) {
    for (const d of out) d.close();
    throw e;
  }
  return out;
}
