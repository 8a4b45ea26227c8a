/**
 * Argument checks every backend runs before a kernel. The scope layer checks
 * shapes against the guest's tensors first; these checks keep a backend from
 * reading or writing past a tensor's storage if a caller gets it wrong, which
 * on the WebGPU backend would otherwise be silently clamped by the driver.
 */
import { AccelFailure, type TensorStore } from './backend.js';

function bad(message: string): never {
  throw new AccelFailure('invalid-argument', message);
}

/** A non-negative safe integer, or invalid-argument naming `what`. */
export function count(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer, not ${v}`);
}

function elements(what: string, t: TensorStore, want: number): void {
  if (t.elements !== want) bad(`${what} has ${t.elements} elements where ${want} are needed`);
}

export function checkMatmul(out: TensorStore, a: TensorStore, b: TensorStore, m: number, k: number, n: number): void {
  count('m', m); count('k', k); count('n', n);
  elements('a', a, m * k);
  elements('b', b, k * n);
  elements('out', out, m * n);
}

export function checkBinary(out: TensorStore, a: TensorStore, b: TensorStore): void {
  elements('out', out, a.elements);
  if (b.elements === 0 ? a.elements !== 0 : a.elements % b.elements !== 0) {
    bad(`b's ${b.elements} elements do not broadcast over a's ${a.elements}`);
  }
}

export function checkSameSize(out: TensorStore, a: TensorStore): void {
  elements('out', out, a.elements);
}

/** Reduction over [outer, n, inner]; an empty axis has no max or min, so n >= 1. */
export function checkReduce(out: TensorStore, a: TensorStore, outer: number, n: number, inner: number): void {
  count('outer', outer); count('n', n); count('inner', inner);
  if (n === 0) bad('cannot reduce over an empty axis');
  elements('a', a, outer * n * inner);
  elements('out', out, outer * inner);
}

export function checkTranspose(out: TensorStore, a: TensorStore, rows: number, cols: number): void {
  count('rows', rows); count('cols', cols);
  elements('a', a, rows * cols);
  elements('out', out, rows * cols);
}

/** Checks a float32 upload's length against the tensor. */
export function checkUpload(t: TensorStore, data: Float32Array): void {
  if (data.length !== t.elements) bad(`${data.length} values for a tensor of ${t.elements} elements`);
}
