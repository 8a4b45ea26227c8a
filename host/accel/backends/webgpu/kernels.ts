/**
 * WGSL sources of the tensor kernels, all on f32 storage: a float16 tensor
 * is unpacked to f32, computed, and packed again (`pack2x16float` needs no
 * f16 extension, so float16 works on every adapter). One invocation per
 * output element unless said otherwise; large 1-D launches use a 2-D grid.
 */

export const WG = 64;
/** Workgroups per grid row: a 1-D launch of n elements spans ceil(n / WG / ROW) rows. */
export const ROW = 32768;

const INDEX = `
fn gid(id: vec3<u32>) -> u32 { return id.y * ${ROW * WG}u + id.x; }`;

/** `p` holds u32 dims; factors travel as bitcast u32. */
const PARAMS = `struct P { a: u32, b: u32, c: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: P;`;

export const KERNELS = {
  /** out[m, n] = x[m, k] * y[k, n], 16x16 tiles in workgroup memory. */
  matmul: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
var<workgroup> tx: array<array<f32, 16>, 16>;
var<workgroup> ty: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let m = p.a; let k = p.b; let n = p.c;
  let row = g.y; let col = g.x;
  var acc = 0.0;
  let tiles = (k + 15u) / 16u;
  for (var t = 0u; t < tiles; t++) {
    let xc = t * 16u + l.x;
    let yr = t * 16u + l.y;
    tx[l.y][l.x] = select(0.0, x[row * k + xc], row < m && xc < k);
    ty[l.y][l.x] = select(0.0, y[yr * n + col], yr < k && col < n);
    workgroupBarrier();
    for (var i = 0u; i < 16u; i++) { acc += tx[l.y][i] * ty[i][l.x]; }
    workgroupBarrier();
  }
  if (row < m && col < n) { out[row * n + col] = acc; }
}`,
  /** out[i] = x[i] op y[i % p.b]; p.c: 0 add, 1 mul. */
  binary: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = gid(id);
  if (i >= p.a) { return; }
  let v = y[i % p.b];
  out[i] = select(x[i] + v, x[i] * v, p.c == 1u);
}`,
  /** out[i] = x[i] * bitcast<f32>(p.b). */
  scale: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = gid(id);
  if (i >= p.a) { return; }
  out[i] = x[i] * bitcast<f32>(p.b);
}`,
  /** x as [outer, n, inner] reduced over n into out[outer, inner]; p.d: 0 sum, 1 mean, 2 max, 3 min; p.a = outer * inner. */
  reduce: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = gid(id);
  if (i >= p.a) { return; }
  let n = p.b; let inner = p.c;
  let o = i / inner; let q = i % inner;
  var acc = x[(o * n) * inner + q];
  for (var j = 1u; j < n; j++) {
    let v = x[(o * n + j) * inner + q];
    if (p.d <= 1u) { acc += v; } else if (p.d == 2u) { acc = max(acc, v); } else { acc = min(acc, v); }
  }
  if (p.d == 1u) { acc = acc / f32(n); }
  out[i] = acc;
}`,
  /** out[c, r] = x[r, c]; p.a = rows * cols, p.b = rows, p.c = cols. */
  transpose: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = gid(id);
  if (i >= p.a) { return; }
  let r = i / p.c; let c = i % p.c;
  out[c * p.b + r] = x[i];
}`,
  /** Packed halves (p.a elements) -> f32. */
  unpack: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = gid(id);
  if (i >= p.a) { return; }
  let w = unpack2x16float(x[i / 2u]);
  out[i] = select(w.x, w.y, (i & 1u) == 1u);
}`,
  /** f32 (p.a elements) -> packed halves, one invocation per word. */
  pack: `${PARAMS}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;${INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let w = gid(id);
  let i = w * 2u;
  if (i >= p.a) { return; }
  let hi = select(0.0, x[min(i + 1u, p.a - 1u)], i + 1u < p.a);
  out[w] = pack2x16float(vec2<f32>(x[i], hi));
}`,
} as const;

export type KernelName = keyof typeof KERNELS;
