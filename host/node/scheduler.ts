/**
 * The embedded node's scheduler. Tasks wait for their ObjectRef arguments,
 * queue by resource shape, and run on worker leases: a worker holding a
 * lease for a shape (and the node resources it needs) takes a pipeline of
 * tasks of that shape, so tiny tasks do not pay a round trip each. A task
 * with a timeout gets a worker to itself, so the timer measures only it.
 * A guest blocked in `get` runs the task it waits for inline, or lends its
 * CPU (lending.ts).
 *
 * Longer than 400 lines because it is one state machine over tasks and
 * worker slots (dispatch, results, loss, cancel, inline runs): each
 * transition touches both, and split files would scatter its invariants.
 */
import { TaskCancelledError, TaskTimeoutError, UnschedulableError, WorkerCrashedError } from '../errors.js';
import type { FromWorker, GuestRequest, RunMsg } from '../worker/protocol.js';
import { workerError } from './worker-errors.js';
import { Task, type Slot } from './task.js';
import { WorkerHandle, type WorkerSite } from '../worker/worker-handle.js';
import { ObjectRef } from '../../store/object-ref.js';
import type { ObjectStore } from '../../store/object-store.js';
import { RefKind } from '../../store/references.js';
import type { TaskSpec } from '../core/specs.js';
import { NodeResources, fits as fitsWithin, shapeKey, type DeviceIds, type ResourceSet } from '../core/resources.js';
import { ShapeQueues } from './shape-queues.js';
import { Lending } from './lending.js';
// Past this depth a blocked worker only lends its CPU, and the node starts workers up to `maxWorkers`.
import { MAX_NESTED } from '../worker/nested-runs.js';
import type { NodeEvents } from './node-events.js';
import { claimFor, claimedTask, claimsLostWith, forgetClaim, nodeRuns } from './claimed-tasks.js';
import { ArgWaits, settleReturns, type Outcome } from '../core/pending-work.js';
import { oneNodeMiss, type NodeView } from '../core/placement.js';
import { retriesOwnError } from '../core/retry.js';
import { accelField } from '../core/accel-grant.js';

/** How many tasks a leased worker may hold queued ahead of the one it runs. */
const PIPELINE_DEPTH = 64;

export interface SchedulerConfig extends WorkerSite {
  resources: ResourceSet; deviceIds?: DeviceIds; // ids: the node's visible devices per kind
  /** Workers kept even when idle (the CPU count). */
  baseWorkers: number;
  /** Upper bound on workers, for fractional and zero-CPU tasks. */
  maxWorkers: number;
  warn: (message: string) => void;
  /** A guest running a task asks something of the runtime (see guest-runtime.ts). */
  onGuestRequest: (from: Slot, req: GuestRequest) => void;
  /** A task's value before it is stored: refs it returns as values are checked and held (may throw: the task fails). */
  taskValue?: (task: Task, value: unknown) => unknown;
  /** A task ended, whatever its outcome: what its guest held is released. */
  onTaskEnd?: (task: Task) => void;
  /** Resources were returned to the node. */
  onRelease: () => void;
  /** Where its tasks' state changes are recorded. */
  events?: NodeEvents;
}

export class Scheduler {
  private readonly tasks = new Map<number, Task>();
  private readonly byReturn = new Map<string, Task>();
  private readonly queues = new ShapeQueues<Task>((t) => t.state === 'queued');
  private readonly slots: Slot[] = [];
  private readonly resources: NodeResources;
  private readonly lending: Lending;
  private readonly warnedShapes = new Set<string>();
  /** Force-cancelled tasks that were queued on a worker (see `watchForced`). */
  private readonly forced = new Set<number>();
  private nextN = 1;
  private scheduleQueued = false;
  private closed = false;
  private readonly argWaits: ArgWaits<Task>;

  constructor(private readonly cfg: SchedulerConfig, private readonly objects: ObjectStore) {
    this.argWaits = new ArgWaits<Task>(objects, RefKind.PendingTask, {
      waiting: (t) => t.state === 'waiting',
      ready: (t) => this.enqueue(t),
      failed: (t, error) => this.finish(t, error),
      name: (t) => `task '${t.name}'`,
    });
    this.resources = new NodeResources(cfg.resources, cfg.deviceIds);
    this.lending = new Lending(this.resources, () => this.requestSchedule());
    for (let i = 0; i < cfg.baseWorkers; i++) this.spawn();
  }

