/**
 * Actors on the embedded node. An actor is a WIT resource living in one
 * component instance on its own worker thread for its whole life. Calls are
 * sent to that worker strictly in submission order (a call whose arguments
 * are still being computed holds back the calls after it), so they run one
 * at a time in order. Traps restart the actor while `maxRestarts` lasts
 * (constructor again, fresh state), as Ray does; then it is dead.
 *
 * Longer than 400 lines because an actor's life (waiting for resources,
 * start, ordered calls, restarts, death, guests' calls to it) is one state
 * machine over the actor's record and its calls' records.
 */
import {
  ActorDiedError, InvalidArgumentError, TaskCancelledError, TaskTimeoutError, UnschedulableError,
} from '../errors.js';
import type { FuncDef } from '../wit/types.js';
import { ObjectRef, newId } from '../../store/object-ref.js';
import { snapshotValue } from '../../store/snapshot.js';
import type { ObjectStore } from '../../store/object-store.js';
import { RefKind } from '../../store/references.js';
import type { NodeEvents } from './node-events.js';
import { ArgWaits, Lane, settleReturns } from '../core/pending-work.js';
import { oneNodeMiss } from '../core/placement.js';
import { findMethod, guestMethod, type ActorSpec } from '../core/specs.js';
import { funcUsesRefs } from '../core/ref-values.js';
import { DirectLinker } from './direct-linker.js';
import { ActorNames } from '../core/actor-names.js';
import { accelField } from '../core/accel-grant.js';
import type { Scheduler } from './scheduler.js';
import { WorkerHandle, type WorkerSite } from '../worker/worker-handle.js';
import type { DirectNote, FromWorker } from '../worker/protocol.js';
import type { ActorGuests, GuestAnswer } from './guest-runtime.js';
import { workerError } from './worker-errors.js';
import { Actor, Call, type ActorPeers } from './actor.js';

export class ActorManager {
  private readonly byId = new Map<string, Actor>();
  private readonly byAid = new Map<number, Actor>();
  private readonly names = new ActorNames();
  private readonly calls = new Map<string, Call>();
  private readonly waiting = new Set<Actor>();
  private nextAid = 1;
  private nextN = 1;
  private closed = false;
  private readonly ctorArgs: ArgWaits<Actor>;
  private readonly callArgs: ArgWaits<Call>;
  /** Direct links from guests' workers to actors' workers (see direct-linker.ts). */
  readonly direct = new DirectLinker();
  /** Where its actors' and their calls' state changes are recorded (set by the node). */
  events: NodeEvents | undefined;

  constructor(
    /** Where its workers run (shared with the scheduler's). */
    private readonly site: WorkerSite,
    private readonly objects: ObjectStore,
    private readonly scheduler: Scheduler,
    private readonly warn: (message: string) => void,
  ) {
    this.ctorArgs = new ArgWaits<Actor>(objects, RefKind.ActorHandle, {
      waiting: (a) => a.state === 'starting',
      ready: (a) => this.start(a),
      failed: (a, e) => this.die(a, `its constructor argument failed: ${e.message}`, e),
      name: (a) => `actor ${a.spec.resource.name}'s constructor`,
    });
    this.callArgs = new ArgWaits<Call>(objects, RefKind.PendingTask, {
      waiting: (c) => c.state === 'pending',
      ready: (c) => this.pump(c.actor),
      failed: (c, e) => { this.finish(c, e); this.pump(c.actor); },
      name: (c) => c.method.name,
    });
  }

  /** Creates an actor; it starts once its constructor arguments are ready and its resources are free. */
  create(spec: ActorSpec): string {
    this.names.check(spec.name);
    // The cluster's id where it gives one (so `tsray list` and `tsray logs` name the actor as its driver knows it), unless taken here.
    const id = spec.id !== undefined && !this.byId.has(spec.id) ? spec.id : newId();
    const actor = new Actor(this.nextAid++, id, { ...spec, args: spec.args.map(snapshotValue) }, new Lane(this.callWaits, this.sendCall));
    const miss = oneNodeMiss(spec.strategy, spec.request, this.scheduler.nodeView);
    this.byId.set(actor.id, actor);
    this.byAid.set(actor.aid, actor);
    this.names.claim(spec.name, actor.id);
    this.actorEvent(actor, 'PENDING_CREATION');
    if (miss) {
      this.die(actor, miss, new UnschedulableError(`actor ${spec.resource.name}: ${miss}`));
      return actor.id;
    }
    if (!this.scheduler.feasible(spec.request)) {
      this.warn(`actor ${spec.resource.name} requests more resources than this node has; it stays pending until a node that can host it joins`);
    }
    // Constructor arguments live as long as the actor: a restart runs the constructor again.
    this.ctorArgs.start(actor);
    return actor.id;
  }

