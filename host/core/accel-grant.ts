/**
 * What a task or actor may use through tsray:accel, from its lease: the GPU
 * ids it was given and its share of each (the device-memory budget is that
 * share of the device's memory, or `acceleratorMemory` when declared).
 */
import type { DeviceIds, ResourceSet } from './resources.js';
import type { AccelGrant } from '../accel/protocol.js';

export type { AccelGrant };

/** The grant of a lease, or undefined when it holds no GPU. */
export function accelGrant(request: ResourceSet, devices: DeviceIds, acceleratorMemory?: number): AccelGrant | undefined {
  const ids = devices.GPU;
  if (!ids?.length) return undefined;
  const gpus = request.GPU ?? 0;
  return { ids, share: gpus < 1 ? gpus : 1, ...(acceleratorMemory !== undefined ? { memory: acceleratorMemory } : {}) };
}

/** `{ accel }` for a worker message, or nothing when the lease holds no GPU. */
export function accelField(request: ResourceSet, devices: DeviceIds, acceleratorMemory?: number): { accel?: AccelGrant } {
  const accel = accelGrant(request, devices, acceleratorMemory);
  return accel ? { accel } : {};
}
