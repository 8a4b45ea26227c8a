/**
 * IEEE 754 binary16 <-> binary32 conversion on the host. Both backends store
 * float16 tensors as raw halves (the WebGPU backend packs two per u32 word),
 * so uploads and downloads convert here; the CPU backend computes in f32.
 * f32 -> f16 rounds to nearest, ties to even, as hardware casts do, so a
 * value rounds the same whichever backend holds it.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half bits nearest to `x` (overflow gives infinity, NaN stays NaN). */
export function toHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // A subnormal half (or zero): below half the smallest subnormal it rounds to 0.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (h & 1) === 1)) h++;
    return sign | h;
  }
  // A carry out of the mantissa moves into the exponent, up to infinity: still correct.
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

let table: Float32Array | undefined;

/** Every half's f32 value, built once: decoding is then one lookup per element. */
function halfTable(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    table[h] = e === 0 ? sign * m * 2 ** -24
      : e === 31 ? (m !== 0 ? NaN : sign * Infinity)
        : sign * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
}

/** The f32 value of half bits `h`. */
export function fromHalf(h: number): number {
  return halfTable()[h & 0xffff]!;
}

/** Writes `src` as halves into `dst` (which may be longer: the rest is left alone). */
export function encodeHalves(src: Float32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = toHalf(src[i]!);
}

/** The first `count` halves of `src` as f32. */
export function decodeHalves(src: Uint16Array, count: number = src.length): Float32Array {
  const t = halfTable();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = t[src[i]!]!;
  return out;
}
