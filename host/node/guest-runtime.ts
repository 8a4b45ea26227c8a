/**
 * The Ray API inside guests, served on the node's main thread: a guest's
 * `put`, `get`, `wait`, `cancel`, `submit` and actor calls arrive as
 * `GuestRequest`s from its worker (worker/runtime-client.ts) and are answered
 * with `ReplyMsg`s (values as guest-values.ts encodes them). Each guest has a `RefScope` (what it may name and what it
 * owns). A task blocked in `get`/`wait` runs the task it waits for inline
 * when that one is still queued here, and lends its CPU otherwise (see
 * `Scheduler.runInline` and `Scheduler.blocked`).
 */
import { decode } from 'cbor-x';
import { GetTimeoutError, InvalidArgumentError, NotGivenError, TsrayError } from '../errors.js';
import { ObjectRef, childId } from '../../store/object-ref.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { LoadedComponent } from '../component/loaded.js';
import { mapRefs, mentionsRef, passRefs } from '../core/ref-values.js';
import { exportFunc } from '../core/export-func.js';
import { checkRemoteArgs } from '../core/remote-args.js';
import { checkNumReturns, normalizeOptions, type ActorOptions, type NormalizedOptions, type TaskOptions } from '../core/options.js';
import { actorSpec, type ActorSpec, type TaskSpec } from '../core/specs.js';
import { nodeTakesClaim } from './claimed-tasks.js';
import { exportedResource } from '../component/module.js';
import type { LogTarget } from '../engine/guest-log.js';
import type { GuestOp, GuestRequest, ReplyMsg } from '../worker/protocol.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import type { Scheduler } from './scheduler.js';
import type { Slot, Task } from './task.js';
import { RefScope } from './ref-scope.js';
import { fromGuest, toGuest } from './guest-values.js';

/** Who asks: its scope, and what its nested tasks inherit. */
export interface Asker {
  scope: RefScope;
  component: LoadedComponent;
  caps: readonly string[] | undefined;
  log: LogTarget | undefined;
  /** The worker thread it runs on. */
  worker: WorkerHandle;
  /** Its task's or actor's id: what it makes gets ids of the same lineage (`childId`). */
  lineage: string;
  /** The worker slot of a task (a blocked task lends its CPU and runs what it waits for inline); absent for an actor. */
  slot?: Slot;
  /** The asking task; absent for an actor. */
  task?: Task;
}

/** How the node answers a guest's request. */
export type GuestAnswer = { ok: true; value?: unknown } | { ok: false; code: string; error: string };

/** What the actor manager hands its actors' guests' requests to. */
export interface ActorGuests {
  fromActor(actorId: string, component: LoadedComponent, caps: readonly string[] | undefined, log: LogTarget | undefined, w: WorkerHandle, msg: GuestRequest): void;
  endActor(actorId: string): void;
}

/**
 * Where a cluster node sends the nested tasks it should not run itself:
 * the head, which places them on any node. Unset on the embedded node.
 */
export interface TasksElsewhere {
  /** Whether a nested task with `opts` goes away; `claimable`: it may wait for room here (its parent's worker could run it, or it is an actor). */
  wants(opts: Pick<NormalizedOptions, 'strategy' | 'request'>, claimable: boolean): boolean;
  /** Sends it; its results settle the refs returned (under the ids the worker drew). */
  submit(spec: TaskSpec): ObjectRef[];
  /** Cancels one it sent; false when `ref` is not one of its results. */
  cancel(ref: ObjectRef, force: boolean, recursive: boolean): boolean;
  /** Sends a guest's actor for the head to place (when `wants` its strategy and request, `claimable`); returns its id. */
  createActor(spec: ActorSpec): string;
  /** Kills an actor it sent; false when `actorId` is not one. */
  killActor(actorId: string, noRestart: boolean): boolean;
}

/** Actor calls from guests, served by the actor manager. */
export interface GuestActorCalls {
  guestCall(actor: string, method: string, args: unknown[], answer: (a: GuestAnswer) => void, caller?: WorkerHandle): void;
  create(spec: ActorSpec): string;
  kill(actorId: string, noRestart: boolean, why?: string): void;
}

function failure(e: unknown): GuestAnswer {
  const err = e instanceof Error ? e : new Error(String(e));
  return { ok: false, code: err instanceof TsrayError ? err.code : 'ERR_INTERNAL', error: err.message };
}

/** A guest's CBOR arguments: an array, whose refs must be in `scope`. */
function argsArray(bytes: Uint8Array, scope: RefScope, what: string): unknown[] {
  const args = fromGuest(bytes, scope, what);
  if (!Array.isArray(args)) throw new InvalidArgumentError(`${what} must be a CBOR array`);
  return args;
}

