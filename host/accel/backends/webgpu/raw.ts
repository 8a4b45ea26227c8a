/// <reference types="@webgpu/types" />
/**
 * tsray:accel/gpu on a Dawn device: buffers, WGSL modules, pipelines, bind
 * groups, encoders and submission. Arguments are checked before they reach
 * Dawn (offsets, sizes, usages, destroyed or foreign objects), so a guest's
 * mistake is an `invalid-argument` at the call; what only Dawn can judge
 * (WGSL, layouts) comes back as `validation` through the guard's scopes.
 */
import {
  AccelFailure,
  type BindGroupObj, type BufferObj, type BufferUsage, type CommandsObj, type DeviceLimits,
  type EncoderObj, type PipelineObj, type RawCompute, type ShaderObj,
} from '../backend.js';
import type { DeviceGuard } from './guard.js';
import { readBack } from './readback.js';
import { COPY_DST, COPY_SRC, STORAGE, UNIFORM, plainBytes, roundUp4 } from './usage.js';

class RawBuffer implements BufferObj {
  readonly kind = 'buffer';
  destroyed = false;
  constructor(readonly owner: RawDevice, readonly size: number, readonly usage: BufferUsage, readonly gpu: GPUBuffer) {}
}
class RawShader implements ShaderObj {
  readonly kind = 'shader';
  constructor(readonly owner: RawDevice, readonly gpu: GPUShaderModule) {}
}
class RawPipeline implements PipelineObj {
  readonly kind = 'pipeline';
  constructor(readonly owner: RawDevice, readonly gpu: GPUComputePipeline) {}
}
class RawBindGroup implements BindGroupObj {
  readonly kind = 'bind-group';
  constructor(readonly owner: RawDevice, readonly pipeline: RawPipeline, readonly group: number,
    readonly buffers: RawBuffer[], readonly gpu: GPUBindGroup) {}
}
class RawEncoder implements EncoderObj {
  readonly kind = 'encoder';
  finished = false;
  readonly buffers = new Set<RawBuffer>();
  constructor(readonly owner: RawDevice, readonly gpu: GPUCommandEncoder) {}
}
class RawCommands implements CommandsObj {
  readonly kind = 'commands';
  used = false;
  constructor(readonly owner: RawDevice, readonly buffers: Set<RawBuffer>, readonly gpu: GPUCommandBuffer) {}
}

function bad(message: string): never {
  throw new AccelFailure('invalid-argument', message);
}

function multipleOf4(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v % 4 !== 0) bad(`${what} must be a non-negative multiple of 4, not ${v}`);
}

/** Raw compute on one device; `guard` owns the device and its error scopes. */
export class RawDevice implements RawCompute {
  constructor(private readonly guard: DeviceGuard, private readonly limits: DeviceLimits) {}

  private get device(): GPUDevice { return this.guard.device; }

  private own<T extends { owner: RawDevice }>(o: unknown, cls: new (...args: never[]) => T, what: string): T {
    this.guard.alive();
    if (!(o instanceof cls) || o.owner !== this) bad(`${what} is not a ${cls.name.replace('Raw', '').toLowerCase()} of this device`);
    return o;
  }

  private buffer(b: BufferObj, what = 'buffer'): RawBuffer {
    const r = this.own(b, RawBuffer, what);
    if (r.destroyed) bad(`${what} was destroyed`);
    return r;
  }

  private range(b: RawBuffer, offset: number, size: number, what: string): void {
    multipleOf4(`${what} offset`, offset);
    multipleOf4(`${what} size`, size);
    if (offset + size > b.size) bad(`${what} range ${offset}+${size} passes the buffer's ${b.size} bytes`);
  }

  createBuffer(size: number, usage: BufferUsage): BufferObj {
    if (!Number.isSafeInteger(size) || size < 0) bad(`buffer size must be a non-negative integer, not ${size}`);
    if (size > this.limits.maxBufferSize) bad(`buffer size ${size} passes the device's ${this.limits.maxBufferSize}`);
    // Copies in and out are how writes and reads reach the buffer, so it always has them;
    // the guest's own copies are still checked against the usage it asked for.
    const flags = COPY_SRC | COPY_DST | (usage.uniform ? UNIFORM : 0) | (usage.storage ? STORAGE : 0);
    const gpu = this.guard.sync(() => this.device.createBuffer({ size: roundUp4(size), usage: flags }));
    return new RawBuffer(this, size, { ...usage }, gpu);
  }

  writeBuffer(b: BufferObj, offset: number, data: Uint8Array): void {
    const r = this.buffer(b);
    this.range(r, offset, data.byteLength, 'write');
    if (data.byteLength === 0) return;
    this.guard.sync(() => this.device.queue.writeBuffer(r.gpu, offset, plainBytes(data), 0, data.byteLength));
  }

  async readBuffer(b: BufferObj, offset: number, size: number): Promise<Uint8Array> {
    const r = this.buffer(b);
    this.range(r, offset, size, 'read');
    return readBack(this.guard, r.gpu, offset, size);
  }

  destroyBuffer(b: BufferObj): void {
    if (!(b instanceof RawBuffer) || b.owner !== this || b.destroyed) return;
    b.destroyed = true;
    if (!this.guard.lost) this.guard.sync(() => b.gpu.destroy());
  }

