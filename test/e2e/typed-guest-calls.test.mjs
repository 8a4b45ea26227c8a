// Typed calls inside guests: `tsray build` generates "tsray/remote" from the
// world it builds, so a guest submits its own functions and calls its actors
// with checked argument and result types; a wrong type is a build error, and
// functions whose types have no mapping are listed, not half-supported.
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { scratch } from '../helpers/components.mjs';
import { caught, withRuntime } from '../helpers/runtime.mjs';

const WIT = `package demo:typed;
interface shop {
  resource till {
    constructor(start: s64);
    add: func(amount: s64, note: string) -> s64;
    total: func() -> s64;
  }
}
world w {
  include tsray:runtime/task;
  use tsray:runtime/objects.{object-ref};
  record pair { a: u32, b: u32 }
  export square: func(x: f64) -> f64;
  export squares: func(xs: list<f64>) -> list<f64>;
  export label: func(n: u32, name: string) -> string;
  export summed: func(n: u32) -> f64;
  export shopping: func(times: u32) -> s64;
  export swap: func(p: pair) -> pair;
  export shop;
}`;

const GUEST = `import * as tasks from "tsray/remote";
import { ObjectRef } from "tsray";
export class Till {
  private sum: i64;
  constructor(start: i64) { this.sum = start; }
  add(amount: i64, note: string): i64 { this.sum += amount; return this.sum; }
  total(): i64 { return this.sum; }
}
export class Pair { a: u32 = 0; b: u32 = 0; }
export function square(x: f64): f64 { return x * x; }
export function squares(xs: Float64Array): Float64Array { const out = new Float64Array(xs.length); for (let i = 0; i < xs.length; i++) out[i] = xs[i] * xs[i]; return out; }
export function label(n: u32, name: string): string { return name + "#" + n.toString(); }
export function summed(n: u32): f64 {
  let s: f64 = 0;
  const refs = new Array<ObjectRef>();
  for (let i: u32 = 1; i <= n; i++) refs.push(tasks.square.remote(<f64>i));
  for (let i = 0; i < refs.length; i++) s += tasks.square.get(refs[i]);
  const xs = tasks.squares.get(tasks.squares.remote(Float64Array.wrap(new Float64Array(3).buffer)));
  return s + <f64>xs.length * 1000 + <f64>tasks.label.get(tasks.label.remote(7, "x")).length * 100000;
}
export function shopping(times: u32): i64 {
  const till = tasks.Till.create(10);
  let last: i64 = 0;
  for (let i: u32 = 0; i < times; i++) last = tasks.Till.add(till, 5, "item");
  return last + tasks.Till.total(till) * 1000;
}
export function swap(p: Pair): Pair { const q = new Pair(); q.a = p.b; q.b = p.a; return q; }
`;

t.test('a guest submits its own functions and calls its own actor through generated typed calls', async (t) => {
  const dir = scratch({ 'w.wit': WIT, 'g.ts': GUEST });
  const built = await tsray.build({ entry: join(dir, 'g.ts'), wit: dir, world: 'w' });
  const mod = await tsray.load(built.component);
  await withRuntime({ numCpus: 2 }, async () => {
    // 1 + 4 + 9 + 16 + 25, three squares, and "x#7" (3 characters).
    t.equal(await tsray.get(mod.fn('summed').remote(5)), 55 + 3000 + 300000);
    // Three adds of 5 to a till starting at 10, then its total.
    t.equal(await tsray.get(mod.fn('shopping').remote(3)), 25n + 25000n);
  });
});

t.test('a typed call with the wrong argument type is a build error; unmapped functions are listed', async (t) => {
  const bad = GUEST.replace('tasks.square.remote(<f64>i)', 'tasks.square.remote("one")');
  const dir = scratch({ 'w.wit': WIT, 'g.ts': bad });
  const e = await caught(t, () => tsray.build({ entry: join(dir, 'g.ts'), wit: dir, world: 'w' }));
  t.equal(e?.code, 'ERR_BUILD');
  t.match(e?.message, /TS2322|not assignable|Type 'string'/);
  const swapped = GUEST.replace('export function summed(n: u32): f64 {', 'export function summed(n: u32): f64 {\n  tasks.swap.remote(new Pair());');
  const dir2 = scratch({ 'w.wit': WIT, 'g.ts': swapped });
  const e2 = await caught(t, () => tsray.build({ entry: join(dir2, 'g.ts'), wit: dir2, world: 'w' }));
  t.equal(e2?.code, 'ERR_BUILD', 'swap takes a record, which has no typed stub');
});