  /**
   * Registers a task and returns its result refs at once. `claim`: a nested
   * task the worker of `slot` may run itself (worker/claims.ts).
   */
  submit(spec: TaskSpec, claim?: { k: number; slot: Slot }): ObjectRef[] {
    const n = this.nextN++;
    const returns: ObjectRef[] = [];
    for (let i = 0; i < spec.opts.numReturns; i++) returns.push(this.objects.create(spec.returnIds?.[i]));
    const task = new Task(spec, n, returns);
    this.tasks.set(n, task);
    if (claim && this.slots.includes(claim.slot)) claimFor(task, claim.k, claim.slot);
    for (const r of task.borrowed) this.objects.hold(r, RefKind.PendingTask);
    for (const r of returns) this.byReturn.set(r.id, task);
    if (!this.warnedShapes.has(task.shape) && !this.resources.feasible(spec.opts.request)) {
      this.warnedShapes.add(task.shape);
      this.cfg.warn(`task '${spec.name}' requests {${task.shape}} but this node has {${shapeKey(this.resources.totals())}}; it stays pending until a node that can run it joins`);
    }
    this.cfg.events?.task(task, 'PENDING_ARGS_AVAIL', -1, spec.opts.request);
    const miss = oneNodeMiss(spec.opts.strategy, spec.opts.request, this.nodeView);
    if (miss) this.finish(task, new UnschedulableError(`task '${spec.name}': ${miss}`));
    else this.argWaits.start(task);
    return returns;
  }

  private enqueue(task: Task, front = false): void {
    task.state = 'queued';
    this.cfg.events?.task(task, 'PENDING_NODE_ASSIGNMENT');
    if (task.parent !== undefined && task.attempt === 0 && !front) {
      task.fresh = true;
      setImmediate(() => { task.fresh = false; this.requestSchedule(); });
    }
    task.stored = task.args.some((a) => a instanceof ObjectRef && this.objects.isStored(a));
    this.queues.add(task, front);
    this.requestSchedule();
  }

  /**
   * The tasks sent to `slot`'s worker and not finished, in the order it would
   * run them, then the claimed ones it runs itself. Called when the worker is lost.
   */
  private runningOn(slot: Slot): Task[] {
    const out: Task[] = [];
    for (const n of slot.worker.inflight) {
      const t = this.tasks.get(n);
      if (t?.state === 'running') out.push(t);
    }
    return [...out, ...claimsLostWith(slot)];
  }

  /** The task whose guest sent a request from `slot` as item `n` (negative: a claimed task running there). */
  taskAsking(slot: Slot, n: number): Task | undefined {
    return n > 0 ? this.tasks.get(n) : claimedTask(slot, -n);
  }

  /**
   * Puts tasks taken back from a lost worker at the front of their queues,
   * in the order they were submitted, so none overtakes one sent before it.
   */
  private requeue(tasks: Task[]): void {
    for (let i = tasks.length - 1; i >= 0; i--) {
      const t = tasks[i]!;
      t.emitted = 0;
      // A task run again is the node's to place, whoever ran it before.
      forgetClaim(t);
      if (t.timer) { clearTimeout(t.timer); t.timer = undefined; }
      this.enqueue(t, true);
    }
  }

  private requestSchedule(): void {
    if (this.scheduleQueued) return;
    this.scheduleQueued = true;
    queueMicrotask(() => { this.scheduleQueued = false; this.schedule(); });
  }

  /** Dispatches as many queued tasks as leases and resources allow. */
  schedule(): void {
    if (this.closed) return;
    this.queues.drain((task) => {
      if (task.fresh) return false;
      if (!nodeRuns(task)) return true;
      const slot = this.slotFor(task);
      if (slot) this.dispatch(task, slot);
      return slot !== undefined;
    });
  }

  private slotFor(task: Task): Slot | undefined {
    const exclusive = task.opts.timeoutMs !== undefined;
    if (!exclusive) {
      let best: Slot | undefined;
      for (const s of this.slots) {
        // A nested task never waits behind another (its parent may be waiting for it), nor does anything wait behind a blocked guest.
        if (s.lease && s.lease.shape === task.shape && !s.lease.exclusive && s.waits === 0 && s.worker.inflight.length < (task.stored || task.parent !== undefined ? 1 : PIPELINE_DEPTH)
          && (!best || s.worker.inflight.length < best.worker.inflight.length)) best = s;
      }
      // A shape with a free resource share prefers a new lease over deepening a pipeline.
      if (best && best.worker.inflight.length === 0) return best;
      const fresh = this.lease(task, exclusive);
      return fresh ?? best;
    }
    return this.lease(task, exclusive);
  }

