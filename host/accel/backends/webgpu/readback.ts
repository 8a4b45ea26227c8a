/// <reference types="@webgpu/types" />
/**
 * Reading device memory back: storage buffers cannot be mapped, so bytes go
 * through a MAP_READ staging buffer copied after everything already queued.
 */
import { AccelFailure } from '../backend.js';
import type { DeviceGuard } from './guard.js';
import { COPY_DST, MAP_MODE_READ, MAP_READ } from './usage.js';

/** `size` bytes of `src` at `offset` (both multiples of 4, checked by the caller) once submitted work is done. */
export async function readBack(guard: DeviceGuard, src: GPUBuffer, offset: number, size: number): Promise<Uint8Array> {
  await guard.settle();
  if (size === 0) return new Uint8Array(0);
  const device = guard.device;
  const staging = guard.sync(() => {
    const s = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(src, offset, s, 0, size);
    device.queue.submit([enc.finish()]);
    return s;
  });
  try {
    await guard.settle();
    await staging.mapAsync(MAP_MODE_READ).catch((e: unknown) => {
      guard.alive();
      throw new AccelFailure('device-lost', `reading device memory failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    const bytes = new Uint8Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return bytes;
  } finally {
    staging.destroy();
  }
}
