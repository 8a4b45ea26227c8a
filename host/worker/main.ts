/**
 * A worker thread of a node: runs tasks and actor calls in component
 * instances, one at a time, in the order the scheduler sent them. Each task
 * gets a pristine instance: a pooled one reset to its post-instantiation
 * state, or a new one. An actor keeps one instance for its life. The loop
 * returns to the event loop only to await what is async (a jco instance's
 * setup, a file part's read); otherwise it sleeps on the control block.
 *
 * Longer than 400 lines because the loop, the item running now and the
 * pools and actors it runs in are one piece of state that every host call
 * of the running guest reaches; its parts with state of their own are
 * modules beside it (nested runs, claims, direct links, part reads).
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ComponentInstance, ResourceHandle } from '../component/module.js';
import type { ExportRef } from '../engine/types.js';
import { GuestEngines, type Loaded } from './guest-engines.js';
import { INTERRUPT, type HostEnv, type LogLevel, type TaskInfo } from '../engine/host-imports.js';
import { logFor, type ItemLog } from './item-log.js';
import { AccelSessions } from './accel-sessions.js';
import { TaskCancelledError, TaskError, TsrayError } from '../errors.js';
import { toWire } from '../core/error-codec.js';
import { Fifo } from '../core/fifo.js';
import { primaryIds, type DeviceIds } from '../core/resources.js';
import { collectHandles, handlesIn } from '../core/given-handles.js';
import { RuntimeClient } from './runtime-client.js';
import { NestedRuns } from './nested-runs.js';
import { InlineRuns } from './inline-runs.js';
import { WorkerClaims } from './claims.js';
import {
  CTL, type ActorCallMsg, type ActorNewMsg, type FromWorker, type LogMsg, type ModuleMsg, type RunMsg,
  type ToWorker, type WireError, type WorkItem, type WorkerInit, type Outcome,
} from './protocol.js';
import { DirectLinks } from './direct-links.js';
import { callShaped } from './shaped-calls.js';
import type { Each } from '../core/specs.js';
import { PartReads } from './part-reads.js';
import { argReader, collectTransfer, readArgs } from './crossing-values.js';

const init = workerData as WorkerInit & { port: MessagePort };
const ctl = new Int32Array(init.ctl);
const port = init.port;

const argValue = argReader(init.arenas);
const argValues = (args: unknown[]): unknown[] => readArgs(args, argValue);

/** Thrown from a host call when the running task is cancelled. */
class CancelSignal extends Error {
  readonly [INTERRUPT] = true;
}

/** The guest log of the item running now (see item-log.ts). */
let taskLog: ItemLog | undefined;

/** Hands a log record to the node's main thread, which prints it or sends it on. */
function postLog(m: LogMsg): void {
  port.postMessage(m);
}

/** What is running now: its number (for cancel; 0 for a constructor, which cannot be cancelled) and what `task-context` reports. */
let current: { n: number; id: string; attempt: number; devices: DeviceIds } | undefined;

/** Whether the scheduler asked the running item to stop (the cancel slot reads 0 when nothing is cancelled). */
function cancelRequested(flag: number): boolean {
  // Any item on the stack: one run inside a cancelled item's blocked call must unwind for that item to stop.
  return flag !== 0 && current !== undefined && stack.includes(flag);
}

/** The numbers of the items on this thread's stack, outermost first (items run inside blocked calls nest). */
const stack: number[] = [];

const env: HostEnv = {
  taskInfo: (): TaskInfo => ({ taskId: current!.id, nodeId: init.nodeId, attempt: current!.attempt, acceleratorIds: Uint32Array.from(primaryIds(current!.devices)), accelerators: current!.devices }),
  checkpoint: () => {
    if (cancelRequested(Atomics.load(ctl, CTL.CANCEL))) throw new CancelSignal('cancelled');
  },
  sleep: (ms) => {
    const until = performance.now() + ms;
    for (let left = ms; left > 0; left = until - performance.now()) {
      const flag = Atomics.load(ctl, CTL.CANCEL);
      if (cancelRequested(flag)) return;
      Atomics.wait(ctl, CTL.CANCEL, flag, left);
    }
  },
  log: (level: LogLevel, message: string) => taskLog?.write(level, message),
};
const accel = new AccelSessions(init.accel, env.checkpoint!);
env.extraImports = accel.imports;

interface Actor {
  msg: ActorNewMsg;
  inst?: ComponentInstance;
  self?: ResourceHandle;
  restartsLeft: number;
  dead?: WireError;
  /** Method name -> export, resolved once. */
  methods: Map<string, ExportRef>;
  /** The actor handles it was given (see given-handles.ts). */
  handles: Set<string>;
}

