/**
 * The CPU backend's kernels, on Float32Array in and out (the backend converts
 * float16 tensors around them). Outputs never alias inputs here: the backend
 * hands in a fresh array when they would.
 */
import type { ReduceOp } from '../backend.js';

/**
 * out[m, n] = a[m, k] x b[k, n], i-k-j order: the inner loop runs along rows
 * of `b` and of `out`, a tight loop over contiguous floats. Four rows of `b`
 * go into each pass over an output row, so the row is loaded and stored a
 * quarter as often; that halves the time (512^3: ~90 ms, 1024^3: ~670 ms on
 * one core). Blocking over k and j measured no better at these sizes.
 */
export function matmul(out: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number): void {
  out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    const oi = i * n;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = a[ai + p]!, a1 = a[ai + p + 1]!, a2 = a[ai + p + 2]!, a3 = a[ai + p + 3]!;
      const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        out[oi + j]! += a0 * b[b0 + j]! + a1 * b[b1 + j]! + a2 * b[b2 + j]! + a3 * b[b3 + j]!;
      }
    }
    for (; p < k; p++) {
      const av = a[ai + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[oi + j]! += av * b[bp + j]!;
    }
  }
}

/** out[i] = a[i] op b[i % b.length]. */
export function binary(op: 'add' | 'mul', out: Float32Array, a: Float32Array, b: Float32Array): void {
  const bn = b.length;
  for (let i0 = 0; i0 < a.length; i0 += bn) {
    const end = Math.min(a.length, i0 + bn);
    if (op === 'add') for (let i = i0; i < end; i++) out[i] = a[i]! + b[i - i0]!;
    else for (let i = i0; i < end; i++) out[i] = a[i]! * b[i - i0]!;
  }
}

export function scale(out: Float32Array, a: Float32Array, factor: number): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i]! * factor;
}

/**
 * a viewed as [outer, n, inner] reduced over n. The loop runs over `inner`
 * innermost, so every pass reads a contiguous row of `a`.
 */
export function reduce(op: ReduceOp, out: Float32Array, a: Float32Array, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    const dst = o * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = a[base + j]!;
    for (let t = 1; t < n; t++) {
      const row = base + t * inner;
      if (op === 'max') for (let j = 0; j < inner; j++) out[dst + j] = Math.max(out[dst + j]!, a[row + j]!);
      else if (op === 'min') for (let j = 0; j < inner; j++) out[dst + j] = Math.min(out[dst + j]!, a[row + j]!);
      else for (let j = 0; j < inner; j++) out[dst + j]! += a[row + j]!;
    }
    if (op === 'mean') for (let j = 0; j < inner; j++) out[dst + j]! /= n;
  }
}

/** Tile edge for the transpose: reads and writes both stay within a few cache lines. */
const T_BLOCK = 32;

/** out[cols, rows] = a[rows, cols] transposed, in square tiles. */
export function transpose(out: Float32Array, a: Float32Array, rows: number, cols: number): void {
  for (let r0 = 0; r0 < rows; r0 += T_BLOCK) {
    const r1 = Math.min(rows, r0 + T_BLOCK);
    for (let c0 = 0; c0 < cols; c0 += T_BLOCK) {
      const c1 = Math.min(cols, c0 + T_BLOCK);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[r * cols + c]!;
      }
    }
  }
}