  private lease(task: Task, exclusive: boolean): Slot | undefined {
    let slot = this.slots.find((s) => !s.lease && s.worker.inflight.length === 0);
    if (!slot && this.slots.length >= this.cfg.maxWorkers) return undefined;
    const devices = this.acquire(task.opts.request);
    if (!devices) return undefined;
    slot ??= this.spawn();
    slot.lease = { shape: task.shape, request: task.opts.request, devices, exclusive };
    return slot;
  }

  private spawn(): Slot {
    const slot: Slot = {
      waits: 0, inlines: 0, lent: 0, claimed: new Map(),
      worker: new WorkerHandle(this.cfg, {
        results: (_w, outcomes) => this.onResults(slot, outcomes),
        died: (_w, why) => this.onDied(slot, why),
      }),
    };
    this.slots.push(slot);
    return slot;
  }

  /** `inline`: run inside the slot's blocked guest call (a result id: whose get the worker may answer itself). */
  private dispatch(task: Task, slot: Slot, inline: boolean | string = false): void {
    const w = slot.worker;
    let key: string;
    let args: unknown[];
    let then: RunMsg['then'];
    try {
      key = w.prepare(task.component, task.opts.maxMemoryMb);
      args = this.objects.argsFor(task.args, w.threadId, task);
      if (task.then.length) then = task.then.map((s) => ({ key: w.prepare(s.component, task.opts.maxMemoryMb), fn: s.fn, args: s.args, ...(s.each ? { each: s.each } : {}) }));
    } catch (e) {
      // The module cannot be prepared, or an argument's bytes are lost: the task fails, nothing else does.
      this.finish(task, e as Error);
      this.releaseIfIdle(slot);
      return;
    }
    w.send({ t: 'run', n: task.n, key, fn: task.fn, args, id: task.taskId, attempt: task.attempt, devices: slot.lease!.devices, ...accelField(task.opts.request, slot.lease!.devices, task.opts.acceleratorMemory), ...(task.log ? { log: task.log } : {}), ...(task.opts.capabilities ? { caps: task.opts.capabilities } : {}), ...(inline ? { inline: true as const } : {}), ...(typeof inline === 'string' ? { answers: inline } : {}), ...(then ? { then } : {}), ...(task.each ? { each: task.each } : {}), ...(task.read ? { read: task.read } : {}) });
    if (w.inflight.length === 0) w.setBusy(true);
    w.inflight.push(task.n);
    task.state = 'running';
    task.slot = slot;
    this.cfg.events?.task(task, 'RUNNING', w.threadId);
    if (inline) {
      task.inline = true;
      slot.inlines++;
      this.updateLending(slot);
    }
    if (task.opts.timeoutMs !== undefined) task.timer = setTimeout(() => this.timedOut(task), task.opts.timeoutMs);
  }

  private onResults(slot: Slot, messages: FromWorker[]): void {
    const w = slot.worker;
    for (const o of messages) {
      if ('ev' in o) {
        if (o.ev === 'rt') this.cfg.onGuestRequest(slot, o);
        continue;
      }
      const i = w.inflight[0] === o.n ? 0 : w.inflight.indexOf(o.n);
      if (i >= 0) w.inflight.splice(i, 1);
      this.forced.delete(o.n);
      const task = this.taskAsking(slot, o.n);
      if (!task || task.state !== 'running') continue;
      if (o.ok) { if (o.ms !== undefined) task.ran?.(o.ms); this.finish(task, { value: o.value }); }
      else {
        const error = workerError(task.name, o.error);
        if (!task.cancelled && retriesOwnError(task, task.opts, error)) this.requeue([task]);
        else this.finish(task, error);
      }
    }
    this.watchForced(slot);
    this.releaseIfIdle(slot);
    this.schedule();
  }

  /**
   * A force-cancelled task that was queued on a worker should be dropped
   * there; if it reached the head of the worker's queue and was not reported
   * dropped soon after, the worker started it before reading the cancel: stop
   * the worker, as force promises.
   */
  private watchForced(slot: Slot): void {
    const head = slot.worker.inflight[0];
    if (head === undefined || !this.forced.has(head)) return;
    setTimeout(() => {
      if (slot.worker.inflight[0] !== head || !slot.worker.isAlive) return;
      this.forced.delete(head);
      slot.worker.kill();
      this.dropSlot(slot);
      slot.worker.inflight.shift();
      this.requeue(this.runningOn(slot));
      slot.worker.inflight.length = 0;
      this.refill();
      this.schedule();
    }, 50);
  }

