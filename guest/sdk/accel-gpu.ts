// tsray:accel/gpu in AssemblyScript: devices, buffers, WGSL compute pipelines and dispatch.
// Each fallible call has a trapping form (`createBuffer`) and a `try` form
// (`tryCreateBuffer`) returning Result<T, AccelError>; see accel.ts.
import { RETURN_AREA } from "./memory";
import { Result, Unit, ok, err } from "./types";
import {
  AccelError, DeviceInfo, DeviceLimits, DEVICE_INFO_SIZE, failure, hostList, live, okHandle,
  readDeviceInfo, readDeviceLimits, unitResult, unwrap,
} from "./accel-core";

// @ts-ignore: decorator
@external("tsray:accel/gpu", "devices") declare function hDevices(ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[static]device.open") declare function hOpen(id: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.info") declare function hInfo(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.limits") declare function hLimits(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.memory-used") declare function hMemoryUsed(self: i32): u64;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.create-buffer") declare function hCreateBuffer(self: i32, size: u64, usage: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.create-shader-module") declare function hCreateShaderModule(self: i32, ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.create-compute-pipeline") declare function hCreatePipeline(self: i32, module: i32, ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.create-bind-group") declare function hCreateBindGroup(self: i32, pipeline: i32, group: u32, ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.create-command-encoder") declare function hCreateEncoder(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.submit") declare function hSubmit(self: i32, ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]device.wait") declare function hWait(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]buffer.size") declare function hBufferSize(self: i32): u64;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]buffer.usage") declare function hBufferUsage(self: i32): u32;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]buffer.write") declare function hWrite(self: i32, offset: u64, ptr: usize, len: usize, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]buffer.read") declare function hRead(self: i32, offset: u64, size: u64, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]buffer.destroy") declare function hDestroy(self: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]command-encoder.copy-buffer-to-buffer") declare function hCopy(self: i32, src: i32, srcOffset: u64, dst: i32, dstOffset: u64, size: u64, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]command-encoder.dispatch") declare function hDispatch(self: i32, pipeline: i32, ptr: usize, len: usize, x: u32, y: u32, z: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[method]command-encoder.finish") declare function hFinish(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]device") declare function dropDevice(h: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]buffer") declare function dropBuffer(h: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]shader-module") declare function dropShaderModule(h: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]compute-pipeline") declare function dropPipeline(h: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]bind-group") declare function dropBindGroup(h: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]command-encoder") declare function dropEncoder(h: i32): void;
// @ts-ignore: decorator
@external("tsray:accel/gpu", "[resource-drop]command-buffer") declare function dropCommandBuffer(h: i32): void;

/** WIT `flags buffer-usage`, combined with `|`. */
export enum BufferUsage {
  COPY_SRC = 1,
  COPY_DST = 2,
  UNIFORM = 4,
  STORAGE = 8,
}

/** The devices this task may use (empty without accelerator resources). */
export function devices(): DeviceInfo[] {
  hDevices(RETURN_AREA);
  const ptr = load<usize>(RETURN_AREA);
  const n = load<u32>(RETURN_AREA, 4);
  const out = new Array<DeviceInfo>(n);
  for (let i: u32 = 0; i < n; i++) unchecked(out[i] = readDeviceInfo(ptr + <usize>i * DEVICE_INFO_SIZE));
  return out;
}

/** One binding of a bind group: `size` 0 with `wholeRest` binds from `offset` to the buffer's end. */
export class BindGroupEntry {
  constructor(public binding: u32, public buffer: Buffer, public offset: u64 = 0, public size: u64 = 0, public wholeRest: bool = true) {}
  /** Binds all of `buffer` at `binding`. */
  static whole(binding: u32, buffer: Buffer): BindGroupEntry { return new BindGroupEntry(binding, buffer); }
  /** Binds `size` bytes of `buffer` from `offset` at `binding`. */
  static range(binding: u32, buffer: Buffer, offset: u64, size: u64): BindGroupEntry { return new BindGroupEntry(binding, buffer, offset, size, false); }
}

