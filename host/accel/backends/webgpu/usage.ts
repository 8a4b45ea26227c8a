/**
 * WebGPU's buffer usage and map mode bits. They are fixed by the WebGPU
 * specification; dawn.node exposes them only on its `globals` object, so they
 * are spelled out here rather than read from Dawn after it loads.
 */
export const MAP_READ = 0x1;
export const COPY_SRC = 0x4;
export const COPY_DST = 0x8;
export const UNIFORM = 0x40;
export const STORAGE = 0x80;
export const MAP_MODE_READ = 0x1;

/** Rounds a byte count up to WebGPU's 4-byte copy granularity (at least 4: a buffer is never empty). */
export function roundUp4(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

/** `data` over a plain ArrayBuffer, copied if it sits in shared memory (WebGPU writes take no SharedArrayBuffer). */
export function plainBytes(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer ? data as Uint8Array<ArrayBuffer> : new Uint8Array(data);
}
