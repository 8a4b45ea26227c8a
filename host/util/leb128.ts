/** Unsigned LEB128, the integer encoding of WebAssembly binaries. */
import { ComponentError } from '../errors.js';

/** Reads a u32 at `pos`; returns `[value, next position]`. */
export function readU32(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= bytes.length) throw new ComponentError('malformed binary: truncated LEB128 integer');
    const b = bytes[pos++]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 35) throw new ComponentError('malformed binary: LEB128 integer too long');
  }
}

export function writeU32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