  private eventActor(actor: Actor): { actorId: string; className: string; name?: string; restarts: number } {
    const s = actor.spec;
    return { actorId: actor.id, className: s.resource.name, ...(s.name !== undefined ? { name: s.name } : {}), restarts: s.maxRestarts - actor.restartsLeft };
  }

  private actorEvent(actor: Actor, state: 'PENDING_CREATION' | 'ALIVE' | 'RESTARTING', workerId?: number): void {
    this.events?.actor(this.eventActor(actor), state, workerId);
  }

  /** Takes resources and a dedicated worker, then sends the constructor; calls may follow at once. */
  private start(actor: Actor): void {
    if (this.closed || actor.state === 'dead') return;
    const devices = this.scheduler.acquire(actor.spec.request);
    if (!devices) {
      actor.state = 'waiting';
      this.waiting.add(actor);
      return;
    }
    this.waiting.delete(actor);
    actor.devices = devices;
    this.launch(actor);
  }

  private launch(actor: Actor): void {
    const spec = actor.spec;
    const w = new WorkerHandle(this.site, {
      results: (_w, msgs) => this.onMessages(actor, w, msgs),
      died: (_w, why) => this.onWorkerDied(actor, w, why),
    });
    actor.worker = w;
    actor.state = 'alive';
    this.actorEvent(actor, 'ALIVE', w.threadId);
    w.setBusy(true);
    let key: string;
    let args: unknown[];
    try {
      key = w.prepare(spec.component, spec.maxMemoryMb);
      args = this.objects.argsFor(spec.args, w.threadId, actor);
    } catch (e) {
      this.die(actor, `its module or constructor argument could not be prepared: ${(e as Error).message}`, e as Error);
      return;
    }
    w.send({
      t: 'actor-new', aid: actor.aid, id: actor.id, key, resource: spec.resource.name, owner: spec.resource.owner,
      args, devices: actor.devices ?? {}, ...accelField(actor.spec.request, actor.devices ?? {}, actor.spec.acceleratorMemory), restarts: Number.isFinite(actor.restartsLeft) ? actor.restartsLeft : 2 ** 30,
      ...(spec.log ? { log: spec.log } : {}), ...(spec.capabilities ? { caps: spec.capabilities } : {}),
    });
    this.pump(actor);
  }

  /** Resources came back: actors waiting for them may start. */
  retryWaiting(): void {
    for (const a of [...this.waiting]) this.start(a);
  }

  /** Queues a method call; returns its result refs at once. */
  call(actorId: string, method: FuncDef, args: unknown[], numReturns: number): ObjectRef[] {
    const actor = this.byId.get(actorId);
    if (!actor) throw new InvalidArgumentError(`no actor ${actorId} in this runtime`);
    const returns: ObjectRef[] = [];
    for (let i = 0; i < numReturns; i++) returns.push(this.objects.create());
    const call = new Call(this.nextN++, actor, method, args.map(snapshotValue), returns);
    actor.open++;
    for (const r of returns) this.calls.set(r.id, call);
    if (actor.state === 'dead') {
      this.finish(call, actor.death!);
      return returns;
    }
    this.callArgs.start(call);
    if (call.state === 'done') return returns;
    actor.pending.push(call);
    this.pump(actor);
    return returns;
  }

  /** Sends queued calls in order while the head one is ready (one at a time when calls have a timeout). */
  private pump(actor: Actor): void {
    if (actor.state !== 'alive') return;
    actor.pending.drain(actor.spec.timeoutMs === undefined ? undefined : () => actor.inflight.size === 0);
  }

