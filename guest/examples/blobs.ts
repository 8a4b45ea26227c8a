import { sleep, taskContext } from "tsray";

export function fill(len: u32, seed: u32): Uint8Array {
  const out = new Uint8Array(len);
  let x: u32 = seed | 1;
  let i: u32 = 0;
  for (; i + 4 <= len; i += 4) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    store<u32>(out.dataStart + i, x);
  }
  for (; i < len; i++) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    unchecked(out[i] = <u8>x);
  }
  return out;
}

export function checksum(data: Uint8Array): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < data.length; i++) {
    h ^= unchecked(data[i]);
    h *= 16777619;
  }
  return h;
}

export function size(data: Uint8Array): u32 {
  return data.length;
}

export function hold(data: Uint8Array, ms: u32): u32 {
  sleep(ms);
  return checksum(data);
}

export function locate(data: Uint8Array): string {
  return taskContext().nodeId + " " + data.length.toString();
}
