import { Result, ok, err } from "tsray";

export class Matrix {
  rows: u32 = 0;
  cols: u32 = 0;
  data: Float64Array = new Float64Array(0);
}

export function sum(m: Float64Array): f64 {
  let s = 0.0;
  for (let i = 0; i < m.length; i++) s += unchecked(m[i]);
  return s;
}

export function scale(m: Float64Array, k: f64): Float64Array {
  const out = new Float64Array(m.length);
  for (let i = 0; i < m.length; i++) unchecked(out[i] = m[i] * k);
  return out;
}

export function matmul(a: Matrix, b: Matrix): Result<Matrix, string> {
  if (a.cols != b.rows) {
    return err<Matrix, string>("cannot multiply " + a.rows.toString() + "x" + a.cols.toString() +
      " by " + b.rows.toString() + "x" + b.cols.toString());
  }
  if (<u64>a.data.length != <u64>a.rows * a.cols || <u64>b.data.length != <u64>b.rows * b.cols) {
    return err<Matrix, string>("data length does not match rows x cols");
  }
  const c = new Matrix();
  const n = a.rows, m = a.cols, p = b.cols;
  c.rows = n;
  c.cols = p;
  const out = new Float64Array(n * p);
  const ad = a.data, bd = b.data;
  for (let i: u32 = 0; i < n; i++) {
    for (let k: u32 = 0; k < m; k++) {
      const x = unchecked(ad[i * m + k]);
      const row = k * p, dst = i * p;
      for (let j: u32 = 0; j < p; j++) unchecked(out[dst + j] += x * bd[row + j]);
    }
  }
  c.data = out;
  return ok<Matrix, string>(c);
}

export function add(a: i32, b: i32): i32 {
  return a + b;
}

export function sumRows(m: Matrix, first: u32, count: u32): f64 {
  const end = min(first + count, m.rows);
  let s = 0.0;
  const d = m.data;
  for (let i = first * m.cols; i < end * m.cols; i++) s += unchecked(d[i]);
  return s;
}
