// One Monte Carlo task: counts random points inside the quarter circle.
// A small xorshift generator keeps each task deterministic for its seed.
export function hits(samples: u32, seed: u64): u32 {
  let x: u64 = seed * 0x9E3779B97F4A7C15 + 1;
  let inside: u32 = 0;
  const scale = 1.0 / <f64>(<u64>1 << 53);
  for (let i: u32 = 0; i < samples; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    const a = <f64>(x >> 11) * scale;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    const b = <f64>(x >> 11) * scale;
    if (a * a + b * b <= 1.0) inside++;
  }
  return inside;
}
