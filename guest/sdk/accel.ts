// Accelerators from a guest: tsray:accel (a world gets it with `include tsray:accel/compute;`).
//
//   import { devices, Device, BufferUsage, Tensor, DType, ErrorCode } from "tsray/accel";
//
//   const a = Tensor.fromF32(id, [2, 2], data);        // traps on an error
//   const r = device.tryCreateBuffer(1 << 30, BufferUsage.STORAGE);
//   if (!r.isOk && r.error.code == ErrorCode.OUT_OF_MEMORY) { ... }  // handles it
//
// Errors: every fallible call has two forms. `x()` returns the value and, on an
// error, traps with `accel <code>: <message>` (in the task log, then the task
// fails). `tryX()` returns a Result<T, AccelError> (`isOk`, `value`, `error`
// with `code` and `message`), for guests that handle errors (out-of-memory,
// `validation` of a shader, `unsupported` on the CPU backend).
//
// Lifetimes: AssemblyScript runs no finalizers, so every resource class has an
// explicit `drop()` (and Buffer a `destroy()` that frees its memory at once).
// Whatever a task leaves alive, the host destroys when the task ends (returns,
// traps, times out or is cancelled), and its device memory returns to the budget.
export { ErrorCode, errorCodeName, AccelError, AccelResult, unwrap, DeviceInfo, DeviceLimits } from "./accel-core";
export {
  devices, Device, Buffer, BufferUsage, BindGroupEntry, ShaderModule, ComputePipeline, BindGroup,
  CommandEncoder, CommandBuffer,
} from "./accel-gpu";
export { Tensor, DType } from "./accel-tensor";