const modules = new Map<string, Loaded>();
const actors = new Map<number, Actor>();
/** Work in arrival order; a Fifo, since Array#shift on a long queue copies it each time. */
const queue = new Fifo<WorkItem>();
/** Numbers of queued items cancelled before they started. */
const cancelled = new Set<number>();
/** Items to run inside a blocked guest call (see runtime-client.ts), and numbers of queued ones to move there. */
const inline = new InlineRuns(queue);
let outbox: FromWorker[] = [];
const links = new DirectLinks(init.mail, (r) => client.take(r));
let transfer: ArrayBuffer[] = [];
let firstUnflushed = 0;

const engines = new GuestEngines(env);

function addModule(m: ModuleMsg): void {
  modules.set(m.key, engines.load(m));
}

function newInstance(l: Loaded, caps: readonly string[] = []): ComponentInstance {
  let inst: ComponentInstance | undefined;
  const engine = l.make((eng, r, token) => new ResourceHandle(r.name, r.owner, token, inst!, r), caps);
  inst = new ComponentInstance(l.module, engine);
  return inst;
}

function wire(failure: unknown): WireError {
  const e = accel.explain(failure);
  // A cancel unwinds the guest as a trap; it is reported as what it is.
  if (e instanceof TaskError && e.cause instanceof CancelSignal) return toWire(new TaskCancelledError(e.functionName));
  return toWire(e);
}

function succeed(n: number, value: unknown, ms?: number): void {
  collectTransfer(value, transfer);
  outbox.push({ n, ok: true, value, ...(ms === undefined ? {} : { ms }) });
}

/** Calls `fn` of module `key` with `args` in a pristine instance (pooled, or new), with the task's grants. */
function callFresh(key: string, fn: string, args: unknown[], caps: string[] | undefined, each?: Each): unknown {
  const l = modules.get(key);
  if (!l) throw new TsrayError('ERR_INTERNAL', `module ${key} was never sent to this worker`);
  const grants = caps?.join(' ') ?? '';
  let pool = l.pools.get(grants);
  if (!pool) l.pools.set(grants, (pool = []));
  let inst: ComponentInstance | undefined;
  try {
    const i = (inst = pool.pop() ?? newInstance(l, caps));
    return callShaped(fn, each, args, (a) => i.call(fn, a));
  } finally {
    if (inst) {
      if (inst.reset()) pool.push(inst);
      else inst.dispose();
    }
  }
}

const parts = new PartReads(init.dataRoots);

function runTask(msg: RunMsg): void {
  accel.beginTask(msg.accel);
  const t0 = parts.startOf(msg) ?? performance.now();
  try {
    let value = msg.read ? parts.take(msg) : callFresh(msg.key, msg.fn, argValues(msg.args), msg.caps, msg.each);
    // A fused task: each next function gets the value before it, without a trip through the store.
    for (const step of msg.then ?? []) value = callFresh(step.key, step.fn, [value, ...step.args], msg.caps, step.each);
    succeed(msg.n, value, performance.now() - t0);
  } catch (e) {
    outbox.push({ n: msg.n, ok: false, error: wire(e) });
  } finally {
    accel.endTask();
  }
}

/** Builds (or rebuilds) an actor's instance by running its constructor. */
function construct(a: Actor): WireError | undefined {
  const l = modules.get(a.msg.key);
  if (!l) return toWire(new TsrayError('ERR_INTERNAL', `module ${a.msg.key} was never sent to this worker`));
  a.inst?.dispose();
  // A rebuild after a trap runs inside the failed call: a cancel of that call must not reach the constructor.
  const outer = current;
  current = { n: 0, id: a.msg.id, attempt: 0, devices: a.msg.devices };
  accel.beginActor(a.msg.aid, a.msg.accel, true);
  try {
    a.inst = newInstance(l, a.msg.caps);
    const args = a.msg.args.map(argValue);
    collectHandles(args, a.handles);
    a.self = a.inst.construct(`${a.msg.owner}#${a.msg.resource}`, args);
    return undefined;
  } catch (e) {
    a.inst = undefined;
    accel.endActor(a.msg.aid);
    return wire(e);
  } finally {
    current = outer;
  }
}

function newActor(msg: ActorNewMsg): void {
  const a: Actor = { msg, restartsLeft: msg.restarts, methods: new Map(), handles: new Set() };
  actors.set(msg.aid, a);
  const err = construct(a);
  if (err) a.dead = err;
  outbox.push(err ? { ev: 'actor-died', aid: msg.aid, error: err } : { ev: 'actor-ready', aid: msg.aid });
}

