/**
 * tsray:accel as a guest sees it, in the worker: WIT resources as classes
 * (the shape both engines take) whose methods call the device thread over
 * the worker's link. A guest names only objects of its own scope; the
 * device thread checks every id, so a forged handle reaches nothing.
 */
import { AccelFailure, type AccelErrorCode } from './backends/backend.js';
import type { SyncLink } from './link.js';
import type { AccelGrant } from './protocol.js';
import { DISPOSE, type HostImports } from '../engine/host-imports.js';

/** The task or actor running now, as the guest API reaches the device thread for it. */
export interface AccelSession {
  /** Absent where the node has no devices. */
  link?: SyncLink;
  scope: string;
  grant: AccelGrant;
  /** Whether the device thread has seen this scope (its grant is sent once). */
  opened: boolean;
  checkpoint(): void;
  /** The last failure a call returned, to explain a trap that follows it. */
  lastFailure?: AccelFailure;
}

type Result = { tag: 'ok'; val?: unknown } | { tag: 'err'; val: { code: AccelErrorCode; message: string } };

/** u64 from the guest as a number the device thread can check (beyond 2^53 is out of any range). */
const num = (v: unknown): number => (typeof v === 'bigint' ? (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v)) : (v as number));

interface TensorMeta { id: number; shape: number[]; dtype: string; device: number }

