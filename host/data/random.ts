/** A seeded random number generator (mulberry32), so a seeded shuffle orders rows the same every run. */
export function seeded(seed: number, stream: number): () => number {
  let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
