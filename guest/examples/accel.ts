// Accelerators from a task (world `accel` in wit/examples.wit): devices, tensors
// on the host's kernels, a raw WGSL shader, and device-memory budgets.
import { now, taskContext } from "tsray";
import { devices, Device, Buffer, BufferUsage, BindGroupEntry, Tensor, DType, ErrorCode, errorCodeName } from "tsray/accel";

export function gpuDevices(): Uint32Array {
  const list = devices();
  const ids = new Uint32Array(list.length);
  for (let i = 0; i < list.length; i++) ids[i] = list[i].id;
  return ids;
}

export function deviceBackend(id: u32): string {
  const device = Device.open(id);
  const backend = device.info().backend;
  device.drop();
  return backend;
}

export class MatmulReport {
  device: u32 = 0;
  backend: string = "";
  description: string = "";
  product: Float32Array = new Float32Array(0);
}

export function matmulGranted(m: u32, k: u32, n: u32, a: Float32Array, b: Float32Array): MatmulReport {
  const info = devices()[0];
  const r = new MatmulReport();
  r.device = info.id;
  r.backend = info.backend;
  r.description = info.description;
  r.product = tensorMatmul(info.id, m, k, n, a, b, 0);
  return r;
}

export function tensorMatmul(device: u32, m: u32, k: u32, n: u32, a: Float32Array, b: Float32Array, dtype: u8): Float32Array {
  const ta = Tensor.fromF32(device, [m, k], a, <DType>dtype);
  const tb = Tensor.fromF32(device, [k, n], b, <DType>dtype);
  const c = ta.matmul(tb);
  const out = c.toF32();
  ta.drop();
  tb.drop();
  c.drop();
  return out;
}

/** Appends `t`'s elements to `out` at `at` and drops it; returns the next offset. */
function take(out: Float32Array, at: i32, t: Tensor): i32 {
  const v = t.toF32();
  out.set(v, at);
  t.drop();
  return at + v.length;
}

export function tensorOps(device: u32, m: u32, n: u32, a: Float32Array, b: Float32Array): Float32Array {
  const ta = Tensor.fromF32(device, [m, n], a);
  const tb = Tensor.fromF32(device, [m, n], b);
  const size = <i32>(m * n);
  const out = new Float32Array(4 * size + 4 + 2 * <i32>(m + n));
  let at = take(out, 0, ta.add(tb));
  at = take(out, at, ta.mul(tb));
  at = take(out, at, ta.scale(2.5));
  at = take(out, at, ta.transpose());
  at = take(out, at, ta.sum());
  at = take(out, at, ta.mean());
  at = take(out, at, ta.max());
  at = take(out, at, ta.min());
  at = take(out, at, ta.sum(0));
  at = take(out, at, ta.mean(1));
  at = take(out, at, ta.max(0));
  at = take(out, at, ta.min(1));
  ta.drop();
  tb.drop();
  return out;
}

const DOUBLE_WGSL = `
@group(0) @binding(0) var<storage, read_write> data: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i < arrayLength(&data)) {
    data[i] = data[i] * 2.0;
  }
}
`;

