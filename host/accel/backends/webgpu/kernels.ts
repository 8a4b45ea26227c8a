/**
 * WGSL for the tensor kernels. float32 tensors are `array<f32>`; float16
 * tensors are `array<u32>` with two IEEE halves per word (low half first),
 * converted by hand-written functions, so they need no `enable f16;` and work
 * on every device, with the same round-to-nearest-even as the host (../half.ts)
 * (the `pack2x16float` built-in leaves rounding and overflow to the driver).
 * All arithmetic is f32.
 *
 * Bindings: 0 = out (read_write), 1 = a, 2 = b, 3 = the Params uniform.
 * One-dimensional kernels run 64 invocations per workgroup and fold the
 * workgroup grid's y axis into the index, so sizes past 65535 workgroups
 * dispatch as a 2-D grid.
 */
import type { DType, ReduceOp } from '../backend.js';

/** Invocations per workgroup of the 1-D kernels. */
export const WG = 64;
/** Invocations per workgroup of the tree reduction. */
export const TREE_WG = 256;
/** Matmul tile edge. */
export const TILE = 16;

/** The uniform every kernel reads: `count` outputs (elements), dims d0..d2, a factor. 32 bytes. */
const PARAMS = `struct Params { count: u32, d0: u32, d1: u32, d2: u32, factor: f32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(3) var<uniform> p: Params;`;

const HALF = `fn half_to_f32(h: u32) -> f32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) { let v = f32(m) * 5.9604644775390625e-8; return select(v, -v, sign != 0u); }
  if (e == 31u) { return bitcast<f32>(sign | 0x7f800000u | (m << 13u)); }
  return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}
fn f32_to_half(x: f32) -> u32 {
  let bits = bitcast<u32>(x);
  let sign = (bits >> 16u) & 0x8000u;
  let exp = i32((bits >> 23u) & 0xffu);
  var mant = bits & 0x7fffffu;
  if (exp == 255) { return sign | 0x7c00u | select(0u, 0x200u | (mant >> 13u), mant != 0u); }
  let e = exp - 112;
  if (e >= 31) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    mant = mant | 0x800000u;
    let shift = u32(14 - e);
    var h = mant >> shift;
    let rem = mant & ((1u << shift) - 1u);
    let mid = 1u << (shift - 1u);
    if (rem > mid || (rem == mid && (h & 1u) == 1u)) { h = h + 1u; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return sign | h;
}`;