  private readonly callWaits = (c: Call): boolean => c.state === 'pending';

  private readonly sendCall = (c: Call): void => {
    const actor = c.actor;
    const w = actor.worker!;
    c.state = 'sent';
    actor.inflight.set(c.n, c);
    let args: unknown[];
    try {
      args = this.objects.argsFor(c.args, w.threadId, c);
    } catch (e) {
      this.finish(c, e as Error);
      return;
    }
    w.send({ t: 'actor-call', n: c.n, aid: actor.aid, method: c.method.shortName, args, id: actor.id });
    this.events?.task(c, 'RUNNING', w.threadId, undefined, actor.id);
    if (actor.spec.timeoutMs !== undefined) c.timer = setTimeout(() => this.timedOut(c), actor.spec.timeoutMs);
  };

  private finish(call: Call, result: { value: unknown } | Error): void {
    if (call.state === 'done') return;
    call.state = 'done';
    if (call.timer) clearTimeout(call.timer);
    call.actor.inflight.delete(call.n);
    for (const r of call.returns) this.calls.delete(r.id);
    this.objects.unpin(call);
    this.callArgs.release(call);
    if (call.cancelled && !(result instanceof Error)) result = new TaskCancelledError(call.method.name);
    this.events?.task(call, result instanceof Error ? 'FAILED' : 'FINISHED', call.actor.worker?.threadId ?? -1, result instanceof Error ? result : undefined, call.actor.id);
    settleReturns(this.objects, call.returns, result);
    const actor = call.actor;
    if (--actor.open === 0 && actor.retiring !== undefined) this.die(actor, actor.retiring);
  }

  private onMessages(actor: Actor, w: WorkerHandle, msgs: FromWorker[]): void {
    if (actor.worker !== w) return;
    for (const m of msgs) {
      if ('ev' in m) {
        if (m.ev === 'rt') this.guests?.fromActor(actor.id, actor.spec.component, actor.spec.capabilities, actor.spec.log, w, m);
        else if (m.ev === 'actor-restarted') this.spendRestart(actor);
        else if (m.ev === 'direct') this.directCallRan(actor, w, m);
        else if (m.ev === 'actor-died') {
          const cause = workerError(actor.spec.ctor.name, m.error!, actor.id);
          this.die(actor, cause.message, cause);
        }
        continue;
      }
      const call = actor.inflight.get(m.n);
      if (!call) continue;
      this.finish(call, m.ok ? { value: m.value } : m.error.code === 'ERR_ACTOR_DIED' ? actor.death ?? new ActorDiedError(actor.id, m.error.message) : workerError(call.method.name, m.error, actor.id));
    }
    this.pump(actor);
  }

  /** A call that came over a direct link ran: recorded now, with the times the worker saw. */
  private directCallRan(actor: Actor, w: WorkerHandle, m: DirectNote): void {
    if (!this.events) return;
    const method = findMethod(actor.spec.methods, m.method);
    // Numbers from 2^47 up: clear of the calls numbered here.
    const t = { taskId: actor.id.slice(0, 20) + (2 ** 47 + m.dn).toString(16).padStart(12, '0'), name: `${actor.spec.resource.name}.${method?.shortName ?? m.method}`, attempt: 0 };
    this.events.task(t, 'RUNNING', w.threadId, undefined, actor.id, m.start);
    this.events.task(t, m.error ? 'FAILED' : 'FINISHED', w.threadId, m.error ? workerError(t.name, m.error, actor.id) : undefined, actor.id, m.end);
  }

  /** The actor's thread ended by itself: calls in flight fail; the actor restarts if it may. */
  private onWorkerDied(actor: Actor, w: WorkerHandle, why: string): void {
    if (actor.worker !== w) return;
    this.restartOrDie(actor, `its worker died (${why})`);
  }

  private restartOrDie(actor: Actor, why: string): void {
    const lost = new ActorDiedError(actor.id, why);
    const restarts = actor.restartsLeft > 0 && !this.closed;
    if (actor.worker) this.direct.actorGone(actor.worker, lost.message);
    const again: Call[] = [];
    for (const c of [...actor.inflight.values()]) {
      if (restarts && !c.cancelled && c.retriesLeft > 0) { c.retriesLeft--; again.push(c); } else this.finish(c, lost);
    }
    this.resend(actor, again);
    actor.worker = undefined;
    if (restarts) {
      this.spendRestart(actor);
      this.actorEvent(actor, 'RESTARTING');
      this.launch(actor);
    } else {
      this.die(actor, why);
    }
  }

