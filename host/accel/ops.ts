/**
 * The device thread's side of every tsray:accel call: checks arguments
 * against the scope (granted devices, live objects, budget, limits) and then
 * asks the device's backend. Arguments were already converted by the
 * worker's guest API (u64 -> number); nothing here trusts them further.
 */
import {
  AccelFailure, type BufferObj, type BufferUsage, type CommandsObj, type DType, type EncoderObj,
  type PipelineObj, type ReduceOp, type ShaderObj, type TensorStore, type BindGroupObj, type RawCompute,
} from './backends/backend.js';
import { MAX_ELEMENTS, MAX_ENTRIES, MAX_RANK, MAX_SHADER_BYTES, MAX_SUBMIT } from './limits.js';
import type { NodeDevice, Scope } from './scope.js';

type Op = (s: Scope, args: unknown[]) => unknown;

/** A tensor as the scope holds it. */
interface TensorObj { store: TensorStore; shape: number[] }

function fail(message: string): never {
  throw new AccelFailure('invalid-argument', message);
}

/** A backend's failure, naming the device (tasks together may fill a device before any one passes its budget). */
function onDevice(d: NodeDevice, e: unknown): unknown {
  return e instanceof AccelFailure ? new AccelFailure(e.code, `device ${d.id} (${d.backend.description.backend}): ${e.message}`) : e;
}

function int(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) fail(`${what} must be a whole number from 0 to ${max}, not ${String(v)}`);
  return v;
}

function raw(d: NodeDevice): RawCompute {
  if (!d.backend.raw) throw new AccelFailure('unsupported', `device ${d.id} runs on the ${d.backend.description.backend} backend, which has no raw WebGPU: use tsray:accel/tensor, or run on a node with a WebGPU adapter`);
  return d.backend.raw;
}

function dtypeOf(v: unknown): DType {
  if (v === 'float32' || v === 'float16') return v;
  return fail(`unknown dtype ${String(v)}`);
}

function shapeOf(v: unknown): number[] {
  if (!Array.isArray(v) && !(v instanceof Uint32Array)) fail('shape must be a list of u32');
  const shape = Array.from(v as ArrayLike<number>);
  if (shape.length === 0 || shape.length > MAX_RANK) fail(`a tensor has 1 to ${MAX_RANK} axes, not ${shape.length}`);
  let n = 1;
  for (const x of shape) n *= int(x, 'an axis length', MAX_ELEMENTS);
  if (n === 0 || n > MAX_ELEMENTS) fail(`a tensor holds 1 to ${MAX_ELEMENTS} elements, not ${n}`);
  return shape;
}

const count = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Charges, allocates and registers a tensor of `shape` on `d`. */
function newTensor(s: Scope, d: NodeDevice, dtype: DType, shape: number[]): { id: number; t: TensorObj } {
  const n = count(shape);
  const bytes = d.backend.tensorBytes(dtype, n);
  s.charge(d, bytes);
  let store: TensorStore;
  try {
    store = d.backend.allocTensor(dtype, n);
  } catch (e) {
    s.refund(d, bytes);
    throw onDevice(d, e);
  }
  const t: TensorObj = { store, shape };
  return { id: s.add({ kind: 'tensor', device: d, obj: t, bytes }), t };
}

/** The result a tensor op hands back: its id and what the guest caches about it. */
const tensorValue = (id: number, t: TensorObj, d: NodeDevice) => ({ id, shape: t.shape, dtype: t.store.dtype, device: d.id });

/** Two tensors of one scope on one device. */
function pair(s: Scope, a: unknown, b: unknown): { d: NodeDevice; x: TensorObj; y: TensorObj } {
  const x = s.get<TensorObj>(a, 'tensor');
  const y = s.get<TensorObj>(b, 'tensor');
  if (x.device !== y.device) fail(`tensors live on devices ${x.device.id} and ${y.device.id}; move data between devices through the guest`);
  return { d: x.device, x: x.obj, y: y.obj };
}

function reduce(op: ReduceOp): Op {
  return (s, [id, axis]) => {
    const h = s.get<TensorObj>(id, 'tensor');
    const shape = h.obj.shape;
    let outer = 1, n = count(shape), inner = 1, out = [1];
    if (axis !== null && axis !== undefined) {
      const a = int(axis, 'axis', shape.length - 1);
      outer = count(shape.slice(0, a)); n = shape[a]!; inner = count(shape.slice(a + 1));
      out = shape.filter((_, i) => i !== a);
      if (out.length === 0) out = [1];
    }
    const r = newTensor(s, h.device, h.obj.store.dtype, out);
    h.device.backend.reduce(op, r.t.store, h.obj.store, outer, n, inner);
    return tensorValue(r.id, r.t, h.device);
  };
}