export function accelImports(current: () => AccelSession): HostImports {
  /** One call in the running task's scope (opening it), or in `scope`, the one an object belongs to. */
  const call = (op: string, args: unknown[], scope?: string): unknown => {
    const s = current();
    s.checkpoint();
    if (!s.link || s.grant.ids.length === 0) throw new AccelFailure('not-granted', 'this task holds no accelerator: request one with numGpus (or an accelerator resource) to use tsray:accel');
    if (scope !== undefined && scope !== s.scope) throw new AccelFailure('invalid-argument', 'this object belongs to a task that has ended');
    const grant = s.opened ? undefined : s.grant;
    const v = s.link.call(s.scope, grant, op, args, () => s.checkpoint());
    s.opened = true;
    return v;
  };
  const attempt = (f: () => unknown): Result => {
    try {
      return { tag: 'ok', val: f() };
    } catch (e) {
      if (!(e instanceof AccelFailure)) throw e;
      current().lastFailure = e;
      return { tag: 'err', val: { code: e.code, message: e.message } };
    }
  };
  /** Frees an object in its own scope; a scope that has closed freed it already. */
  const drop = (o: Obj): void => {
    const s = current();
    if (s.link && s.opened && s.scope === o.scope) {
      try {
        s.link.call(o.scope, undefined, 'drop', [o.id], () => undefined);
      } catch {
        // gone with its device
      }
    }
  };

  /** Every guest-visible object: an id in the scope that made it, freed when the guest drops its handle. */
  class Obj {
    readonly scope = current().scope;
    constructor(readonly id: number) {}
    [DISPOSE](): void { drop(this); }
    protected call(op: string, args: unknown[]): unknown { return call(op, args, this.scope); }
  }
  class ShaderModule extends Obj {}
  class ComputePipeline extends Obj {}
  class BindGroup extends Obj {}
  class CommandBuffer extends Obj {}
  class Buffer extends Obj {
    constructor(id: number, private readonly bytes: bigint, private readonly flags: object) { super(id); }
    size(): bigint { return this.bytes; }
    usage(): object { return this.flags; }
    write(offset: bigint, data: Uint8Array): Result { return attempt(() => this.call('buffer.write', [this.id, num(offset), data])); }
    read(offset: bigint, size: bigint): Result { return attempt(() => this.call('buffer.read', [this.id, num(offset), num(size)])); }
    destroy(): void { drop(this); }
  }
  class CommandEncoder extends Obj {
    copyBufferToBuffer(src: Buffer, so: bigint, dst: Buffer, dof: bigint, size: bigint): Result {
      return attempt(() => this.call('encoder.copy', [this.id, src.id, num(so), dst.id, num(dof), num(size)]));
    }
    dispatch(p: ComputePipeline, groups: BindGroup[], x: number, y: number, z: number): Result {
      return attempt(() => this.call('encoder.dispatch', [this.id, p.id, groups.map((g) => g.id), x, y, z]));
    }
    finish(): Result { return attempt(() => new CommandBuffer(this.call('encoder.finish', [this.id]) as number)); }
  }
  class Device extends Obj {
    constructor(id: number, private readonly deviceId: number) { super(id); }
    static open(id: number): Result { return attempt(() => new Device(call('device.open', [id]) as number, id)); }
    info(): unknown { return describe(this.deviceId).info; }
    limits(): unknown { return describe(this.deviceId).limits; }
    memoryUsed(): bigint { return BigInt(this.call('device.memory-used', [this.id]) as number); }
    createBuffer(size: bigint, usage: object): Result {
      return attempt(() => new Buffer(this.call('device.create-buffer', [this.id, num(size), usage]) as number, size, usage));
    }
    createShaderModule(code: string): Result { return attempt(() => new ShaderModule(this.call('device.create-shader-module', [this.id, code]) as number)); }
    createComputePipeline(m: ShaderModule, entry: string): Result {
      return attempt(() => new ComputePipeline(this.call('device.create-compute-pipeline', [this.id, m.id, entry]) as number));
    }
    createBindGroup(p: ComputePipeline, group: number, entries: { binding: number; buffer: Buffer; offset: bigint; size?: bigint }[]): Result {
      const es = entries.map((e) => ({ binding: e.binding, buffer: e.buffer.id, offset: num(e.offset), ...(e.size !== undefined ? { size: num(e.size) } : {}) }));
      return attempt(() => new BindGroup(this.call('device.create-bind-group', [this.id, p.id, group, es]) as number));
    }
    createCommandEncoder(): Result { return attempt(() => new CommandEncoder(this.call('device.create-command-encoder', [this.id]) as number)); }
    submit(commands: CommandBuffer[]): Result { return attempt(() => this.call('device.submit', [this.id, commands.map((c) => c.id)])); }
    wait(): Result { return attempt(() => this.call('device.wait', [this.id])); }
  }

  /** Device info and limits, fetched once per scope and device. */
  const described = new Map<string, { info: unknown; limits: unknown }>();
  const describe = (id: number): { info: unknown; limits: unknown } => {
    const key = `${current().scope}#${id}`;
    let d = described.get(key);
    if (!d) {
      if (described.size > 64) described.clear();
      const r = call('device.describe', [id]) as { info: Record<string, unknown>; limits: Record<string, unknown> };
      d = { info: { ...r.info, memoryBudget: BigInt(r.info.memoryBudget as number) }, limits: toBig(r.limits, ['maxBufferSize', 'maxStorageBufferBindingSize']) };
      described.set(key, d);
    }
    return d;
  };

  class Tensor extends Obj {
    constructor(private readonly meta: TensorMeta) { super(meta.id); }
    private static wrap(v: unknown): Tensor { return new Tensor(v as TensorMeta); }
    static fromF32(device: number, shape: Uint32Array, data: Float32Array, dtype: string): Result {
      return attempt(() => Tensor.wrap(call('tensor.from-f32', [device, shape, data, dtype])));
    }
    static zeros(device: number, shape: Uint32Array, dtype: string): Result { return attempt(() => Tensor.wrap(call('tensor.zeros', [device, shape, dtype]))); }
    shape(): Uint32Array { return Uint32Array.from(this.meta.shape); }
    dtype(): string { return this.meta.dtype; }
    device(): number { return this.meta.device; }
    toF32(): Result { return attempt(() => this.call('tensor.to-f32', [this.id])); }
    matmul(rhs: Tensor): Result { return attempt(() => Tensor.wrap(this.call('tensor.matmul', [this.id, rhs.id]))); }
    add(rhs: Tensor): Result { return attempt(() => Tensor.wrap(this.call('tensor.add', [this.id, rhs.id]))); }
    mul(rhs: Tensor): Result { return attempt(() => Tensor.wrap(this.call('tensor.mul', [this.id, rhs.id]))); }
    scale(f: number): Result { return attempt(() => Tensor.wrap(this.call('tensor.scale', [this.id, f]))); }
    sum(axis?: number): Result { return attempt(() => Tensor.wrap(this.call('tensor.sum', [this.id, axis ?? null]))); }
    max(axis?: number): Result { return attempt(() => Tensor.wrap(this.call('tensor.max', [this.id, axis ?? null]))); }
    min(axis?: number): Result { return attempt(() => Tensor.wrap(this.call('tensor.min', [this.id, axis ?? null]))); }
    mean(axis?: number): Result { return attempt(() => Tensor.wrap(this.call('tensor.mean', [this.id, axis ?? null]))); }
    transpose(): Result { return attempt(() => Tensor.wrap(this.call('tensor.transpose', [this.id]))); }
    cast(dtype: string): Result { return attempt(() => Tensor.wrap(this.call('tensor.cast', [this.id, dtype]))); }
  }

  const cls = <T>(c: T) => c as unknown as HostImports[string][string];
  return {
    'tsray:accel/gpu': {
      devices: () => {
        const s = current();
        if (!s.link || s.grant.ids.length === 0) return [];
        return (call('devices', []) as number[]).map((id) => describe(id).info);
      },
      '[resource]device': cls(Device),
      '[resource]buffer': cls(Buffer),
      '[resource]shader-module': cls(ShaderModule),
      '[resource]compute-pipeline': cls(ComputePipeline),
      '[resource]bind-group': cls(BindGroup),
      '[resource]command-encoder': cls(CommandEncoder),
      '[resource]command-buffer': cls(CommandBuffer),
    },
    'tsray:accel/tensor': { '[resource]tensor': cls(Tensor) },
  };
}

function toBig(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out = { ...o };
  for (const k of keys) out[k] = BigInt(o[k] as number);
  return out;
}

let detached: HostImports | undefined;

/**
 * tsray:accel where no node runs the guest (a component called in-process):
 * it has no devices, so every call is `not-granted`.
 */
export function detachedAccelImports(): HostImports {
  return (detached ??= accelImports(() => ({ scope: 'in-process', grant: { ids: [], share: 0 }, opened: false, checkpoint: () => undefined })));
}