  /** One restart of the actor's budget is spent (a cluster's head counts it too: the budget is one across nodes). */
  private spendRestart(actor: Actor): void {
    actor.restartsLeft--;
    this.peers?.restarted(actor.id);
  }

  /** Puts calls lost with the actor's worker back at the head of its queue, in the order they were made. */
  private resend(actor: Actor, calls: Call[]): void {
    for (let i = calls.length - 1; i >= 0; i--) {
      const c = calls[i]!;
      if (c.timer) { clearTimeout(c.timer); c.timer = undefined; }
      this.objects.unpin(c);
      actor.inflight.delete(c.n);
      c.state = 'pending';
      actor.pending.unshift(c);
    }
  }

  private timedOut(call: Call): void {
    if (call.state !== 'sent') return;
    const actor = call.actor;
    const w = actor.worker;
    this.finish(call, new TaskTimeoutError(call.method.name, actor.spec.timeoutMs!));
    this.restartOrDie(actor, `call '${call.method.name}' ran past its timeout of ${actor.spec.timeoutMs} ms`);
    w?.kill();
  }

  /** Marks the actor dead for good: every queued and later call fails with `ActorDiedError`. */
  private die(actor: Actor, why: string, cause?: Error): void {
    if (actor.state === 'dead') return;
    const wasHolding = actor.devices !== undefined;
    actor.state = 'dead';
    actor.death = new ActorDiedError(actor.id, why, cause ? { cause } : undefined);
    this.events?.actor(this.eventActor(actor), 'DEAD', -1, why);
    this.waiting.delete(actor);
    if (actor.worker) this.direct.actorGone(actor.worker, actor.death.message);
    actor.worker?.kill();
    actor.worker = undefined;
    for (const c of [...actor.inflight.values()]) this.finish(c, actor.death);
    for (const c of actor.pending.takeAll()) this.finish(c, actor.death);
    this.names.release(actor.spec.name, actor.id);
    this.byAid.delete(actor.aid); // dead actors are no longer polled; byId keeps answering their calls
    this.objects.unpin(actor);
    this.ctorArgs.release(actor);
    this.guests?.endActor(actor.id);
    if (wasHolding) {
      this.scheduler.release(actor.spec.request, actor.devices!);
      actor.devices = undefined;
    }
  }

  /** Ends the actor (saying `why`); with `noRestart: false` it restarts instead if restarts remain. */
  kill(actorId: string, noRestart: boolean, why = 'it was killed with tsray.kill()'): void {
    const actor = this.byId.get(actorId);
    if (!actor || actor.state === 'dead') return;
    if (!noRestart && actor.worker && actor.restartsLeft > 0) {
      // Killed after the restart is under way, so what ends with the thread ends saying why.
      const w = actor.worker;
      this.restartOrDie(actor, 'it was killed');
      w.kill();
      return;
    }
    this.die(actor, why);
  }

  /** No handle to the actor remains: it ends (saying `why`) once the calls already made on it finish. */
  retire(actorId: string, why: string): void {
    const actor = this.byId.get(actorId);
    if (!actor || actor.state === 'dead') return;
    if (actor.open === 0) this.die(actor, why);
    else actor.retiring = why;
  }

  /** Finds a named actor. */
  named(name: string): { id: string; spec: ActorSpec } | undefined {
    const id = this.names.find(name);
    const a = id === undefined ? undefined : this.byId.get(id);
    return a ? { id: a.id, spec: a.spec } : undefined;
  }

  spec(actorId: string): ActorSpec | undefined {
    return this.byId.get(actorId)?.spec;
  }

