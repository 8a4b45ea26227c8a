// tsray:accel/tensor in AssemblyScript: row-major tensors computed by the host's kernels.
// Each fallible call has a trapping form (`matmul`) and a `try` form (`tryMatmul`)
// returning Result<T, AccelError>; see accel.ts.
import { RETURN_AREA } from "./memory";
import { Result, ok, err } from "./types";
import { AccelError, failure, hostList, live, okHandle, unwrap } from "./accel-core";

// @ts-ignore: decorator
@external("tsray:accel/tensor", "[static]tensor.from-f32") declare function hFromF32(device: u32, shapePtr: usize, shapeLen: usize, dataPtr: usize, dataLen: usize, dtype: u8, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[static]tensor.zeros") declare function hZeros(device: u32, shapePtr: usize, shapeLen: usize, dtype: u8, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.shape") declare function hShape(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.dtype") declare function hDtype(self: i32): u8;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.device") declare function hDevice(self: i32): u32;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.to-f32") declare function hToF32(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.matmul") declare function hMatmul(self: i32, rhs: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.add") declare function hAdd(self: i32, rhs: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.mul") declare function hMul(self: i32, rhs: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.scale") declare function hScale(self: i32, factor: f32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.sum") declare function hSum(self: i32, isSome: i32, axis: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.max") declare function hMax(self: i32, isSome: i32, axis: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.min") declare function hMin(self: i32, isSome: i32, axis: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.mean") declare function hMean(self: i32, isSome: i32, axis: u32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.transpose") declare function hTranspose(self: i32, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[method]tensor.cast") declare function hCast(self: i32, dtype: u8, ret: usize): void;
// @ts-ignore: decorator
@external("tsray:accel/tensor", "[resource-drop]tensor") declare function dropTensor(h: i32): void;

/** WIT `dtype`: how a tensor stores its elements. */
export enum DType {
  FLOAT32 = 0,
  /** Needs a device with `shaderF16` (else `unsupported`). */
  FLOAT16 = 1,
}

/** The tensor result in the return area. */
function tensorResult(): Result<Tensor, AccelError> {
  const e = failure();
  return e !== null ? err<Tensor, AccelError>(e) : ok<Tensor, AccelError>(new Tensor(okHandle()));
}

/** `option<u32>` from the SDK's convention: a negative axis is none (every element). */
// @ts-ignore: decorator
@inline function someAxis(axis: i32): i32 { return axis >= 0 ? 1 : 0; }

/**
 * A row-major tensor on a granted device. Its results are new tensors; call
 * `drop()` on each when done (the host frees the rest when the task ends).
 * Reductions take an `axis`, or -1 (the default) for every element (shape [1]).
 */
export class Tensor {
  constructor(public handle: i32) {}

  /** A tensor of `shape` on device `device` (a `devices()` id), holding `data` converted to `dtype`. */
  static fromF32(device: u32, shape: u32[], data: Float32Array, dtype: DType = DType.FLOAT32): Tensor {
    return unwrap(Tensor.tryFromF32(device, shape, data, dtype));
  }
  static tryFromF32(device: u32, shape: u32[], data: Float32Array, dtype: DType = DType.FLOAT32): Result<Tensor, AccelError> {
    hFromF32(device, shape.dataStart, shape.length, data.dataStart, data.length, <u8>dtype, RETURN_AREA);
    return tensorResult();
  }

  /** A tensor of zeros. */
  static zeros(device: u32, shape: u32[], dtype: DType = DType.FLOAT32): Tensor { return unwrap(Tensor.tryZeros(device, shape, dtype)); }
  static tryZeros(device: u32, shape: u32[], dtype: DType = DType.FLOAT32): Result<Tensor, AccelError> {
    hZeros(device, shape.dataStart, shape.length, <u8>dtype, RETURN_AREA);
    return tensorResult();
  }

  shape(): u32[] {
    hShape(live(this.handle, "tensor"), RETURN_AREA);
    const ptr = load<usize>(RETURN_AREA);
    const n = load<u32>(RETURN_AREA, 4);
    const out = new Array<u32>(n);
    for (let i: u32 = 0; i < n; i++) unchecked(out[i] = load<u32>(ptr + (<usize>i << 2)));
    return out;
  }

  dtype(): DType { return <DType>hDtype(live(this.handle, "tensor")); }

  /** The device id it lives on. */
  device(): u32 { return hDevice(live(this.handle, "tensor")); }

  /** Its elements as f32, row-major. */
  toF32(): Float32Array { return unwrap(this.tryToF32()); }
  tryToF32(): Result<Float32Array, AccelError> {
    hToF32(live(this.handle, "tensor"), RETURN_AREA);
    const e = failure();
    if (e !== null) return err<Float32Array, AccelError>(e);
    const n = load<u32>(RETURN_AREA, 8);
    return ok<Float32Array, AccelError>(Float32Array.wrap(hostList(load<usize>(RETURN_AREA, 4), n), 0, n));
  }

  /** [m, k] x [k, n] -> [m, n]. */
  matmul(rhs: Tensor): Tensor { return unwrap(this.tryMatmul(rhs)); }
  tryMatmul(rhs: Tensor): Result<Tensor, AccelError> {
    hMatmul(live(this.handle, "tensor"), live(rhs.handle, "tensor"), RETURN_AREA);
    return tensorResult();
  }

  /** Elementwise; `rhs`'s shape is this one's or a suffix of it (broadcast over the leading axes). */
  add(rhs: Tensor): Tensor { return unwrap(this.tryAdd(rhs)); }
  tryAdd(rhs: Tensor): Result<Tensor, AccelError> {
    hAdd(live(this.handle, "tensor"), live(rhs.handle, "tensor"), RETURN_AREA);
    return tensorResult();
  }

  /** Elementwise product, broadcast as `add`. */
  mul(rhs: Tensor): Tensor { return unwrap(this.tryMul(rhs)); }
  tryMul(rhs: Tensor): Result<Tensor, AccelError> {
    hMul(live(this.handle, "tensor"), live(rhs.handle, "tensor"), RETURN_AREA);
    return tensorResult();
  }

  scale(factor: f32): Tensor { return unwrap(this.tryScale(factor)); }
  tryScale(factor: f32): Result<Tensor, AccelError> {
    hScale(live(this.handle, "tensor"), factor, RETURN_AREA);
    return tensorResult();
  }

  sum(axis: i32 = -1): Tensor { return unwrap(this.trySum(axis)); }
  trySum(axis: i32 = -1): Result<Tensor, AccelError> {
    hSum(live(this.handle, "tensor"), someAxis(axis), max(axis, 0), RETURN_AREA);
    return tensorResult();
  }

  max(axis: i32 = -1): Tensor { return unwrap(this.tryMax(axis)); }
  tryMax(axis: i32 = -1): Result<Tensor, AccelError> {
    hMax(live(this.handle, "tensor"), someAxis(axis), max(axis, 0), RETURN_AREA);
    return tensorResult();
  }

  min(axis: i32 = -1): Tensor { return unwrap(this.tryMin(axis)); }
  tryMin(axis: i32 = -1): Result<Tensor, AccelError> {
    hMin(live(this.handle, "tensor"), someAxis(axis), max(axis, 0), RETURN_AREA);
    return tensorResult();
  }

  mean(axis: i32 = -1): Tensor { return unwrap(this.tryMean(axis)); }
  tryMean(axis: i32 = -1): Result<Tensor, AccelError> {
    hMean(live(this.handle, "tensor"), someAxis(axis), max(axis, 0), RETURN_AREA);
    return tensorResult();
  }

  /** [m, n] -> [n, m]. */
  transpose(): Tensor { return unwrap(this.tryTranspose()); }
  tryTranspose(): Result<Tensor, AccelError> {
    hTranspose(live(this.handle, "tensor"), RETURN_AREA);
    return tensorResult();
  }

  /** A copy stored as `dtype`. */
  cast(dtype: DType): Tensor { return unwrap(this.tryCast(dtype)); }
  tryCast(dtype: DType): Result<Tensor, AccelError> {
    hCast(live(this.handle, "tensor"), <u8>dtype, RETURN_AREA);
    return tensorResult();
  }

  /** Frees it on the device now (the host frees whatever is left when the task ends). */
  drop(): void { if (this.handle != 0) { dropTensor(this.handle); this.handle = 0; } }
}