/**
 * An open device. Every resource class here has `drop()`; call it when done, as
 * AssemblyScript runs no finalizers. Whatever a task leaves undropped (device
 * memory included) the host destroys when the task ends.
 */
export class Device {
  constructor(public handle: i32, public id: u32) {}

  /** Opens device `id`, one of `devices()`. */
  static open(id: u32): Device { return unwrap(Device.tryOpen(id)); }
  static tryOpen(id: u32): Result<Device, AccelError> {
    hOpen(id, RETURN_AREA);
    const e = failure();
    return e !== null ? err<Device, AccelError>(e) : ok<Device, AccelError>(new Device(okHandle(), id));
  }

  info(): DeviceInfo {
    hInfo(live(this.handle, "device"), RETURN_AREA);
    return readDeviceInfo(RETURN_AREA);
  }

  limits(): DeviceLimits {
    hLimits(live(this.handle, "device"), RETURN_AREA);
    return readDeviceLimits(RETURN_AREA);
  }

  /** Bytes of this task's budget on the device in use now. */
  memoryUsed(): u64 { return hMemoryUsed(live(this.handle, "device")); }

  /** A buffer of `size` bytes; `usage` is BufferUsage flags or'ed together. */
  createBuffer(size: u64, usage: u32): Buffer { return unwrap(this.tryCreateBuffer(size, usage)); }
  tryCreateBuffer(size: u64, usage: u32): Result<Buffer, AccelError> {
    hCreateBuffer(live(this.handle, "device"), size, usage, RETURN_AREA);
    const e = failure();
    return e !== null ? err<Buffer, AccelError>(e) : ok<Buffer, AccelError>(new Buffer(okHandle()));
  }

  /** Compiles WGSL; a shader that does not compile fails with `validation`. */
  createShaderModule(code: string): ShaderModule { return unwrap(this.tryCreateShaderModule(code)); }
  tryCreateShaderModule(code: string): Result<ShaderModule, AccelError> {
    const s = String.UTF8.encode(code);
    hCreateShaderModule(live(this.handle, "device"), changetype<usize>(s), s.byteLength, RETURN_AREA);
    const e = failure();
    return e !== null ? err<ShaderModule, AccelError>(e) : ok<ShaderModule, AccelError>(new ShaderModule(okHandle()));
  }

  createComputePipeline(module: ShaderModule, entryPoint: string): ComputePipeline {
    return unwrap(this.tryCreateComputePipeline(module, entryPoint));
  }
  tryCreateComputePipeline(module: ShaderModule, entryPoint: string): Result<ComputePipeline, AccelError> {
    const s = String.UTF8.encode(entryPoint);
    hCreatePipeline(live(this.handle, "device"), live(module.handle, "shader module"), changetype<usize>(s), s.byteLength, RETURN_AREA);
    const e = failure();
    return e !== null ? err<ComputePipeline, AccelError>(e) : ok<ComputePipeline, AccelError>(new ComputePipeline(okHandle()));
  }

  createBindGroup(pipeline: ComputePipeline, group: u32, entries: BindGroupEntry[]): BindGroup {
    return unwrap(this.tryCreateBindGroup(pipeline, group, entries));
  }
  tryCreateBindGroup(pipeline: ComputePipeline, group: u32, entries: BindGroupEntry[]): Result<BindGroup, AccelError> {
    // list<bind-group-entry>: 32-byte records, alignment 8: binding u32 at 0, buffer (borrow) at 4,
    // offset u64 at 8, size option<u64> as a discriminant byte at 16 and the value at 24
    const n = entries.length;
    const mem = new ArrayBuffer(max(n, 1) * 32); // AssemblyScript aligns objects to 16 bytes
    const base = changetype<usize>(mem);
    for (let i = 0; i < n; i++) {
      const en = unchecked(entries[i]);
      const at = base + <usize>i * 32;
      store<u32>(at, en.binding, 0);
      store<i32>(at, live(en.buffer.handle, "buffer"), 4);
      store<u64>(at, en.offset, 8);
      store<u8>(at, en.wholeRest ? 0 : 1, 16);
      store<u64>(at, en.wholeRest ? 0 : en.size, 24);
    }
    hCreateBindGroup(live(this.handle, "device"), live(pipeline.handle, "compute pipeline"), group, base, n, RETURN_AREA);
    const e = failure();
    return e !== null ? err<BindGroup, AccelError>(e) : ok<BindGroup, AccelError>(new BindGroup(okHandle()));
  }

