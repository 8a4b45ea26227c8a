// The Ray API inside tasks: tasks that submit tasks and get their results,
// objects put and read by guests, refs passed and returned as values, and a
// parameter server (an actor updated by worker tasks). Calls go through the
// typed stubs `tsray build` generates ("tsray/remote"), or, where the point
// is the dynamic path, through CBOR by hand.
import * as tasks from "tsray/remote";
import {
  sleep, taskContext, ActorHandle, CborWriter, ObjectRef, put, tryPut, get, tryGet, wait, remote, trySubmit, emit,
} from "tsray";

export class ParamServer {
  private w: Float64Array;
  private updates: u32 = 0;

  constructor(size: u32) {
    this.w = new Float64Array(size);
  }

  apply(grad: Float64Array): u32 {
    const n = min(grad.length, this.w.length);
    for (let i = 0; i < n; i++) this.w[i] += grad[i];
    return ++this.updates;
  }

  weights(): Float64Array {
    return this.w;
  }

  node(): string {
    return taskContext().nodeId;
  }
}

export function fib(n: u32): f64 {
  if (n < 2) return <f64>n;
  const a = tasks.fib.remote(n - 1);
  const b = tasks.fib.remote(n - 2);
  return tasks.fib.get(a) + tasks.fib.get(b);
}

function chunkSum(data: ObjectRef, lo: u32, hi: u32): f64 {
  const all = get(data).f64s();
  let s: f64 = 0;
  for (let i = lo; i < hi; i++) s += all[i];
  return s;
}

export function treeSum(data: ObjectRef, lo: u32, hi: u32, leaf: u32): f64 {
  if (hi - lo <= leaf) return chunkSum(data, lo, hi);
  const mid = lo + (hi - lo) / 2;
  const left = tasks.treeSum.remote(data, lo, mid, leaf);
  const right = tasks.treeSum.remote(data, mid, hi, leaf);
  return tasks.treeSum.get(left) + tasks.treeSum.get(right);
}

export function train(server: ActorHandle, workers: u32, steps: u32): f64 {
  const refs = new Array<ObjectRef>();
  for (let i: u32 = 0; i < workers; i++) refs.push(tasks.pushGrads.remote(server, steps, <f64>(i + 1)));
  for (let i = 0; i < refs.length; i++) tasks.pushGrads.get(refs[i]);
  const w = tasks.ParamServer.weights(server);
  let s: f64 = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  return s;
}

export function pushGrads(server: ActorHandle, steps: u32, scale: f64): u32 {
  let last: u32 = 0;
  const grad = new Float64Array(4);
  grad.fill(scale);
  for (let i: u32 = 0; i < steps; i++) last = tasks.ParamServer.apply(server, grad);
  return last;
}

export function makeRef(n: u32, value: f64): ObjectRef {
  const a = new Float64Array(n);
  a.fill(value);
  return put(new CborWriter().f64s(a));
}

export function fill(n: u32, value: f64): Float64Array {
  const a = new Float64Array(n);
  a.fill(value);
  return a;
}

export function makeRefs(count: u32, n: u32): ObjectRef[] {
  const out = new Array<ObjectRef>();
  for (let i: u32 = 0; i < count; i++) out.push(remote("fill", new CborWriter().array(2).uint(n).float(<f64>(i + 1))));
  return out;
}

export function sumRefs(refs: ObjectRef[]): f64 {
  let s: f64 = 0;
  for (let i = 0; i < refs.length; i++) {
    const a = get(refs[i]).f64s();
    for (let j = 0; j < a.length; j++) s += a[j];
  }
  return s;
}

export function nap(ms: u32): u32 {
  sleep(ms);
  return ms;
}

export function waitChild(ms: u32): u32 {
  return tasks.nap.get(tasks.nap.remote(ms));
}

export function noop(): u32 {
  return 1;
}

export function chain(n: u32): u32 {
  let total: u32 = 0;
  for (let i: u32 = 0; i < n; i++) total += <u32>get(remote("noop", new CborWriter().array(0))).int();
  return total;
}

export function tree(n: u32): u32 {
  if (n <= 1) return 1;
  const half = n / 2;
  const a = remote("tree", new CborWriter().array(1).uint(half));
  const b = remote("tree", new CborWriter().array(1).uint(n - half));
  return <u32>(get(a).int() + get(b).int());
}