function binary(op: 'add' | 'mul'): Op {
  return (s, [a, b]) => {
    const { d, x, y } = pair(s, a, b);
    const suffix = x.shape.slice(x.shape.length - y.shape.length);
    if (y.shape.length > x.shape.length || suffix.some((v, i) => v !== y.shape[i])) fail(`cannot ${op} shape [${y.shape}] to [${x.shape}]: the right side's shape must equal the left's or a suffix of it`);
    if (x.store.dtype !== y.store.dtype) fail(`dtypes differ (${x.store.dtype}, ${y.store.dtype}); cast one first`);
    const r = newTensor(s, d, x.store.dtype, x.shape);
    d.backend.binary(op, r.t.store, x.store, y.store);
    return tensorValue(r.id, r.t, d);
  };
}

export const OPS: Record<string, Op> = {
  devices: (s) => s.granted().map((d) => d.id),
  'device.open': (s, [id]) => { const d = s.device(int(id, 'device id', 2 ** 32 - 1)); return s.add({ kind: 'device', device: d, obj: d, bytes: 0 }); },
  'device.describe': (s, [id]) => {
    const d = s.device(int(id, 'device id', 2 ** 32 - 1));
    const { backend, vendor, architecture, description, shaderF16 } = d.backend.description;
    return { info: { id: d.id, backend, vendor, architecture, description, memoryBudget: s.budget(d), shaderF16 }, limits: d.backend.limits };
  },
  'device.memory-used': (s, [dev]) => s.usedBytes(s.get(dev, 'device').device),
  'device.create-buffer': (s, [dev, size, usage]) => {
    const d = s.get(dev, 'device').device;
    const n = int(size, 'buffer size', d.backend.limits.maxBufferSize);
    if (n % 4 !== 0 || n === 0) fail(`buffer size ${n} must be a positive multiple of 4`);
    const r = raw(d);
    s.charge(d, n);
    let b: BufferObj;
    try {
      b = r.createBuffer(n, usage as BufferUsage);
    } catch (e) {
      s.refund(d, n);
      throw onDevice(d, e);
    }
    return s.add({ kind: 'buffer', device: d, obj: b, bytes: n });
  },
  'device.create-shader-module': async (s, [dev, code]) => {
    const d = s.get(dev, 'device').device;
    if (typeof code !== 'string' || Buffer.byteLength(code) > MAX_SHADER_BYTES) throw new AccelFailure('limit-exceeded', `WGSL source is limited to ${MAX_SHADER_BYTES} bytes`);
    const m = await raw(d).createShaderModule(code);
    return s.add({ kind: 'shader', device: d, obj: m, bytes: 0 });
  },
  'device.create-compute-pipeline': async (s, [dev, mod, entry]) => {
    const d = s.get(dev, 'device').device;
    const m = s.get<ShaderObj>(mod, 'shader');
    if (m.device !== d) fail('the shader module belongs to another device');
    const p = await raw(d).createComputePipeline(m.obj, String(entry));
    return s.add({ kind: 'pipeline', device: d, obj: p, bytes: 0 });
  },
  'device.create-bind-group': async (s, [dev, pipe, group, entries]) => {
    const d = s.get(dev, 'device').device;
    const p = s.get<PipelineObj>(pipe, 'pipeline');
    const list = entries as { binding: number; buffer: number; offset: number; size?: number }[];
    if (list.length > MAX_ENTRIES) throw new AccelFailure('limit-exceeded', `at most ${MAX_ENTRIES} bind-group entries`);
    const es = list.map((e) => {
      const b = s.get<BufferObj>(e.buffer, 'buffer');
      if (b.device !== d) fail('a bound buffer belongs to another device');
      return { binding: int(e.binding, 'binding', 65535), buffer: b.obj, offset: int(e.offset, 'offset'), ...(e.size !== undefined ? { size: int(e.size, 'size') } : {}) };
    });
    const g = await raw(d).createBindGroup(p.obj, int(group, 'group', d.backend.limits.maxBindGroups - 1), es);
    return s.add({ kind: 'bind-group', device: d, obj: g, bytes: 0 });
  },
  'device.create-command-encoder': (s, [dev]) => {
    const d = s.get(dev, 'device').device;
    return s.add({ kind: 'encoder', device: d, obj: raw(d).createCommandEncoder(), bytes: 0 });
  },
  'device.submit': (s, [dev, commands]) => {
    const d = s.get(dev, 'device').device;
    const ids = commands as number[];
    if (ids.length > MAX_SUBMIT) throw new AccelFailure('limit-exceeded', `at most ${MAX_SUBMIT} command buffers per submit`);
    const cbs = ids.map((id) => s.get<CommandsObj>(id, 'commands'));
    if (cbs.some((c) => c.device !== d)) fail('a command buffer belongs to another device');
    ids.forEach((id) => s.free(id));
    raw(d).submit(cbs.map((c) => c.obj));
    return undefined;
  },
  'device.wait': (s, [dev]) => s.get(dev, 'device').device.backend.wait(),
  'buffer.write': (s, [buf, offset, data]) => {
    const b = s.get<BufferObj>(buf, 'buffer');
    raw(b.device).writeBuffer(b.obj, int(offset, 'offset'), data as Uint8Array);
    return undefined;
  },
  'buffer.read': (s, [buf, offset, size]) => {
    const b = s.get<BufferObj>(buf, 'buffer');
    return raw(b.device).readBuffer(b.obj, int(offset, 'offset'), int(size, 'size'));
  },
  'encoder.copy': (s, [enc, src, so, dst, dof, size]) => {
    const e = s.get<EncoderObj>(enc, 'encoder');
    const a = s.get<BufferObj>(src, 'buffer');
    const b = s.get<BufferObj>(dst, 'buffer');
    if (a.device !== e.device || b.device !== e.device) fail('buffers and encoder must be on one device');
    raw(e.device).copyBufferToBuffer(e.obj, a.obj, int(so, 'source offset'), b.obj, int(dof, 'destination offset'), int(size, 'size'));
    return undefined;
  },
  'encoder.dispatch': (s, [enc, pipe, groups, x, y, z]) => {
    const e = s.get<EncoderObj>(enc, 'encoder');
    const p = s.get<PipelineObj>(pipe, 'pipeline');
    const gs = (groups as number[]).map((g) => s.get<BindGroupObj>(g, 'bind-group'));
    if (gs.length > MAX_ENTRIES) throw new AccelFailure('limit-exceeded', `at most ${MAX_ENTRIES} bind groups per dispatch`);
    if (p.device !== e.device || gs.some((g) => g.device !== e.device)) fail('pipeline, bind groups and encoder must be on one device');
    const max = e.device.backend.limits.maxComputeWorkgroupsPerDimension;
    raw(e.device).dispatch(e.obj, p.obj, gs.map((g) => g.obj), int(x, 'x', max), int(y, 'y', max), int(z, 'z', max));
    return undefined;
  },
  'encoder.finish': (s, [enc]) => {
    const e = s.get<EncoderObj>(enc, 'encoder');
    const c = raw(e.device).finish(e.obj);
    s.free(enc as number);
    return s.add({ kind: 'commands', device: e.device, obj: c, bytes: 0 });
  },
  'tensor.from-f32': (s, [dev, shape, data, dtype]) => {
    const d = s.device(int(dev, 'device id', 2 ** 32 - 1));
    const sh = shapeOf(shape);
    const values = data as Float32Array;
    if (values.length !== count(sh)) fail(`shape [${sh}] holds ${count(sh)} elements, but ${values.length} were given`);
    const r = newTensor(s, d, dtypeOf(dtype), sh);
    d.backend.upload(r.t.store, values);
    return tensorValue(r.id, r.t, d);
  },
  'tensor.zeros': (s, [dev, shape, dtype]) => {
    const d = s.device(int(dev, 'device id', 2 ** 32 - 1));
    const sh = shapeOf(shape);
    const r = newTensor(s, d, dtypeOf(dtype), sh);
    d.backend.upload(r.t.store, new Float32Array(count(sh)));
    return tensorValue(r.id, r.t, d);
  },
  'tensor.to-f32': (s, [id]) => { const h = s.get<TensorObj>(id, 'tensor'); return h.device.backend.download(h.obj.store); },
  'tensor.matmul': (s, [a, b]) => {
    const { d, x, y } = pair(s, a, b);
    if (x.shape.length !== 2 || y.shape.length !== 2 || x.shape[1] !== y.shape[0]) fail(`matmul needs [m, k] x [k, n], not [${x.shape}] x [${y.shape}]`);
    if (x.store.dtype !== y.store.dtype) fail(`dtypes differ (${x.store.dtype}, ${y.store.dtype}); cast one first`);
    const [m, k] = x.shape as [number, number];
    const n = y.shape[1]!;
    const r = newTensor(s, d, x.store.dtype, [m, n]);
    d.backend.matmul(r.t.store, x.store, y.store, m, k, n);
    return tensorValue(r.id, r.t, d);
  },
  'tensor.add': binary('add'),
  'tensor.mul': binary('mul'),
  'tensor.scale': (s, [id, factor]) => {
    const h = s.get<TensorObj>(id, 'tensor');
    const r = newTensor(s, h.device, h.obj.store.dtype, h.obj.shape);
    h.device.backend.scale(r.t.store, h.obj.store, Number(factor));
    return tensorValue(r.id, r.t, h.device);
  },
  'tensor.sum': reduce('sum'),
  'tensor.max': reduce('max'),
  'tensor.min': reduce('min'),
  'tensor.mean': reduce('mean'),
  'tensor.transpose': (s, [id]) => {
    const h = s.get<TensorObj>(id, 'tensor');
    if (h.obj.shape.length !== 2) fail(`transpose needs a 2-axis tensor, not [${h.obj.shape}]`);
    const [rows, cols] = h.obj.shape as [number, number];
    const r = newTensor(s, h.device, h.obj.store.dtype, [cols, rows]);
    h.device.backend.transpose(r.t.store, h.obj.store, rows, cols);
    return tensorValue(r.id, r.t, h.device);
  },
  'tensor.cast': (s, [id, dtype]) => {
    const h = s.get<TensorObj>(id, 'tensor');
    const r = newTensor(s, h.device, dtypeOf(dtype), h.obj.shape);
    h.device.backend.cast(r.t.store, h.obj.store);
    return tensorValue(r.id, r.t, h.device);
  },
  drop: (s, [id]) => { s.free(int(id, 'id')); return undefined; },
};