/** A guest's CBOR options: a map (none when empty). */
function optionsMap(bytes: Uint8Array, what: string): object {
  if (bytes.length === 0) return {};
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (e) {
    throw new InvalidArgumentError(`${what} are not valid CBOR: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidArgumentError(`${what} must be a CBOR map`);
  return raw;
}

export class GuestRuntime {
  private readonly scopes = new Map<string, RefScope>();
  /** Set by a cluster node. */
  elsewhere: TasksElsewhere | undefined;

  constructor(private readonly objects: ObjectStore, private readonly scheduler: Scheduler, private readonly actors: GuestActorCalls,
    /** Cancels the task behind a ref (an actor call's too); false when nothing runs it. */
    private readonly cancelOne: (ref: ObjectRef, force: boolean) => boolean) {}

  private scope(key: string, borrowed?: readonly ObjectRef[]): RefScope {
    let s = this.scopes.get(key);
    if (!s) this.scopes.set(key, (s = new RefScope(key, borrowed)));
    return s;
  }

  /** A request of a task's guest, from the scheduler. */
  fromTask(slot: Slot, msg: GuestRequest): void {
    const w = slot.worker;
    const task = this.scheduler.taskAsking(slot, msg.n);
    if (!task || task.state !== 'running') return this.reply(w, msg.cid, { ok: false, code: 'ERR_RUNTIME_STATE', error: 'the asking task is no longer running' });
    // A request sent just before a cancel landed must not start children the cancel did not see.
    if (task.cancelled) return this.reply(w, msg.cid, { ok: false, code: 'ERR_TASK_CANCELLED', error: `task '${task.name}' was cancelled` });
    const scope = this.scope(`t${task.n}`, task.borrowed);
    scope.threadId = w.threadId;
    const asker: Asker = { scope, component: task.component, caps: task.opts.capabilities, log: task.log, worker: w, lineage: task.taskId, slot, task };
    this.handle(asker, msg.req, (a) => this.reply(w, msg.cid, a));
  }

  /** A request of an actor's guest, from the actor manager. */
  fromActor(actorId: string, component: LoadedComponent, caps: readonly string[] | undefined, log: LogTarget | undefined, w: WorkerHandle, msg: GuestRequest): void {
    const scope = this.scope(`a${actorId}`);
    scope.threadId = w.threadId;
    this.handle({ scope, component, caps, log, worker: w, lineage: actorId }, msg.req, (a) => this.reply(w, msg.cid, a));
  }

  private reply(w: WorkerHandle, cid: number, a: GuestAnswer): void {
    if (cid === 0) return;
    const m: ReplyMsg = a.ok ? { t: 'reply', cid, ok: true, value: a.value } : { t: 'reply', cid, ok: false, code: a.code, error: a.error };
    w.send(m);
  }

  private handle(asker: Asker, req: GuestOp, answer: (a: GuestAnswer) => void): void {
    const { scope } = asker;
    try {
      switch (req.op) {
        case 'call': return this.actors.guestCall(req.actor, req.method, req.args, answer, asker.worker);
        case 'put': return answer({ ok: true, value: scope.own(this.objects.put(fromGuest(req.value, scope, 'the value'))).id });
        case 'get': {
          const ref = scope.ref(req.id);
          return this.await(asker, [ref], 1, req.timeoutMs, (ready) => {
            if (ready.length === 0) return answer(failure(new GetTimeoutError(req.timeoutMs!, 1)));
            const s = this.objects.peek(ref);
            if (s && !s.ok) return answer(failure(s.error));
            try {
              answer({ ok: true, value: toGuest(this.objects.value(ref), scope) });
            } catch (e) {
              answer(failure(e));
            }
          });
        }
        case 'wait': {
          if (!Number.isSafeInteger(req.num) || req.num < 1 || req.num > req.ids.length) throw new InvalidArgumentError(`wait: numReturns must be between 1 and the number of refs (${req.ids.length}), got ${req.num}`);
          if (new Set(req.ids).size !== req.ids.length) throw new InvalidArgumentError('wait: refs must be unique');
          const refs = req.ids.map((id) => scope.ref(id));
          return this.await(asker, refs, req.num, req.timeoutMs, (ready) => answer({ ok: true, value: ready }));
        }
        case 'cancel':
          this.cancelTree(scope.ref(req.id), req.force, req.recursive);
          return answer({ ok: true });
        case 'release': scope.release(req.id); return;
        case 'submit': return this.submit(asker, req.fn, req.args, req.options, req.ids, req.local);
        case 'emit': return answer({ ok: true, value: this.emit(asker, req.value) });
        case 'create': return answer({ ok: true, value: this.createActor(asker, req.resource, req.args, req.options) });
        case 'kill':
          this.killActor(req.actor, req.noRestart, 'it was killed by a task');
          return answer({ ok: true });
      }
    } catch (e) {
      answer(failure(e));
    }
  }

  /**
   * Submits a guest's task under the result ids its worker drew. Nothing is
   * answered: a refused submit fails those results with the reason, which
   * the guest meets at its get.
   */
  private submit(asker: Asker, name: string, argBytes: Uint8Array, optBytes: Uint8Array, ids: string[], local?: { claim: number; taskId: string }): void {
    try {
      this.trySubmit(asker, name, argBytes, optBytes, ids, local);
    } catch (e) {
      for (const id of ids) {
        let ref: ObjectRef;
        try { ref = this.objects.create(id); } catch { continue; }
        this.objects.fail(ref, e as Error);
        asker.scope.own(ref);
      }
    }
  }

  private trySubmit(asker: Asker, name: string, argBytes: Uint8Array, optBytes: Uint8Array, ids: string[], local?: { claim: number; taskId: string }): void {
    const { scope, component } = asker;
    const e = exportFunc(component.world, name);
    if (!e) throw new InvalidArgumentError(`submit: this component exports no function '${String(name).slice(0, 200)}'`);
    const args = argsArray(argBytes, scope, 'submit arguments');
    const opts = normalizeOptions(optionsMap(optBytes, 'submit options') as TaskOptions);
    this.mayGrant(asker, opts.capabilities);
    if (opts.streaming) throw new InvalidArgumentError("submit: numReturns: 'streaming' is for tasks a driver submits, for now");
    checkNumReturns(e.func, opts.numReturns);
    if (ids.length !== opts.numReturns) throw new InvalidArgumentError(`submit: numReturns is ${opts.numReturns}, but ${ids.length} result ids were drawn`);
    const passed = passRefs(e.func.name, e.func.params, args);
    checkRemoteArgs(e.func, e.func.params, passed.args);
    const spec: TaskSpec = {
      component, name: e.func.name, fn: e.key, args: passed.args, opts, borrowed: passed.borrowed, parent: scope.key, returnIds: ids,
      ...(asker.log ? { log: asker.log } : {}), taskId: local?.taskId ?? childId(asker.lineage),
    };
    const claim = local && asker.slot ? { k: local.claim, slot: asker.slot } : undefined;
    // A task sent away must first be taken from its parent's worker; if that worker already runs it, it stays.
    const away = this.elsewhere?.wants(opts, !!claim) && (!claim || nodeTakesClaim(claim));
    const refs = away ? this.elsewhere!.submit(spec) : this.scheduler.submit(spec, claim);
    scope.children.push(refs[0]!);
    for (const r of refs) scope.own(r);
  }

  /** An actor of a resource the guest's own component exports; it ends with its creator unless detached. */
  private createActor(asker: Asker, resource: string, argBytes: Uint8Array, optBytes: Uint8Array): string {
    const { scope, component } = asker;
    const r = exportedResource(component.world, String(resource));
    const args = argsArray(argBytes, scope, 'constructor arguments');
    const spec: ActorSpec = { ...actorSpec(component, r.def, r.funcs.map((x) => x.func), optionsMap(optBytes, 'actor options') as ActorOptions, args), id: childId(asker.lineage) };
    this.mayGrant(asker, spec.capabilities);
    checkRemoteArgs(spec.ctor, spec.ctor.params, args);
    const id = this.elsewhere?.wants(spec, true) ? this.elsewhere.createActor(spec) : this.actors.create(spec);
    if (!spec.detached) scope.actors.push(id);
    return id;
  }

  /** A guest may grant a child only WASI capabilities it holds itself. */
  private mayGrant(asker: Asker, wanted: readonly string[] | undefined): void {
    const granted = new Set(asker.caps ?? []);
    const extra = (wanted ?? []).filter((c) => !granted.has(c));
    if (extra.length) throw new NotGivenError(`a task may grant only capabilities it holds; it does not hold ${extra.join(', ')}`);
  }

  /** The next value of a streaming task goes to its generator as a new object. */
  private emit(asker: Asker, bytes: Uint8Array): undefined {
    const task = asker.task;
    if (!task?.stream) throw new InvalidArgumentError("emit: only a task submitted with numReturns: 'streaming' emits values");
    const ref = this.objects.put(fromGuest(bytes, asker.scope, 'the value'));
    task.stream.push(task.emitted++, ref);
    return undefined;
  }

  /**
   * Answers `done` with the positions of the first `num` of `refs` to be
   * ready (fewer at the timeout). Meanwhile a task's worker runs the first
   * pending one inline if it is queued here, or lends its CPU.
   */
  private await(asker: Asker, refs: ObjectRef[], num: number, timeoutMs: number | undefined, done: (ready: number[]) => void): void {
    const ready: number[] = [];
    const settled = refs.map((r) => this.objects.peek(r) !== undefined);
    settled.forEach((done, i) => { if (done) ready.push(i); });
    if (ready.length >= num) return done(ready.slice(0, num));
    if (timeoutMs === 0) return done(ready);
    const { scope, slot } = asker;
    if (slot) {
      // A wait that may end early (a timeout, or the first `num` of more refs) must not be held up
      // running one of them: what it waits for then runs elsewhere.
      const first = refs[settled.indexOf(false)]!;
      if (timeoutMs === undefined && num === refs.length) this.scheduler.runInline(first, slot, refs.length === 1 && this.plainValue(first));
      this.scheduler.blocked(slot, 1);
    }
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const end = (): boolean => {
      if (over) return false;
      over = true;
      if (timer) clearTimeout(timer);
      scope.blocked.delete(end);
      if (slot) this.scheduler.blocked(slot, -1);
      return true;
    };
    scope.blocked.add(end);
    refs.forEach((r, i) => {
      if (settled[i]) return;
      this.objects.onSettled(r, () => {
        if (over) return;
        ready.push(i);
        if (ready.length >= num && end()) done(ready);
      });
    });
    if (timeoutMs !== undefined) timer = setTimeout(() => { if (end()) done(ready); }, timeoutMs);
  }

  /** Whether the task behind `ref` makes one value with no refs in it: a worker that runs it inline may hand it straight to its get. */
  private plainValue(ref: ObjectRef): boolean {
    const t = this.scheduler.taskOf(ref);
    return !!t && t.returns.length === 1 && !t.stream && !mentionsRef(exportFunc(t.component.world, t.fn)?.func.result);
  }

  /** Cancels the task behind `ref` and, when `recursive`, every task it submitted that has not ended, depth first. */
  cancelTree(ref: ObjectRef, force: boolean, recursive: boolean): boolean {
    const all = [ref];
    if (recursive) {
      for (let i = 0; i < all.length && all.length < 1_000_000; i++) {
        const t = this.scheduler.taskOf(all[i]!);
        const s = t && this.scopes.get(`t${t.n}`);
        if (s) all.push(...s.children);
      }
    }
    let any = false;
    // Children first, so none outlives the cancel of its parent and starts more.
    for (let i = all.length - 1; i >= 0; i--) any = this.cancelOne(all[i]!, force) || !!this.elsewhere?.cancel(all[i]!, force, recursive) || any;
    return any;
  }

  /** A task's value before it is stored: the refs it returns must be its own, and the value now holds them. */
  taskValue(task: Task, value: unknown): unknown {
    const e = exportFunc(task.component.world, task.fn);
    if (!e || !mentionsRef(e.func.result)) return value;
    const scope = this.scope(`t${task.n}`, task.borrowed);
    return mapRefs(e.func.result!, value, (r) => scope.ref((r as { objectId?: unknown } | null)?.objectId));
  }

  endTask(task: Task): void {
    this.end(`t${task.n}`);
  }

  endActor(actorId: string): void {
    this.end(`a${actorId}`);
  }

  private end(key: string): void {
    const s = this.scopes.get(key);
    if (!s) return;
    this.scopes.delete(key);
    // Actors fate-share with the guest that created them, as in Ray (detached ones excepted).
    for (const id of s.actors) this.killActor(id, true, 'the task or actor that created it ended');
    s.close();
  }

  /** Kills an actor here, or one the head placed for a guest here. */
  private killActor(actorId: string, noRestart: boolean, why: string): void {
    if (!this.elsewhere?.killActor(actorId, noRestart)) this.actors.kill(actorId, noRestart, why);
  }

  /** The refs guests own now: object id -> the worker threads holding it, with counts (for `tsray memory`). */
  heldByWorkers(): Map<string, Map<number, number>> {
    const out = new Map<string, Map<number, number>>();
    for (const s of this.scopes.values()) {
      for (const id of s.owned()) {
        let m = out.get(id);
        if (!m) out.set(id, (m = new Map()));
        m.set(s.threadId, (m.get(s.threadId) ?? 0) + 1);
      }
    }
    return out;
  }
}