export function hold(refs: ObjectRef[], ms: u32): u32 {
  sleep(ms);
  return refs.length;
}

export function spawnAndSpin(children: u32, ms: u32): u32 {
  return spawnWithAndSpin(children, ms, new Uint8Array(0));
}

export function spawnWithAndSpin(children: u32, ms: u32, options: Uint8Array): u32 {
  for (let i: u32 = 0; i < children; i++) remote("nap", new CborWriter().array(1).uint(ms), options.length == 0 ? null : new CborWriter().raw(options));
  let n: u32 = 0;
  while (true) { sleep(1); n++; }
  return n;
}

export function fails(message: string): f64 {
  throw new Error(message);
}

export function catchChild(message: string): string {
  const r = tryGet(remote("fails", new CborWriter().array(1).str(message)));
  const f = r.failure;
  return f === null ? "no failure" : f.code + ": " + f.message;
}

export function propagate(message: string): f64 {
  return get(remote("fails", new CborWriter().array(1).str(message))).float();
}

export function race(a: u32, b: u32, c: u32): Uint32Array {
  const refs = new Array<ObjectRef>();
  refs.push(remote("nap", new CborWriter().array(1).uint(a)));
  refs.push(remote("nap", new CborWriter().array(1).uint(b)));
  refs.push(remote("nap", new CborWriter().array(1).uint(c)));
  return wait(refs, 2);
}

export function getTimeout(napMs: u32, timeoutMs: u32): string {
  const r = tryGet(remote("nap", new CborWriter().array(1).uint(napMs)), <i64>timeoutMs);
  const f = r.failure;
  return f === null ? "ok" : f.code;
}

export function forge(id: string): string {
  const f = tryGet(ObjectRef.of(id)).failure;
  return f === null ? "ok" : f.code;
}

export function ownServer(name: string, detached: bool, workers: u32, steps: u32): f64 {
  const opts = new CborWriter().map(detached ? 2 : 1).str("name").str(name);
  if (detached) opts.str("lifetime").str("detached");
  const server = tasks.ParamServer.create(4, opts);
  return train(server, workers, steps);
}

export function serverWith(options: Uint8Array, workers: u32, steps: u32): string {
  const server = tasks.ParamServer.create(4, new CborWriter().raw(options));
  const sum = train(server, workers, steps);
  return tasks.ParamServer.node(server) + " " + sum.toString() + " " + server.id;
}

export function squares(n: u32, pauseMs: u32): u32 {
  for (let i: u32 = 0; i < n; i++) {
    sleep(pauseMs);
    emit(new CborWriter().uint(<u64>i * i));
  }
  return n;
}

export function emitThenFail(n: u32, message: string): u32 {
  for (let i: u32 = 0; i < n; i++) emit(new CborWriter().uint(i));
  throw new Error(message);
}

export function putRaw(value: Uint8Array): string {
  const f = tryPut(new CborWriter().raw(value)).failure;
  return f === null ? "ok" : f.code + ": " + f.message;
}

export function createRaw(resourceName: string, args: Uint8Array, options: Uint8Array): string {
  const h = ActorHandle.tryCreate(resourceName, new CborWriter().raw(args), options.length == 0 ? null : new CborWriter().raw(options));
  return h === null ? ActorHandle.lastError() : "ok";
}

export function submitRaw(fn: string, args: Uint8Array, options: Uint8Array): string {
  const r = trySubmit(fn, new CborWriter().raw(args), options.length == 0 ? null : new CborWriter().raw(options));
  let f = r.failure;
  // A submit the node refuses fails its results with the reason: it shows at get.
  if (f === null) f = tryGet(r.value[0]).failure;
  return f === null ? "ok" : f.code + ": " + f.message;
}

export function nodeHere(): string {
  return taskContext().nodeId;
}

export function nodesOf(count: u32, options: Uint8Array): string[] {
  const refs = new Array<ObjectRef>();
  for (let i: u32 = 0; i < count; i++) {
    refs.push(remote("node-here", new CborWriter().array(0), options.length == 0 ? null : new CborWriter().raw(options)));
  }
  const out = new Array<string>();
  for (let i = 0; i < refs.length; i++) out.push(get(refs[i]).str());
  return out;
}