  async createShaderModule(code: string): Promise<ShaderObj> {
    if (/^\s*enable\s+[^;]*\bf16\b/m.test(code) && !this.device.features.has('shader-f16')) {
      throw new AccelFailure('unsupported', 'this adapter has no shader-f16: WGSL cannot enable f16 here (float16 tensors still work)');
    }
    const { value: module, error } = this.guard.scoped(() => this.device.createShaderModule({ code }));
    const info = await module.getCompilationInfo();
    const failure = await error;
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      throw new AccelFailure('validation', errors.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join('\n'));
    }
    if (failure) throw failure;
    return new RawShader(this, module);
  }

  async createComputePipeline(module: ShaderObj, entryPoint: string): Promise<PipelineObj> {
    const m = this.own(module, RawShader, 'module');
    const gpu = await this.guard.checked(() =>
      this.device.createComputePipeline({ layout: 'auto', compute: { module: m.gpu, entryPoint } }));
    return new RawPipeline(this, gpu);
  }

  async createBindGroup(pipeline: PipelineObj, group: number,
    entries: { binding: number; buffer: BufferObj; offset: number; size?: number }[]): Promise<BindGroupObj> {
    const p = this.own(pipeline, RawPipeline, 'pipeline');
    if (!Number.isInteger(group) || group < 0 || group >= this.limits.maxBindGroups) {
      bad(`bind group index ${group} is outside 0..${this.limits.maxBindGroups - 1}`);
    }
    const buffers: RawBuffer[] = [];
    const gpuEntries: GPUBindGroupEntry[] = entries.map((e, i) => {
      const r = this.buffer(e.buffer, `entry ${i}'s buffer`);
      if (!Number.isInteger(e.binding) || e.binding < 0) bad(`entry ${i}'s binding must be a non-negative integer`);
      const size = e.size ?? r.size - e.offset;
      this.range(r, e.offset, size, `entry ${i}'s binding`);
      if (size === 0) bad(`entry ${i} binds no bytes`);
      if (!r.usage.storage && !r.usage.uniform) bad(`entry ${i}'s buffer has neither storage nor uniform usage`);
      buffers.push(r);
      return { binding: e.binding, resource: { buffer: r.gpu, offset: e.offset, size } };
    });
    const gpu = await this.guard.checked(() =>
      this.device.createBindGroup({ layout: p.gpu.getBindGroupLayout(group), entries: gpuEntries }));
    return new RawBindGroup(this, p, group, buffers, gpu);
  }

  createCommandEncoder(): EncoderObj {
    const gpu = this.guard.sync(() => this.device.createCommandEncoder());
    return new RawEncoder(this, gpu);
  }

  private encoder(e: EncoderObj): RawEncoder {
    const r = this.own(e, RawEncoder, 'encoder');
    if (r.finished) bad('the encoder is finished');
    return r;
  }

  copyBufferToBuffer(e: EncoderObj, src: BufferObj, srcOffset: number, dst: BufferObj, dstOffset: number, size: number): void {
    const enc = this.encoder(e);
    const s = this.buffer(src, 'source');
    const d = this.buffer(dst, 'destination');
    if (!s.usage.copySrc) bad('the source buffer lacks copy-src usage');
    if (!d.usage.copyDst) bad('the destination buffer lacks copy-dst usage');
    this.range(s, srcOffset, size, 'source');
    this.range(d, dstOffset, size, 'destination');
    if (s === d && srcOffset < dstOffset + size && dstOffset < srcOffset + size) bad('source and destination ranges overlap');
    enc.buffers.add(s).add(d);
    this.guard.sync(() => enc.gpu.copyBufferToBuffer(s.gpu, srcOffset, d.gpu, dstOffset, size));
  }

  dispatch(e: EncoderObj, pipeline: PipelineObj, groups: BindGroupObj[], x: number, y: number, z: number): void {
    const enc = this.encoder(e);
    const p = this.own(pipeline, RawPipeline, 'pipeline');
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    for (const [axis, v] of [['x', x], ['y', y], ['z', z]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > max) bad(`workgroup count ${axis} = ${v} is outside 0..${max}`);
    }
    if (groups.length > this.limits.maxBindGroups) bad(`${groups.length} bind groups pass the device's ${this.limits.maxBindGroups}`);
    const gs = groups.map((g, i) => {
      const r = this.own(g, RawBindGroup, `bind group ${i}`);
      // Layouts made with 'auto' fit only the pipeline they came from, at their own index.
      if (r.pipeline !== p || r.group !== i) bad(`bind group ${i} was made for ${r.pipeline === p ? `group ${r.group}` : 'another pipeline'}`);
      for (const b of r.buffers) {
        if (b.destroyed) bad(`bind group ${i} uses a destroyed buffer`);
        enc.buffers.add(b);
      }
      return r;
    });
    this.guard.sync(() => {
      const pass = enc.gpu.beginComputePass();
      pass.setPipeline(p.gpu);
      gs.forEach((g, i) => pass.setBindGroup(i, g.gpu));
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
    });
  }

  finish(e: EncoderObj): CommandsObj {
    const enc = this.encoder(e);
    enc.finished = true;
    const gpu = this.guard.sync(() => enc.gpu.finish());
    return new RawCommands(this, enc.buffers, gpu);
  }

  submit(commands: CommandsObj[]): void {
    const cs = commands.map((c, i) => {
      const r = this.own(c, RawCommands, `command buffer ${i}`);
      if (r.used) bad(`command buffer ${i} was already submitted`);
      for (const b of r.buffers) if (b.destroyed) bad(`command buffer ${i} uses a destroyed buffer`);
      return r;
    });
    if (new Set(cs).size !== cs.length) bad('a command buffer appears twice');
    for (const c of cs) c.used = true;
    this.guard.sync(() => this.device.queue.submit(cs.map((c) => c.gpu)));
  }
}
