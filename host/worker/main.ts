/**
 * A worker thread of a node: runs tasks in component instances, one at a
 * time, in the order the scheduler sent them. Each task gets a pristine
 * instance: a pooled one reset to its post-instantiation state, or a new one.
 * The loop never returns to the event loop; it sleeps on the control block.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ComponentInstance, ComponentModule, ResourceHandle } from '../component/module.js';
import { LeanInstance } from '../engine/lean.js';
import type { HostEnv, LogLevel, TaskInfo } from '../engine/host-imports.js';
import { ArgumentTypeError, ComponentError, OutOfMemoryError, TaskError } from '../errors.js';
import { worldFromText } from '../wit/load.js';
import { CTL, type ModuleMsg, type Outcome, type RunMsg, type ToWorker, type WireError, type WorkerInit } from './protocol.js';

const init = workerData as WorkerInit & { port: MessagePort };
const ctl = new Int32Array(init.ctl);
const port = init.port;

/** Thrown from a host call when the running task is cancelled. */
class CancelSignal extends Error {}

let current: RunMsg | undefined;

const env: HostEnv = {
  taskInfo: (): TaskInfo => ({ taskId: current!.id, nodeId: init.nodeId, attempt: current!.attempt, acceleratorIds: Uint32Array.from(current!.devices) }),
  checkpoint: () => {
    if (current && Atomics.load(ctl, CTL.CANCEL) === current.n) throw new CancelSignal('cancelled');
  },
  sleep: (ms) => {
    const until = performance.now() + ms;
    for (let left = ms; left > 0; left = until - performance.now()) {
      const flag = Atomics.load(ctl, CTL.CANCEL);
      if (current && flag === current.n) return;
      Atomics.wait(ctl, CTL.CANCEL, flag, left);
    }
  },
  log: (level: LogLevel, message: string) => {
    if (level === 'warn' || level === 'error') process.stderr.write(`[${current?.id ?? 'task'} ${level}] ${message}\n`);
  },
};

interface Loaded { module: ComponentModule; core: WebAssembly.Module; opts: { resettable: true; maxBytes?: number }; pool: ComponentInstance[] }
const modules = new Map<string, Loaded>();
const queue: RunMsg[] = [];
let outbox: Outcome[] = [];
let transfer: ArrayBuffer[] = [];
let firstUnflushed = 0;

function addModule(m: ModuleMsg): void {
  const world = worldFromText(m.wit, m.world);
  const opts: Loaded['opts'] = m.maxBytes === undefined ? { resettable: true } : { resettable: true, maxBytes: m.maxBytes };
  const module = new ComponentModule(m.key, world, 'lean', async (makeHandle, e) => new LeanInstance(m.module, world, e, makeHandle, opts));
  modules.set(m.key, { module, core: m.module, opts, pool: [] });
}

/** A pristine instance: a pooled one (already reset) or a new one. */
function freshInstance(l: Loaded): ComponentInstance {
  const pooled = l.pool.pop();
  if (pooled) return pooled;
  let inst: ComponentInstance | undefined;
  const engine = new LeanInstance(l.core, l.module.world, env, (eng, r, token) => new ResourceHandle(r.name, r.owner, token, inst!, r), l.opts);
  inst = new ComponentInstance(l.module, engine);
  return inst;
}

function wire(e: unknown): WireError {
  if (e instanceof TaskError) {
    const cancelled = e.cause instanceof CancelSignal;
    const out: WireError = { kind: cancelled ? 'cancelled' : 'task', message: e.message, functionName: e.functionName, guestMessage: e.guestMessage };
    if (e.guestStack) out.guestStack = e.guestStack;
    if ('payload' in e) { out.payload = e.payload; out.hasPayload = true; }
    return out;
  }
  if (e instanceof OutOfMemoryError) return { kind: 'oom', message: e.message, functionName: e.functionName };
  if (e instanceof ArgumentTypeError) return { kind: 'argument', message: e.message };
  if (e instanceof ComponentError) return { kind: 'component', message: e.message };
  return { kind: 'internal', message: (e as Error)?.stack ?? String(e) };
}

/** Collects the ArrayBuffers a result owns outright, to move them instead of copying. */
function collectTransfer(v: unknown, seen: Set<ArrayBuffer>): void {
  if (v === null || typeof v !== 'object') return;
  if (ArrayBuffer.isView(v)) {
    const b = v.buffer;
    if (b instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === b.byteLength && !seen.has(b)) { seen.add(b); transfer.push(b); }
    return;
  }
  if (v instanceof ResourceHandle) return;
  for (const x of Array.isArray(v) ? v : Object.values(v)) collectTransfer(x, seen);
}

function run(msg: RunMsg): void {
  const l = modules.get(msg.key);
  if (!l) {
    outbox.push({ n: msg.n, ok: false, error: { kind: 'internal', message: `module ${msg.key} was never sent to this worker` } });
    return;
  }
  current = msg;
  let inst: ComponentInstance | undefined;
  try {
    inst = freshInstance(l);
    const value = inst.call(msg.fn, msg.args);
    collectTransfer(value, new Set());
    outbox.push({ n: msg.n, ok: true, value });
  } catch (e) {
    outbox.push({ n: msg.n, ok: false, error: wire(e) });
  } finally {
    if (inst) {
      if (inst.reset()) l.pool.push(inst);
      else inst.dispose();
    }
    Atomics.compareExchange(ctl, CTL.CANCEL, msg.n, 0);
    current = undefined;
  }
}

function flush(): void {
  if (outbox.length === 0) return;
  port.postMessage(outbox, transfer);
  outbox = [];
  transfer = [];
  Atomics.add(ctl, CTL.RESULTS, 1);
  Atomics.notify(ctl, CTL.RESULTS);
}

function drain(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    for (const msg of m.message as ToWorker[]) {
      if (msg.t === 'run') queue.push(msg);
      else if (msg.t === 'module') addModule(msg);
      else {
        const i = queue.findIndex((q) => q.n === msg.n);
        if (i >= 0) {
          queue.splice(i, 1);
          outbox.push({ n: msg.n, ok: false, error: { kind: 'cancelled', message: 'cancelled before it started' } });
        }
      }
    }
  }
}

for (;;) {
  const seen = Atomics.load(ctl, CTL.DOORBELL);
  drain();
  if (Atomics.load(ctl, CTL.STOP)) break;
  if (queue.length > 0) {
    if (outbox.length === 0) firstUnflushed = performance.now();
    run(queue.shift()!);
    // Batch results while busy, but never hold one back for long.
    if (queue.length === 0 || outbox.length >= 64 || performance.now() - firstUnflushed > 1) flush();
    continue;
  }
  flush();
  const spinUntil = performance.now() + init.spinUs / 1000;
  while (Atomics.load(ctl, CTL.DOORBELL) === seen && performance.now() < spinUntil) { /* spin: a new task is likely */ }
  if (Atomics.load(ctl, CTL.DOORBELL) === seen) Atomics.wait(ctl, CTL.DOORBELL, seen, 200);
}
port.close();