function callActorMethod(msg: ActorCallMsg): void {
  const a = actors.get(msg.aid);
  if (!a || a.dead || !a.self) {
    answerCall(msg, { n: msg.n, ok: false, error: toWire(new TsrayError('ERR_ACTOR_DIED', a?.dead?.message ?? 'the actor is not on this worker')) });
    return;
  }
  const start = msg.direct ? Date.now() : 0;
  accel.beginActor(a.msg.aid, a.msg.accel);
  try {
    const args = argValues(msg.args);
    // A call over a direct link was not checked by the node.
    const name = msg.direct ? links.method(msg.aid, msg.method, args).shortName : msg.method;
    let ref = a.methods.get(name);
    if (!ref) a.methods.set(name, (ref = a.inst!.module.resolveMethod(a.msg.resource, a.msg.owner, name)));
    collectHandles(args, a.handles);
    answerCall(msg, { n: msg.n, ok: true, value: a.inst!.invoke(ref, [a.self, ...args]) }, start);
  } catch (e) {
    answerCall(msg, { n: msg.n, ok: false, error: wire(e) }, start);
    // A trap leaves the instance unusable: rebuild it while restarts last, as Ray restarts actors.
    if (a.inst?.broken) {
      if (a.restartsLeft > 0) {
        a.restartsLeft--;
        const err = construct(a);
        if (err) a.dead = err;
        outbox.push(err ? { ev: 'actor-died', aid: a.msg.aid, error: err } : { ev: 'actor-restarted', aid: a.msg.aid });
      } else {
        a.dead = wire(e);
        a.inst.dispose();
        accel.endActor(a.msg.aid);
        outbox.push({ ev: 'actor-died', aid: a.msg.aid, error: a.dead });
      }
    }
  }
}

/** A call's outcome goes to the node, or (a direct call's) back over its link. */
function answerCall(msg: ActorCallMsg, o: Outcome, start = 0): void {
  if (msg.direct) links.answer(msg.direct, msg.aid, msg.method, o, start);
  else if (o.ok) succeed(o.n, o.value);
  else outbox.push(o);
}

/** The item running now, and (for a task, found at its first actor call) the handles it was given. */
let running: WorkItem | undefined;
let taskHandles: Set<string> | undefined;

function givenHandles(): Set<string> {
  const item = running!;
  if (item.t === 'run') return (taskHandles ??= handlesIn(item.args));
  return actors.get(item.aid)?.handles ?? new Set();
}

function runItem(item: WorkItem): void {
  if (item.t !== 'actor-new' && cancelled.delete(item.n)) {
    outbox.push({ n: item.n, ok: false, error: toWire(new TaskCancelledError('', 'it was cancelled before it started')) });
    return;
  }
  current = item.t === 'actor-new'
    ? { n: 0, id: item.id, attempt: 0, devices: item.devices }
    : { n: item.n, id: item.id, attempt: item.t === 'run' ? item.attempt : 0, devices: item.t === 'run' ? item.devices : actors.get(item.aid)?.msg.devices ?? {} };
  running = item;
  engines.itemStarted();
  taskHandles = undefined;
  stack.push(current.n);
  try {
    if (item.t === 'run') runTask(item);
    else if (item.t === 'actor-new') newActor(item);
    else callActorMethod(item);
  } finally {
    stack.pop();
    if (current.n) Atomics.compareExchange(ctl, CTL.CANCEL, current.n, 0);
    current = undefined;
  }
}

let reportedAt = -Infinity;
/** Publishes this thread's memory use for `tsray memory`, at most every 100 ms. */
function reportMemory(): void {
  const now = performance.now();
  if (now - reportedAt < 100) return;
  reportedAt = now;
  let guest = 0;
  const count = (i: ComponentInstance | undefined): void => { guest += i?.engine.memoryBytes ?? 0; };
  for (const l of modules.values()) for (const pool of l.pools.values()) pool.forEach(count);
  for (const a of actors.values()) count(a.inst);
  Atomics.store(ctl, CTL.HEAP_KB, Math.round(process.memoryUsage().heapUsed / 1024));
  Atomics.store(ctl, CTL.GUEST_KB, Math.round(guest / 1024));
}

/** Posts what is in the outbox, with the notes of direct calls when due (`notes`: now, before sleeping). */
function flush(notes = false): void {
  links.takeNotes(notes || outbox.length > 0, outbox);
  if (outbox.length === 0) return;
  reportMemory();
  port.postMessage(outbox, transfer);
  outbox = [];
  transfer = [];
  Atomics.add(ctl, CTL.RESULTS, 1);
  Atomics.notify(ctl, CTL.RESULTS);
}