/** Declares input `name` at `binding` and `ld_name(i)`, its element i as f32. */
function input(name: string, binding: number, dtype: DType): string {
  if (dtype === 'float32') {
    return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;
fn ld_${name}(i: u32) -> f32 { return ${name}[i]; }`;
  }
  return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<u32>;
fn ld_${name}(i: u32) -> f32 { return half_to_f32((${name}[i >> 1u] >> ((i & 1u) * 16u)) & 0xffffu); }`;
}

function output(dtype: DType): string {
  return `@group(0) @binding(0) var<storage, read_write> out: array<${dtype === 'float32' ? 'f32' : 'u32'}>;`;
}

/**
 * A 1-D kernel: `value(i)` gives output element i. A float16 output is
 * written a word (two elements) per invocation, so no two invocations write
 * the same word.
 */
function elementwise(out: DType, inputs: [string, DType][], value: string): string {
  const store = out === 'float32'
    ? `if (w >= p.count) { return; }
  out[w] = value(w);`
    : `let i = w * 2u;
  if (i >= p.count) { return; }
  var hi = 0u;
  if (i + 1u < p.count) { hi = f32_to_half(value(i + 1u)); }
  out[w] = f32_to_half(value(i)) | (hi << 16u);`;
  return `${HALF}
${PARAMS}
${output(out)}
${inputs.map(([n, d], k) => input(n, k + 1, d)).join('\n')}
fn value(i: u32) -> f32 {
${value}
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let w = (wg.y * nwg.x + wg.x) * ${WG}u + li;
  ${store}
}`;
}

/** out[i] = a[i] op b[i % d0] (d0 = b's elements). */
export function binaryWgsl(op: 'add' | 'mul', out: DType, a: DType, b: DType): string {
  return elementwise(out, [['a', a], ['b', b]], `  return ld_a(i) ${op === 'add' ? '+' : '*'} ld_b(i % p.d0);`);
}

export function scaleWgsl(out: DType, a: DType): string {
  return elementwise(out, [['a', a]], '  return ld_a(i) * p.factor;');
}

export function castWgsl(out: DType, a: DType): string {
  return elementwise(out, [['a', a]], '  return ld_a(i);');
}

/** out[c, r] = a[r, c] with d0 = rows, d1 = cols. */
export function transposeWgsl(out: DType, a: DType): string {
  return elementwise(out, [['a', a]], '  let c = i / p.d0;\n  let r = i % p.d0;\n  return ld_a(r * p.d1 + c);');
}

function combine(op: ReduceOp, acc: string, v: string): string {
  return op === 'max' ? `max(${acc}, ${v})` : op === 'min' ? `min(${acc}, ${v})` : `${acc} + ${v}`;
}

/** One invocation per output over [outer, n, inner] with d0 = n, d1 = inner. */
export function reduceLoopWgsl(op: ReduceOp, out: DType, a: DType): string {
  return elementwise(out, [['a', a]], `  let o = i / p.d1;
  let j = i % p.d1;
  let base = o * p.d0 * p.d1 + j;
  var acc = ld_a(base);
  for (var t = 1u; t < p.d0; t = t + 1u) { acc = ${combine(op, 'acc', 'ld_a(base + t * p.d1)')}; }
  ${op === 'mean' ? 'return acc / f32(p.d0);' : 'return acc;'}`);
}

/**
 * One workgroup per row of [rows, n] (inner == 1): each invocation folds a
 * strided share of the row, then a shared-memory tree combines the shares.
 * Writes f32 (the backend casts afterwards for a float16 result).
 */
export function reduceTreeWgsl(op: ReduceOp, a: DType): string {
  return `${HALF}
${PARAMS}
${output('float32')}
${input('a', 1, a)}
var<workgroup> part: array<f32, ${TREE_WG}>;
@compute @workgroup_size(${TREE_WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg.y * nwg.x + wg.x;
  let live = row < p.count;
  let base = row * p.d0;
  var acc = ${op === 'max' || op === 'min' ? 'ld_a(base)' : '0.0'};
  if (live) {
    for (var t = li; t < p.d0; t = t + ${TREE_WG}u) { acc = ${combine(op, 'acc', 'ld_a(base + t)')}; }
  }
  part[li] = acc;
  for (var s = ${TREE_WG / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (li < s) { part[li] = ${combine(op, 'part[li]', 'part[li + s]')}; }
  }
  if (live && li == 0u) { out[row] = ${op === 'mean' ? 'part[0] / f32(p.d0)' : 'part[0]'}; }
}`;
}

/**
 * out[m, n] = a[m, k] x b[k, n] with d0 = m, d1 = k, d2 = n, in 16x16 tiles
 * staged in workgroup memory; edges load zeros, so any size works. Rows past
 * 65535 tiles continue on the grid's z axis. Writes f32.
 */
export function matmulWgsl(a: DType, b: DType): string {
  return `${HALF}
${PARAMS}
${output('float32')}
${input('a', 1, a)}
${input('b', 2, b)}
var<workgroup> ta: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> tb: array<array<f32, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m = p.d0;
  let k = p.d1;
  let n = p.d2;
  let row = (wg.z * nwg.y + wg.y) * ${TILE}u + lid.y;
  let col = wg.x * ${TILE}u + lid.x;
  var acc = 0.0;
  let tiles = (k + ${TILE - 1}u) / ${TILE}u;
  for (var t = 0u; t < tiles; t = t + 1u) {
    let ka = t * ${TILE}u + lid.x;
    var va = 0.0;
    if (row < m && ka < k) { va = ld_a(row * k + ka); }
    ta[lid.y][lid.x] = va;
    let kb = t * ${TILE}u + lid.y;
    var vb = 0.0;
    if (kb < k && col < n) { vb = ld_b(kb * n + col); }
    tb[lid.y][lid.x] = vb;
    workgroupBarrier();
    for (var q = 0u; q < ${TILE}u; q = q + 1u) { acc = acc + ta[lid.y][q] * tb[q][lid.x]; }
    workgroupBarrier();
  }
  if (row < m && col < n) { out[row * n + col] = acc; }
}`;
}