  private releaseIfIdle(slot: Slot): void {
    if (slot.worker.inflight.length > 0 || !slot.lease) return;
    this.lending.stop(slot);
    this.release(slot.lease.request, slot.lease.devices);
    slot.lease = undefined;
    slot.worker.setBusy(false);
  }

  /** Takes `request` (and device ids for its GPUs) from the node if free now; actors hold theirs this way. */
  acquire(request: ResourceSet): DeviceIds | undefined {
    return this.resources.acquire(request);
  }

  /** Returns resources taken by `acquire` (or a lease); queued work may now fit. */
  release(request: ResourceSet, devices: DeviceIds): void {
    this.resources.release(request, devices);
    this.cfg.onRelease();
    this.requestSchedule();
  }

  /** This node as placement sees it: its totals and what is free now. */
  readonly nodeView = (): NodeView => ({ nodeId: this.cfg.nodeId, total: this.resources.totals(), available: this.resources.available() });

  /** Whether the node could ever satisfy `request`. */
  feasible(request: ResourceSet): boolean {
    return this.resources.feasible(request);
  }

  private finish(task: Task, result: Outcome): void {
    if (task.state === 'done') return;
    if (task.inline && task.slot) {
      task.slot.inlines--;
      this.updateLending(task.slot);
    }
    if (!(result instanceof Error) && this.cfg.taskValue) {
      try {
        result = { value: this.cfg.taskValue(task, result.value) };
      } catch (e) {
        result = e as Error;
      }
    }
    task.state = 'done';
    forgetClaim(task);
    if (task.timer) clearTimeout(task.timer);
    this.tasks.delete(task.n);
    for (const r of task.returns) this.byReturn.delete(r.id);
    this.objects.unpin(task);
    this.argWaits.release(task);
    // A task cancelled before it ended fails as cancelled, whatever its guest made of the cancel (a child's cancelled result it could not handle, say).
    if (task.cancelled && !(result instanceof TaskCancelledError)) result = new TaskCancelledError(task.name);
    this.cfg.events?.task(task, result instanceof Error ? 'FAILED' : 'FINISHED', task.slot?.worker.threadId ?? -1, result instanceof Error ? result : undefined);
    settleReturns(this.objects, task.returns, result);
    for (const r of task.borrowed) this.objects.unhold(r, RefKind.PendingTask);
    this.cfg.onTaskEnd?.(task);
  }

  /** A worker ended unexpectedly: its tasks are retried (or fail once retries run out). */
  private onDied(slot: Slot, why: string): void {
    this.dropSlot(slot);
    const retry: Task[] = [];
    for (const task of this.runningOn(slot)) {
      if (task.cancelled) { this.finish(task, new TaskCancelledError(task.name)); continue; }
      task.attempt++;
      if (task.attempt > task.opts.maxRetries) this.finish(task, new WorkerCrashedError(task.name, task.attempt, why));
      else retry.push(task);
    }
    this.requeue(retry);
    slot.worker.inflight.length = 0;
    this.refill();
    this.schedule();
  }

  /** Kills a worker on purpose: `victim` fails with `error` (or is retried), the rest of its pipeline is requeued untouched. */
  private killFor(victim: Task, error: Error): void {
    const slot = victim.slot!;
    slot.worker.kill();
    this.dropSlot(slot);
    if (victim.cancelled || !retriesOwnError(victim, victim.opts, error)) this.finish(victim, error);
    this.requeue(this.runningOn(slot));
    slot.worker.inflight.length = 0;
    this.refill();
    this.schedule();
  }

  private dropSlot(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    this.lending.stop(slot);
    slot.waits = 0;
    slot.inlines = 0;
    if (slot.lease) {
      this.release(slot.lease.request, slot.lease.devices);
      slot.lease = undefined;
    }
  }

  /** Keeps the base number of workers after a loss. */
  private refill(): void {
    while (!this.closed && this.slots.length < this.cfg.baseWorkers) this.spawn();
  }

  private timedOut(task: Task): void {
    if (task.state !== 'running') return;
    this.killFor(task, new TaskTimeoutError(task.name, task.opts.timeoutMs!));
  }

