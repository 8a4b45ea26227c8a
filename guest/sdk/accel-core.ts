// tsray:accel/types in AssemblyScript: errors, device records, and the reading of
// the canonical-ABI return area that every accel call shares (see accel.ts).
import { RETURN_AREA } from "./memory";
import { Result, Unit, ok, err } from "./types";

/** WIT `error-code`: why an accelerator call failed. */
export enum ErrorCode {
  /** The task holds no accelerator, or not the device it named. */
  NOT_GRANTED = 0,
  /** The call would pass the task's device-memory budget. */
  OUT_OF_MEMORY = 1,
  /** An argument is out of range, or shapes, sizes, offsets or usages do not fit. */
  INVALID_ARGUMENT = 2,
  /** The device's backend cannot do it (raw WGSL on the CPU backend; f16 without shader-f16). */
  UNSUPPORTED = 3,
  /** A shader module, pipeline or bind group failed validation. */
  VALIDATION = 4,
  /** The task passed a limit of the host's contract (objects, bytes per call). */
  LIMIT_EXCEEDED = 5,
  /** The device or its backend failed. */
  DEVICE_LOST = 6,
}

/** The WIT name of `code` (`out-of-memory`), as errors print it. */
export function errorCodeName(code: ErrorCode): string {
  switch (code) {
    case ErrorCode.NOT_GRANTED: return "not-granted";
    case ErrorCode.OUT_OF_MEMORY: return "out-of-memory";
    case ErrorCode.INVALID_ARGUMENT: return "invalid-argument";
    case ErrorCode.UNSUPPORTED: return "unsupported";
    case ErrorCode.VALIDATION: return "validation";
    case ErrorCode.LIMIT_EXCEEDED: return "limit-exceeded";
    case ErrorCode.DEVICE_LOST: return "device-lost";
  }
  return "error-" + (<i32>code).toString();
}

/** WIT `accel-error`: what a failed call returned. */
export class AccelError {
  constructor(public code: ErrorCode, public message: string) {}
  /** `accel <code>: <message>`, the text the trapping API aborts with. */
  toString(): string {
    return "accel " + errorCodeName(this.code) + ": " + this.message;
  }
}

/**
 * What the `try*` methods return: `isOk` with `value`, or `error`.
 * The plain methods return the value and trap (`accel <code>: <message>` in the task log) instead.
 */
export type AccelResult<T> = Result<T, AccelError>;

/** The value of `r`, or a trap with its error (`accel <code>: <message>`). */
export function unwrap<T>(r: Result<T, AccelError>): T {
  if (!r.isOk) throw new Error(r.error.toString());
  return r.value;
}

let unitValue: Unit | null = null;

/** The payload of a successful `result<_, accel-error>`. */
export function unit(): Unit {
  let u = unitValue;
  if (u === null) {
    u = new Unit();
    unitValue = u;
  }
  return u;
}

/** A string the host wrote into guest memory (ptr, len at `at`), copied into an AssemblyScript string. */
export function readString(at: usize): string {
  const len = load<u32>(at, 4);
  return len == 0 ? "" : String.UTF8.decodeUnsafe(load<usize>(at), len);
}

/**
 * The error of the `result<T, accel-error>` in the return area, or null when it is `ok`.
 * Layout: the discriminant byte at 0, the payload at 4 (every payload here has
 * alignment 4: a handle, a (ptr, len) list, or the error record {code u8, message (ptr, len)}).
 */
export function failure(): AccelError | null {
  if (load<u8>(RETURN_AREA) == 0) return null;
  return new AccelError(<ErrorCode>load<u8>(RETURN_AREA, 4), readString(RETURN_AREA + 8));
}

/** The `ok` handle (an own resource, i32) of the result in the return area. */
export function okHandle(): i32 {
  return load<i32>(RETURN_AREA, 4);
}

/** `result<_, accel-error>` from the return area. */
export function unitResult(): Result<Unit, AccelError> {
  const e = failure();
  if (e !== null) return err<Unit, AccelError>(e);
  return ok<Unit, AccelError>(unit());
}

/**
 * A list the host wrote into guest memory at `ptr` (`len` elements), as the ArrayBuffer
 * cabi_realloc allocated for it, so a typed array can wrap it without a copy.
 */
export function hostList(ptr: usize, len: u32): ArrayBuffer {
  return len == 0 ? new ArrayBuffer(0) : changetype<ArrayBuffer>(ptr);
}

/** WIT `device-info`: a device this task may use. */
export class DeviceInfo {
  /** The device id, as `taskContext().acceleratorIds` lists it. */
  id: u32 = 0;
  /** `webgpu` (Dawn) or `cpu` (the host's CPU kernels). */
  backend: string = "";
  vendor: string = "";
  architecture: string = "";
  description: string = "";
  /** Device memory this task may hold, in bytes. */
  memoryBudget: u64 = 0;
  /** Whether f16 tensors and WGSL `enable f16;` work. */
  shaderF16: bool = false;
}

/** Size of a `device-info` in memory (alignment 8). */
export const DEVICE_INFO_SIZE: u32 = 56;

/** A `device-info` record at `at`: id 0, four strings at 4..36, memory-budget at 40, shader-f16 at 48. */
export function readDeviceInfo(at: usize): DeviceInfo {
  const d = new DeviceInfo();
  d.id = load<u32>(at);
  d.backend = readString(at + 4);
  d.vendor = readString(at + 12);
  d.architecture = readString(at + 20);
  d.description = readString(at + 28);
  d.memoryBudget = load<u64>(at, 40);
  d.shaderF16 = load<u8>(at, 48) != 0;
  return d;
}

/** WIT `device-limits`. */
export class DeviceLimits {
  maxBufferSize: u64 = 0;
  maxStorageBufferBindingSize: u64 = 0;
  maxComputeWorkgroupSizeX: u32 = 0;
  maxComputeWorkgroupSizeY: u32 = 0;
  maxComputeWorkgroupSizeZ: u32 = 0;
  maxComputeInvocationsPerWorkgroup: u32 = 0;
  maxComputeWorkgroupsPerDimension: u32 = 0;
  maxBindGroups: u32 = 0;
  maxStorageBuffersPerShaderStage: u32 = 0;
}

/** A `device-limits` record at `at`: two u64 at 0 and 8, then seven u32 from 16. */
export function readDeviceLimits(at: usize): DeviceLimits {
  const l = new DeviceLimits();
  l.maxBufferSize = load<u64>(at, 0);
  l.maxStorageBufferBindingSize = load<u64>(at, 8);
  l.maxComputeWorkgroupSizeX = load<u32>(at, 16);
  l.maxComputeWorkgroupSizeY = load<u32>(at, 20);
  l.maxComputeWorkgroupSizeZ = load<u32>(at, 24);
  l.maxComputeInvocationsPerWorkgroup = load<u32>(at, 28);
  l.maxComputeWorkgroupsPerDimension = load<u32>(at, 32);
  l.maxBindGroups = load<u32>(at, 36);
  l.maxStorageBuffersPerShaderStage = load<u32>(at, 40);
  return l;
}

/** Traps when a resource is used after `drop()` (handle 0), instead of passing the host a dead handle. */
export function live(handle: i32, what: string): i32 {
  if (handle == 0) throw new Error("accel: " + what + " used after drop");
  return handle;
}