function drain(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    for (const msg of m.message as ToWorker[]) {
      switch (msg.t) {
        case 'run':
          if (!inline.arrived(msg)) queue.push(msg);
          break;
        case 'actor-new': case 'actor-call': queue.push(msg); break;
        case 'promote': inline.promote(msg.n); break;
        case 'module': addModule(msg); break;
        case 'reply': client.take(msg); break;
        case 'cancel': cancelled.add(msg.n); break;
        case 'link': case 'unlink': links.onMessage(msg); break;
      }
    }
  }
  links.drain((c, slot, aid) => queue.push({ t: 'actor-call', n: 0, aid, method: c.method, args: c.args, id: actors.get(aid)?.msg.id ?? '', direct: { slot, cid: c.cid } }));
}

/** Runs one item as it is taken from a queue, with its own log. */
function runQueued(item: WorkItem): void {
  taskLog = logFor(item, (aid) => actors.get(aid)?.msg, init.logLevel, postLog);
  runItem(item);
  taskLog.end();
  taskLog = undefined;
}

const nestedRuns = new NestedRuns({
  setAside: () => {
    const saved = { current, running, taskHandles, taskLog, accel: accel.setAside() };
    return () => { ({ current, running, taskHandles, taskLog } = saved); accel.restore(saved.accel); };
  },
  run: runQueued,
  lastOutcome: (n) => { const o = outbox.at(-1); return o && 'ok' in o && o.n === n ? o : undefined; },
  flush,
  runningTask: () => (running?.t === 'run' ? running : undefined),
  worldOf: (key) => modules.get(key)?.module.world,
}, inline, new WorkerClaims(init.claims));

const client = new RuntimeClient({
  post: (req) => { outbox.push(req); flush(); },
  drain,
  runInline: () => nestedRuns.runInline(),
  madeHere: (id) => inline.take(id),
  claims: nestedRuns.claims,
  mayRunHere: () => nestedRuns.mayRunHere(),
  runHere: (s) => nestedRuns.runHere(s),
  checkpoint: () => env.checkpoint!(),
  asker: () => (running && running.t !== 'actor-new' ? running.n : 0),
  lineage: () => current?.id ?? '',
  givenActors: givenHandles,
  doorbell: () => Atomics.load(ctl, CTL.DOORBELL),
  sleep: (seen, spin) => {
    const until = spin ? performance.now() + init.spinUs / 1000 : 0;
    while (spin && Atomics.load(ctl, CTL.DOORBELL) === seen && performance.now() < until) { /* an answer over a direct link is due */ }
    Atomics.wait(ctl, CTL.DOORBELL, seen, 50);
  },
  links,
});
env.runtime = client;

reportMemory();
let drainedAt = -1;
let missedSpins = 0;
let idlePeriods = 0;
let directCallsSeen = 0;
for (;;) {
  const seen = Atomics.load(ctl, CTL.DOORBELL);
  // Read the port only when the scheduler posted since the last read: a cancel always lands before the next item.
  if (seen !== drainedAt) { drainedAt = seen; drain(); }
  if (engines.pending) await engines.settle();
  if (Atomics.load(ctl, CTL.STOP)) break;
  if (inline.length > 0 || queue.length > 0) {
    if (outbox.length === 0) firstUnflushed = performance.now();
    const item = inline.shift() ?? queue.shift()!;
    if (item.t === 'run' && item.read && !cancelled.has(item.n)) await parts.readAhead(item);
    runQueued(item);
    inline.clearValues();
    client.endItem();
    if (queue.length === 0 && inline.length === 0) cancelled.clear();
    // Batch results while busy, but never hold one back for long.
    if (queue.length === 0 || outbox.length >= 64 || performance.now() - firstUnflushed > 1) flush();
    continue;
  }
  flush();
  // Spin briefly for the next item while spinning pays off; after a few idle
  // periods with no work in time, sleep at once (a spin on a core the driver
  // shares only delays it), probing with a spin now and then.
  idlePeriods++;
  // A guest calling over a direct link calls in a loop more often than not: wait for its next call spinning.
  if (missedSpins < 4 || idlePeriods % 32 === 0 || directCallsSeen !== links.callsRun) {
    directCallsSeen = links.callsRun;
    const spinUntil = performance.now() + init.spinUs / 1000;
    while (Atomics.load(ctl, CTL.DOORBELL) === seen && performance.now() < spinUntil) { /* spin: a new item is likely */ }
    if (Atomics.load(ctl, CTL.DOORBELL) === seen) missedSpins++;
    else missedSpins = 0;
  }
  if (Atomics.load(ctl, CTL.DOORBELL) === seen) {
    flush(true);
    Atomics.wait(ctl, CTL.DOORBELL, seen, 200);
  }
}
port.close();
