import { Result, ok, err } from "tsray";

export function trap(): u32 {
  unreachable();
  return 0;
}

export function fail(message: string): u32 {
  throw new Error(message);
}

export function checkedSqrt(x: f64): Result<f64, string> {
  if (x < 0) return err<f64, string>("cannot take the square root of " + x.toString());
  return ok<f64, string>(Math.sqrt(x));
}

export function divide(a: i32, b: i32): i32 {
  return a / b;
}