  /** Cancels the call behind `ref`; false when `ref` is not an actor call in progress. */
  cancel(ref: ObjectRef, force: boolean): boolean {
    const call = this.calls.get(ref.id);
    if (!call) return false;
    if (force) throw new InvalidArgumentError(`force-cancelling an actor call is not supported (it would kill the actor); cancel without force, or tsray.kill() the actor`);
    call.cancelled = true;
    const w = call.actor.worker;
    const running = call.actor.inflight.keys().next().value === call.n;
    if (call.state === 'pending' || !running || !w) {
      // Not started: done now; a copy already sent is dropped by the worker when it reads the cancel.
      if (call.state === 'sent' && w) { w.send({ t: 'cancel', n: call.n }); w.flush(); }
      this.finish(call, new TaskCancelledError(call.method.name));
      return true;
    }
    w.interrupt(call.n);
    return true;
  }

  /** The worker of the actor running the call behind `ref`, if it was sent. */
  workerOf(ref: ObjectRef): WorkerHandle | undefined {
    const c = this.calls.get(ref.id);
    return c?.state === 'sent' ? c.actor.worker : undefined;
  }

  /** Whether `ref` is an actor call sent to its actor and not finished. */
  isRunning(ref: ObjectRef): boolean {
    return this.calls.get(ref.id)?.state === 'sent';
  }

  /** A cluster node's link to the rest of the cluster (see `attach`). */
  private peers: ActorPeers | undefined = undefined;

  /** Links this manager to a cluster: calls to actors it does not host, and restarts it spends, go through `peers`. */
  attach(peers: ActorPeers): void {
    if (this.peers) throw new Error('this actor manager is already attached to a cluster');
    this.peers = peers;
  }

  /** Serves the runtime requests of actors' guests (see guest-runtime.ts). */
  guests: ActorGuests | undefined;

  /**
   * A guest (in a task or another actor, on worker `caller`) calls a method:
   * run it like any call, then answer. Its later calls to the actor may go
   * over a direct link, when the actor takes calls that way: no timeout or
   * retries to enforce here, and no refs in its methods.
   */
  guestCall(actorId: string, name: string, args: unknown[], answer: (a: GuestAnswer) => void, caller?: WorkerHandle): void {
    const fail = (e: { message: string; code?: string }): void => answer({ ok: false, code: e.code ?? 'ERR_TASK', error: e.message });
    const actor = this.byId.get(actorId);
    if (!actor) {
      if (this.peers) { this.peers.call(actorId, name, args).then((value) => answer({ ok: true, value }), fail); return; }
      return fail({ code: 'ERR_ACTOR_DIED', message: `no actor ${actorId} in this runtime` });
    }
    let method: FuncDef;
    try {
      method = guestMethod(actor.spec.resource.name, actor.spec.methods, name, args);
    } catch (e) {
      return fail(e as Error);
    }
    const [ref] = this.call(actor.id, method, args, 1);
    const spec = actor.spec;
    if (caller && actor.state === 'alive' && actor.worker && spec.timeoutMs === undefined && spec.maxTaskRetries === 0 && !spec.methods.some(funcUsesRefs)) {
      this.direct.link(caller, actor.worker, { id: actor.id, aid: actor.aid, className: spec.resource.name, methods: spec.methods });
    }
    this.objects.onSettled(ref!, (s) => {
      if (!s.ok) fail(s.error);
      else {
        try { answer({ ok: true, value: this.objects.value(ref!) }); } catch (e) { fail(e as Error); }
      }
      ref!.release();
    });
  }

  /** The worker threads of live actors. */
  workers(): WorkerHandle[] {
    const out: WorkerHandle[] = [];
    for (const a of this.byAid.values()) if (a.worker) out.push(a.worker);
    return out;
  }

  /** Polls actor workers for results (see `Scheduler.poll`). */
  poll(): void {
    for (const a of this.byAid.values()) {
      if (!a.worker) continue;
      a.worker.flush();
      a.worker.poll();
    }
  }

  async close(error: Error): Promise<void> {
    this.closed = true;
    const workers = this.workers();
    for (const a of this.byAid.values()) {
      a.worker = undefined;
      for (const c of [...a.inflight.values()]) this.finish(c, error);
      for (const c of a.pending.takeAll()) this.finish(c, error);
      a.state = 'dead';
    }
    await Promise.all(workers.map((w) => w.stop()));
  }
}