  /** Cancels the task producing `ref`. Returns false when there is nothing to cancel. */
  cancel(ref: ObjectRef, force: boolean): boolean {
    const task = this.byReturn.get(ref.id);
    if (!task || task.state === 'done') return false;
    task.cancelled = true;
    const c = task.claim;
    if (c && !nodeRuns(task)) {
      // Its parent's worker runs it itself (claims.ts): stop it there, as a running task is stopped.
      if (force) this.killFor(task, new TaskCancelledError(task.name, 'it was cancelled with force: its worker was stopped'));
      else c.slot.worker.interrupt(-c.k);
      return true;
    }
    if (task.state !== 'running') {
      this.finish(task, new TaskCancelledError(task.name));
      return true;
    }
    const w = task.slot!.worker;
    if (w.inflight[0] !== task.n && !task.inline) {
      // Sent but still queued behind another task on that worker: it is done now; the worker
      // drops it when it reads the cancel, which is posted before it can reach the task.
      w.send({ t: 'cancel', n: task.n });
      w.flush();
      if (force) this.forced.add(task.n);
      this.finish(task, new TaskCancelledError(task.name));
      return true;
    }
    if (force) {
      this.killFor(task, new TaskCancelledError(task.name, 'it was cancelled with force: its worker was stopped'));
      return true;
    }
    w.interrupt(task.n);
    return true;
  }

  // ---- guests that block (see guest-runtime.ts) ----

  /** A request of `slot`'s guest now waits (`+1`) or was answered (`-1`): see lending.ts. */
  blocked(slot: Slot, delta: 1 | -1): void {
    this.lending.blocked(slot, delta, this.slots.includes(slot));
  }

  private updateLending(slot: Slot): void {
    this.lending.update(slot, this.slots.includes(slot));
  }

  /**
   * Runs the task behind `ref` inside `slot`'s blocked guest call, if it is
   * still queued here and fits the slot's lease: the waiting guest's own
   * CPU computes what it waits for, so nested gets need no extra workers.
   */
  runInline(ref: ObjectRef, slot: Slot, answers = false): boolean {
    const task = this.byReturn.get(ref.id);
    const lease = slot.lease;
    if (!task || !lease || lease.exclusive || slot.inlines >= MAX_NESTED || !this.slots.includes(slot)) return false;
    if (task.opts.timeoutMs !== undefined || !fitsWithin(lease.request, task.opts.request)) return false;
    if (task.state === 'queued') {
      // A claimed task its parent's worker already runs is not sent again.
      if (nodeRuns(task)) this.dispatch(task, slot, answers ? ref.id : true);
      return true;
    }
    // Sent to this worker behind the guest that waits: move it ahead.
    const w = slot.worker;
    if (task.state === 'running' && task.slot === slot && !task.inline && w.inflight.indexOf(task.n) > 0) {
      w.send({ t: 'promote', n: task.n });
      w.flush();
      task.inline = true;
      slot.inlines++;
      this.updateLending(slot);
      return true;
    }
    return false;
  }

  /** The task that makes `ref`, while it is not done. */
  taskOf(ref: ObjectRef): Task | undefined {
    return this.byReturn.get(ref.id);
  }

  /** Kills the worker running the task behind `ref`, as a crash would (for fault-injection tests). */
  crashWorkerOf(ref: ObjectRef): boolean {
    const task = this.byReturn.get(ref.id);
    if (!task || task.state !== 'running') return false;
    const slot = task.slot!;
    slot.worker.kill();
    this.onDied(slot, 'killed by tsray.testing.crashWorker');
    return true;
  }

  /** The worker running the task behind `ref`, if it is running. */
  workerOf(ref: ObjectRef): WorkerHandle | undefined {
    const t = this.byReturn.get(ref.id);
    return t?.state === 'running' ? t.slot?.worker : undefined;
  }

  /** Whether `ref` is produced by a task that is running now. */
  isRunning(ref: ObjectRef): boolean {
    return this.byReturn.get(ref.id)?.state === 'running';
  }

  /** Dispatches what it can, sends pending batches and takes results, without waiting for the event loop. */
  poll(): void {
    this.schedule();
    for (const s of this.slots) s.worker.flush();
    for (const s of this.slots) s.worker.poll();
  }

  availableResources(): ResourceSet {
    return this.resources.available();
  }

  totalResources(): ResourceSet {
    return this.resources.totals();
  }

  workers(): WorkerHandle[] {
    return this.slots.map((s) => s.worker);
  }

  /** It runs fused tasks (`TaskSpec.then`). */
  readonly fusesChains = true;

  get workerCount(): number {
    return this.slots.length;
  }

  /** Stops every worker; pending tasks fail with `error`. */
  async close(error: Error): Promise<void> {
    this.closed = true;
    for (const t of [...this.tasks.values()]) this.finish(t, error);
    await Promise.all(this.slots.map((s) => s.worker.stop()));
    this.slots.length = 0;
  }
}