  createCommandEncoder(): CommandEncoder { return unwrap(this.tryCreateCommandEncoder()); }
  tryCreateCommandEncoder(): Result<CommandEncoder, AccelError> {
    hCreateEncoder(live(this.handle, "device"), RETURN_AREA);
    const e = failure();
    return e !== null ? err<CommandEncoder, AccelError>(e) : ok<CommandEncoder, AccelError>(new CommandEncoder(okHandle()));
  }

  /** Queues the command buffers in order. They are used up (dropped) whatever the outcome. */
  submit(commands: CommandBuffer[]): void { unwrap(this.trySubmit(commands)); }
  trySubmit(commands: CommandBuffer[]): Result<Unit, AccelError> {
    const self = live(this.handle, "device");
    const n = commands.length;
    const handles = new StaticArray<i32>(n);
    for (let i = 0; i < n; i++) {
      const c = unchecked(commands[i]);
      unchecked(handles[i] = live(c.handle, "command buffer"));
      c.handle = 0; // own<command-buffer>: passing it hands it to the host
    }
    hSubmit(self, changetype<usize>(handles), n, RETURN_AREA);
    return unitResult();
  }

  /** Blocks until everything submitted so far has finished. */
  wait(): void { unwrap(this.tryWait()); }
  tryWait(): Result<Unit, AccelError> {
    hWait(live(this.handle, "device"), RETURN_AREA);
    return unitResult();
  }

  /** Closes the device handle (the resources made from it stay usable). */
  drop(): void { if (this.handle != 0) { dropDevice(this.handle); this.handle = 0; } }
}

/** Device memory. `write`/`read` offsets and lengths are multiples of 4. */
export class Buffer {
  constructor(public handle: i32) {}

  size(): u64 { return hBufferSize(live(this.handle, "buffer")); }
  /** Its BufferUsage flags. */
  usage(): u32 { return hBufferUsage(live(this.handle, "buffer")); }

  write(offset: u64, data: Uint8Array): void { unwrap(this.tryWrite(offset, data)); }
  tryWrite(offset: u64, data: Uint8Array): Result<Unit, AccelError> {
    hWrite(live(this.handle, "buffer"), offset, data.dataStart, data.byteLength, RETURN_AREA);
    return unitResult();
  }

  /** Writes `data`'s f32s (little-endian) at byte `offset`. */
  writeF32(offset: u64, data: Float32Array): void { unwrap(this.tryWriteF32(offset, data)); }
  tryWriteF32(offset: u64, data: Float32Array): Result<Unit, AccelError> {
    hWrite(live(this.handle, "buffer"), offset, data.dataStart, data.byteLength, RETURN_AREA);
    return unitResult();
  }

  /** Waits for submitted work, then reads `size` bytes at `offset`. */
  read(offset: u64, size: u64): Uint8Array { return unwrap(this.tryRead(offset, size)); }
  tryRead(offset: u64, size: u64): Result<Uint8Array, AccelError> {
    hRead(live(this.handle, "buffer"), offset, size, RETURN_AREA);
    const e = failure();
    if (e !== null) return err<Uint8Array, AccelError>(e);
    const n = load<u32>(RETURN_AREA, 8);
    return ok<Uint8Array, AccelError>(Uint8Array.wrap(hostList(load<usize>(RETURN_AREA, 4), n), 0, n));
  }