export function wgslDouble(device: u32, data: Float32Array): Float32Array {
  if (data.length == 0) return new Float32Array(0);
  const d = Device.open(device);
  const bytes = <u64>data.byteLength;
  // the data goes in through a staging buffer and a copy, then is doubled in place
  const staging = d.createBuffer(bytes, BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
  const work = d.createBuffer(bytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
  staging.writeF32(0, data);
  const module = d.createShaderModule(DOUBLE_WGSL);
  const pipeline = d.createComputePipeline(module, "main");
  const group = d.createBindGroup(pipeline, 0, [BindGroupEntry.whole(0, work)]);
  const encoder = d.createCommandEncoder();
  encoder.copyBufferToBuffer(staging, 0, work, 0, bytes);
  encoder.dispatch(pipeline, [group], (<u32>data.length + 63) / 64);
  d.submit([encoder.finish()]);
  d.wait();
  const out = work.readF32(0, <u32>data.length);
  encoder.drop();
  group.drop();
  pipeline.drop();
  module.drop();
  staging.drop();
  work.drop();
  d.drop();
  return out;
}

export function wgslCompile(device: u32, code: string): string {
  const d = Device.open(device);
  let outcome = "ok";
  const m = d.tryCreateShaderModule(code);
  if (!m.isOk) outcome = errorCodeName(m.error.code) + ": " + m.error.message;
  else {
    const p = d.tryCreateComputePipeline(m.value, "main");
    if (!p.isOk) outcome = errorCodeName(p.error.code) + ": " + p.error.message;
    else p.value.drop();
    m.value.drop();
  }
  d.drop();
  return outcome;
}

export function allocBuffers(device: u32, bytes: u64, count: u32, handleOom: bool): u64 {
  const d = Device.open(device);
  // kept alive until the task ends, when the host frees them (no drop here on purpose)
  const held = new Array<Buffer>();
  let total: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (!handleOom) {
      held.push(d.createBuffer(bytes, BufferUsage.STORAGE)); // traps on any error
    } else {
      const r = d.tryCreateBuffer(bytes, BufferUsage.STORAGE);
      if (!r.isOk) {
        if (r.error.code == ErrorCode.OUT_OF_MEMORY) break;
        throw new Error(r.error.toString());
      }
      held.push(r.value);
    }
    total += bytes;
  }
  return total;
}

export function allocTensors(device: u32, elements: u32, count: u32, handleOom: bool): u64 {
  // kept alive until the task ends, when the host frees them (no drop here on purpose)
  const held = new Array<Tensor>();
  let total: u64 = 0;
  for (let i: u32 = 0; i < count; i++) {
    if (!handleOom) {
      held.push(Tensor.zeros(device, [elements])); // traps on any error
    } else {
      const r = Tensor.tryZeros(device, [elements]);
      if (!r.isOk) {
        if (r.error.code == ErrorCode.OUT_OF_MEMORY) break;
        throw new Error(r.error.toString());
      }
      held.push(r.value);
    }
    total += <u64>elements * 4;
  }
  return total;
}

export function holdThenSpin(device: u32, elements: u32, ms: u32): u64 {
  Tensor.zeros(device, [elements]); // never dropped: the host frees it when the task ends
  const start = now();
  while (ms == 0 || now() - start < <f64>ms) {}
  return <u64>elements * 4;
}

export function taskAcceleratorIds(): Uint32Array {
  return taskContext().acceleratorIds;
}

export function taskAccelerators(): string[] {
  const out = new Array<string>();
  const kinds = taskContext().accelerators;
  for (let i = 0; i < kinds.length; i++) {
    let line = kinds[i].kind;
    for (let j = 0; j < kinds[i].ids.length; j++) line += " " + kinds[i].ids[j].toString();
    out.push(line);
  }
  return out;
}

export function matmulRepeat(device: u32, n: u32, reps: u32): f64 {
  const data = new Float32Array(n * n);
  for (let i = 0; i < data.length; i++) data[i] = <f32>((i * 7919) % 1000) / 1000 - 0.5;
  const a = Tensor.fromF32(device, [n, n], data);
  const b = Tensor.fromF32(device, [n, n], data);
  const warm = a.matmul(b);
  warm.sum().toF32();
  warm.drop();
  const start = now();
  for (let r: u32 = 0; r < reps; r++) {
    const c = a.matmul(b);
    if (r == reps - 1) c.sum().toF32();
    c.drop();
  }
  const ms = now() - start;
  a.drop();
  b.drop();
  return ms;
}

export function transferRepeat(device: u32, bytes: u32, reps: u32): f64 {
  const d = Device.open(device);
  const buf = d.createBuffer(bytes, BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC);
  const data = new Uint8Array(bytes);
  for (let i: u32 = 0; i < bytes; i++) data[i] = <u8>i;
  buf.write(0, data);
  buf.read(0, bytes);
  const start = now();
  for (let r: u32 = 0; r < reps; r++) {
    buf.write(0, data);
    buf.read(0, bytes);
  }
  const ms = now() - start;
  buf.drop();
  d.drop();
  return ms;
}

export function matmulPlain(m: u32, k: u32, n: u32, a: Float32Array, b: Float32Array): Float32Array {
  if (<u64>a.length != <u64>m * k || <u64>b.length != <u64>k * n) throw new Error("matmul-plain: data length does not match the shapes");
  const out = new Float32Array(m * n);
  for (let i: u32 = 0; i < m; i++) {
    const dst = i * n;
    for (let p: u32 = 0; p < k; p++) {
      const x = unchecked(a[i * k + p]);
      const row = p * n;
      for (let j: u32 = 0; j < n; j++) unchecked(out[dst + j] += x * b[row + j]);
    }
  }
  return out;
}

/** An actor's device state: a running total that lives on the GPU between calls. */
export class Accumulator {
  private total: Tensor;
  private device: u32;

  constructor(device: u32, n: u32) {
    this.device = device;
    this.total = Tensor.zeros(device, [n]);
  }

  add(values: Float32Array): Float32Array {
    const v = Tensor.fromF32(this.device, [<u32>values.length], values);
    const next = this.total.add(v);
    v.drop();
    this.total.drop();
    this.total = next;
    return next.toF32();
  }

  crash(): void {
    throw new Error("accumulator crashed on purpose");
  }
}
