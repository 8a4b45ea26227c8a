/**
 * Which backend drives the node's devices: `webgpu` needs a Dawn adapter
 * (a real GPU, or the software one the node was pointed at), `cpu` is the
 * host's own kernels, and `auto` takes WebGPU when Dawn finds an adapter and
 * the CPU backend otherwise.
 */
import type { DeviceBackend } from './backends/backend.js';
import { createCpuDevice } from './backends/cpu/backend.js';
import { DEFAULT_DEVICE_MEMORY } from './limits.js';
import { hasVulkanDriver } from './backends/webgpu/dawn.js';

export type BackendChoice = 'auto' | 'webgpu' | 'cpu';

export async function openBackends(count: number, choice: BackendChoice, memoryBytes: number | undefined): Promise<DeviceBackend[]> {
  const cpu = (): DeviceBackend[] => Array.from({ length: count }, () => createCpuDevice({ memoryBytes: memoryBytes ?? DEFAULT_DEVICE_MEMORY }));
  if (choice === 'cpu' || count === 0 || (choice === 'auto' && !hasVulkanDriver())) return cpu();
  try {
    const { openWebGpuDevices } = await import('./backends/webgpu/backend.js');
    return await openWebGpuDevices(count, { memoryBytes: memoryBytes ?? DEFAULT_DEVICE_MEMORY });
  } catch (e) {
    if (choice === 'webgpu') throw new Error(`no WebGPU device: ${(e as Error).message}`);
    return cpu();
  }
}