  /** Waits for submitted work, then reads `count` f32s at byte `offset`. */
  readF32(offset: u64, count: u32): Float32Array { return unwrap(this.tryReadF32(offset, count)); }
  tryReadF32(offset: u64, count: u32): Result<Float32Array, AccelError> {
    const r = this.tryRead(offset, <u64>count * 4);
    if (!r.isOk) return err<Float32Array, AccelError>(r.error);
    const bytes = r.value;
    return ok<Float32Array, AccelError>(Float32Array.wrap(bytes.buffer, 0, bytes.byteLength >>> 2));
  }

  /** Frees its device memory now; the handle stays until `drop()`, and any use of it fails with `invalid-argument`. */
  destroy(): void { hDestroy(live(this.handle, "buffer")); }

  /** Drops the handle (and with the last reference, its device memory). */
  drop(): void { if (this.handle != 0) { dropBuffer(this.handle); this.handle = 0; } }
}

/** A compiled WGSL module. */
export class ShaderModule {
  constructor(public handle: i32) {}
  drop(): void { if (this.handle != 0) { dropShaderModule(this.handle); this.handle = 0; } }
}

/** A compute pipeline: a shader module's entry point. */
export class ComputePipeline {
  constructor(public handle: i32) {}
  drop(): void { if (this.handle != 0) { dropPipeline(this.handle); this.handle = 0; } }
}

/** Buffers bound to one bind group of a pipeline. */
export class BindGroup {
  constructor(public handle: i32) {}
  drop(): void { if (this.handle != 0) { dropBindGroup(this.handle); this.handle = 0; } }
}

/** Records copies and compute passes into a CommandBuffer. */
export class CommandEncoder {
  constructor(public handle: i32) {}

  copyBufferToBuffer(source: Buffer, sourceOffset: u64, destination: Buffer, destinationOffset: u64, size: u64): void {
    unwrap(this.tryCopyBufferToBuffer(source, sourceOffset, destination, destinationOffset, size));
  }
  tryCopyBufferToBuffer(source: Buffer, sourceOffset: u64, destination: Buffer, destinationOffset: u64, size: u64): Result<Unit, AccelError> {
    hCopy(live(this.handle, "command encoder"), live(source.handle, "buffer"), sourceOffset, live(destination.handle, "buffer"), destinationOffset, size, RETURN_AREA);
    return unitResult();
  }

  /** One compute pass: `pipeline` with bind groups 0, 1, ... and `x` x `y` x `z` workgroups. */
  dispatch(pipeline: ComputePipeline, bindGroups: BindGroup[], x: u32, y: u32 = 1, z: u32 = 1): void {
    unwrap(this.tryDispatch(pipeline, bindGroups, x, y, z));
  }
  tryDispatch(pipeline: ComputePipeline, bindGroups: BindGroup[], x: u32, y: u32 = 1, z: u32 = 1): Result<Unit, AccelError> {
    const n = bindGroups.length;
    const handles = new StaticArray<i32>(n);
    for (let i = 0; i < n; i++) unchecked(handles[i] = live(unchecked(bindGroups[i]).handle, "bind group"));
    hDispatch(live(this.handle, "command encoder"), live(pipeline.handle, "compute pipeline"), changetype<usize>(handles), n, x, y, z, RETURN_AREA);
    return unitResult();
  }

  /** The recorded commands, for `Device.submit`. */
  finish(): CommandBuffer { return unwrap(this.tryFinish()); }
  tryFinish(): Result<CommandBuffer, AccelError> {
    hFinish(live(this.handle, "command encoder"), RETURN_AREA);
    const e = failure();
    return e !== null ? err<CommandBuffer, AccelError>(e) : ok<CommandBuffer, AccelError>(new CommandBuffer(okHandle()));
  }

  drop(): void { if (this.handle != 0) { dropEncoder(this.handle); this.handle = 0; } }
}

/** Finished commands; `Device.submit` uses them up. */
export class CommandBuffer {
  constructor(public handle: i32) {}
  drop(): void { if (this.handle != 0) { dropCommandBuffer(this.handle); this.handle = 0; } }
}
