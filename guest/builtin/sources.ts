// tsray.data's read tasks (wit/data.wit, world sources), built into dist/builtin/ by `npm run build`.
export class Numbers {
  id: Float64Array = new Float64Array(0);
}

export function range(start: f64, end: f64): Numbers {
  const out = new Numbers();
  const n = <i32>max(0, end - start);
  out.id = new Float64Array(n);
  for (let i = 0; i < n; i++) unchecked(out.id[i] = start + <f64>i);
  return out;
}

// File read tasks name this function; the host reads their part (wit/data.wit).
export function files(): void {}
