/**
 * A cluster node: a local node (scheduler, worker threads, object store)
 * that joins the head, reports its resources, heartbeats what is free, and
 * runs the tasks the head sends it on its own scheduler. Components arrive
 * once per node, by content hash. Large results stay here (the submitter
 * gets their location) until the submitter lets them go; arguments held by
 * other nodes are pulled straight into this node's store (crossing-objects.ts).
 * Its guests' nested tasks run here or go to the head (tasks-away.ts).
 * Drivers also send tasks here directly, on worker leases (leased-work.ts).
 */
import { hostname } from 'node:os';
import { EmbeddedNode, type InitOptions } from '../node/node.js';
import { loadComponent, type LoadedComponent } from '../component/load.js';
import { exportedResource } from '../component/module.js';
import { ActorDiedError, ComponentError, InvalidArgumentError } from '../errors.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { actorSpec, findMethod, type ActorSpec } from '../core/specs.js';
import type { ActorOptions } from '../core/options.js';
import { HeadLink } from './head-link.js';
import { isWildcard, publicHost, routeTo } from './host-address.js';
import { requireServing, type Tls } from './tls.js';
import type { ActorCallFrame, ActorCreateFrame, ComponentReply, Frame, Resume, ReturnValue, TaskFrame } from './protocol.js';
import { toWire } from '../core/error-codec.js';
import { ObjectPuller, ObjectServer, type ServerWork } from './object-transfer.js';
import { remoteLocation } from './remote-arg.js';
import { checkCall, checkChainStep, checkTask, taskFunc } from './work-checks.js';
import { TasksAway } from './tasks-away.js';
import { sendFrees } from './free-batch.js';
import { CrossingObjects } from './crossing-objects.js';
import { nodeMemory } from '../node/memory-report.js';
import { DEFAULT_LOG_FILTER, type GuestLog } from '../engine/guest-log.js';
import { LeasedWork, type Answers } from './leased-work.js';
import { Members } from './members.js';
import { CallsElsewhere } from './calls-elsewhere.js';
import { newToken } from './token.js';

/** How often a node reports to the head. */
export const HEARTBEAT_MS = 1000;

/** Results sent within this long go to a head that came back again: the old one may have died holding them. */
export const REPLAY_RESULTS_MS = 30_000;

/** How a node's link to the head ended for good. */
export interface HeadLost {
  why: string;
  /** The head is back, but without this node (it restarted without its tables, or declared the node dead): join it anew. */
  headBack: boolean;
}

export class NodeAgent {
  private readonly timer: NodeJS.Timeout;
  /** Set by `close()`: the connection ending is then expected. */
  closing = false;
  private beatSoon: NodeJS.Timeout | undefined;
  private readonly components = new Map<string, Promise<LoadedComponent>>();
  /** The same, once loaded: most tasks then start without a single await. */
  private readonly loaded = new Map<string, LoadedComponent>();
  /**
   * Every task, actor creation and call the head sent that is not answered
   * yet, by id (what a resume reports), with its result refs once it runs (for cancel).
   */
  private readonly running = new Map<string, ObjectRef[]>();
  /** How long each task that finished ran on its worker, until its result goes (ResultFrame.ms). */
  private readonly runMs = new Map<string, number>();
  private readonly puller: ObjectPuller;
  /** Results kept here for submitters elsewhere, and arguments pulled here. */
  private readonly crossing: CrossingObjects;
  /** Cluster actor id -> the local actor hosting it. */
  private readonly actorIds = new Map<string, { localId: string; spec: ActorSpec }>();
  private readonly actorChains = new Map<string, Promise<void>>();
  /** Calls this node's guests made to actors hosted on other nodes. */
  private readonly elsewhere: CallsElsewhere;
  /** Nested tasks this node's guests submitted that the head places. */
  private readonly away: TasksAway;
  /** Answers to work the head sent. */
  private readonly head: Answers = { send: (f) => this.peer.send(f), running: this.running };
  /** Work drivers send here on worker leases. */
  readonly leased: LeasedWork;

  /** `members`: the cluster's nodes, as the head announces them (leased work may take arguments there, pullers may be sent there: members.ts). */
  private constructor(readonly node: EmbeddedNode, private readonly peer: HeadLink, private readonly server: ObjectServer, token: string, tls: Tls | undefined, leaseKey: string,
    private readonly members: Members) {
    // What it pulls it shares a while with other pullers (a transfer tree), within half of its store.
    this.puller = new ObjectPuller(node.objects, token, tls, { location: (ref, size) => server.location(node.nodeId, ref.id, size), maxBytes: node.objects.opts.capacity / 2 });
    // Log lines of tasks sent away go on to the driver of the work that sent them: on its lease, or through the head.
    this.away = new TasksAway(node, peer, server, this.puller, (f) => (this.leased.answersOf(f.route) ?? this.head).send(f), process.env.TSRAY_WORKER_LEASES === '0' ? undefined : { token, tls, members: this.members });
    this.crossing = new CrossingObjects(node.objects, node.nodeId, server, this.puller);
    this.elsewhere = new CallsElsewhere(peer, this.puller, node.objects);
    node.guests.elsewhere = this.away;
    this.leased = new LeasedWork(this, { leaseKey, nodeId: node.nodeId, address: server.address }, this.members);
    sendFrees(node.objects, { send: (f) => { if (f.t === 'free') this.away.routeFree(f); else peer.send(f); } });
    // A guest holding a handle to an actor: the actor may live here (under its cluster id) or on another node.
    node.actors.attach({
      call: (actorId, method, args) => this.callElsewhere(actorId, method, args),
      // The head keeps the actor's one restart budget: restarts spent here count there too.
      restarted: (localId) => {
        for (const [actorId, a] of this.actorIds) if (a.localId === localId) this.peer.send({ t: 'actor-restarted', actorId });
      },
    });
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
  }

  private beat(): void {
    const devices = this.node.devices;
    this.peer.send({ t: 'heartbeat', available: this.node.scheduler.availableResources(), ...(devices ? { deviceUsed: devices.devices.map((d) => d.used) } : {}) });
    void devices?.report().catch(() => undefined); // for the next beat
  }

  /** Reports free resources soon after they change, so `tsray status` is current (at most every 50 ms). */
  private beatAfterChange(): void {
    this.beatSoon ??= setTimeout(() => { this.beatSoon = undefined; this.beat(); }, 50);
  }

  /** What this node tells a head it reconnects to (head-link.ts). */
  resume(): Resume {
    return { running: [...this.running.keys()], actors: [...this.actorIds.keys()] };
  }

  /** The head took this node back: the work and actor calls its guests sent away go again, and the head hears what is free. */
  resumed(): void {
    this.away.resend();
    this.elsewhere.resend();
    this.beat();
  }

  /** Frames from the head after the handshake. */
  handle(f: Frame): void {
    if (this.members.apply(f)) { if (f.t === 'node-dead') this.away.nodeDead(f.nodeId, f.cause); return; }
    if (f.t === 'run') { this.running.set(f.task.taskId, []); void this.run(f.task); }
    else if (f.t === 'cancel') this.cancel(this.running.get(f.taskId), f.force, f.recursive !== false);
    else if (f.t === 'owner-gone') this.leased.ownerGone(f.owner);
    else if (f.t === 'result') {
      this.away.onResult(f);
      void this.elsewhere.answered(f);
    } else if (f.t === 'log') this.away.onLog(f);
    else if (f.t === 'memory') this.peer.send({ t: 'memory-reply', id: f.id, nodes: [nodeMemory(this.node, this.node.memoryIdentity)] });
    else if (f.t === 'state') this.peer.send({ t: 'state-reply', id: f.id, processes: [this.node.stateReport()] });
    else if (f.t === 'logs') this.peer.send({ t: 'logs-reply', id: f.id, nodes: [this.node.logReport()] });
    else if (f.t === 'actor-create') { this.running.set(f.createId, []); this.createActor(f); }
    else if (f.t === 'actor-call') { this.running.set(f.callId, []); this.callActor(f); }
    else if (f.t === 'actor-kill') {
      const a = this.actorIds.get(f.actorId);
      if (a) this.actorStep(f.actorId, async () => { this.node.actors.kill(a.localId, f.noRestart); });
    } else if (f.t === 'free') {
      for (const id of f.objectIds) this.crossing.letGo(id);
    }
  }

  /** Cancels the run whose result refs are `refs` (an actor call, or a task and, when `recursive`, what it submitted). */
  cancel(refs: ObjectRef[] | undefined, force: boolean, recursive: boolean): void {
    if (refs?.length && !this.node.actors.cancel(refs[0]!, false)) this.node.guests.cancelTree(refs[0]!, force, recursive);
  }

  /** Whether the head sent work `id` here and it is not answered yet. */
  runs(id: string): boolean {
    return this.running.has(id);
  }

  /** A submitter let go of one hand-out of object `id` kept here for it. */
  letGo(id: string): void {
    this.crossing.letGo(id);
  }

  /** Component bytes a driver sent with leased work (their hash checked by the caller): loaded once, as the head's would be. */
  offerComponent(hash: string, bytes: Uint8Array): void {
    if (!this.components.has(hash)) this.remember(hash, loadComponent(bytes));
  }

  private component(hash: string): Promise<LoadedComponent> {
    return this.components.get(hash) ?? this.remember(hash, this.peer.request<ComponentReply>({ t: 'need-component', id: 0, hash }).then((r) => {
      if (!r.bytes) throw new ComponentError(`the head does not have component ${hash}`);
      return loadComponent(r.bytes);
    }));
  }

  /** Keeps component `hash` as it loads; a load that failed is not kept (the next task asks again). */
  private remember(hash: string, c: Promise<LoadedComponent>): Promise<LoadedComponent> {
    void c.then((x) => this.loaded.set(hash, x), () => this.components.delete(hash));
    this.components.set(hash, c);
    return c;
  }

  private reply(id: string, pulled: ObjectRef[], outcome: { returns: ReturnValue[] } | { error: unknown }, to: Answers = this.head): void {
    to.running.delete(id);
    const ms = this.runMs.get(id);
    this.runMs.delete(id);
    for (const r of pulled) r.release();
    this.beatAfterChange();
    to.send('returns' in outcome ? { t: 'result', taskId: id, ok: true, returns: outcome.returns, ...(ms === undefined ? {} : { ms }) } : { t: 'result', taskId: id, ok: false, error: toWire(outcome.error) });
  }

  /** Answers `id` once all of `refs` settle: small values inline, sealed blocks kept here and sent as locations. */
  private answerWhenSettled(id: string, refs: ObjectRef[], pulled: ObjectRef[], emitted?: () => Promise<void>, to: Answers = this.head): void {
    to.running.set(id, refs);
    let left = refs.length;
    const settled = async (): Promise<void> => {
      const keep: ObjectRef[] = [];
      try {
        // A streaming task's values all go before its result, which ends the stream.
        await emitted?.();
        const failed = refs.map((x) => this.node.objects.peek(x)).find((st) => st && !st.ok);
        if (failed && !failed.ok) throw failed.error;
        const returns: ReturnValue[] = [];
        for (const x of refs) returns.push(await this.crossing.returnValue(x, keep));
        this.reply(id, pulled, { returns }, to);
      } catch (e) {
        this.reply(id, pulled, { error: e }, to);
      } finally {
        for (const x of refs) if (!keep.includes(x)) x.release();
      }
    };
    if (left === 0) { void settled(); return; }
    for (const r of refs) this.node.objects.onSettled(r, () => { if (--left === 0) void settled(); });
  }

  /** Runs `task` (from the head, or on a lease: `to`, once its arguments are `trusted`) and answers it there. */
  async run(task: TaskFrame, to: Answers = this.head, trusted?: Promise<void>): Promise<void> {
    const pulled: ObjectRef[] = [];
    try {
      if (trusted) await trusted;
      const ready = this.loaded.get(task.hash);
      const local = ready && !task.refs && !task.args.some((a) => remoteLocation(a) !== undefined);
      const component = ready ?? await this.component(task.hash);
      let args = local ? task.args : await this.crossing.localArgs(task.args, pulled);
      let borrowed: ObjectRef[] | undefined;
      if (task.refs) ({ args, borrowed } = await this.crossing.borrowedArgs(taskFunc(component, task.fn), args, task.refs, pulled));
      checkTask(component, task.fn, task.opts.numReturns, args, task.opts.capabilities, task.each);
      const then = task.then && await Promise.all(task.then.map(async (s) => {
        const c = this.loaded.get(s.hash) ?? await this.component(s.hash);
        checkChainStep(c, s.fn, s.args);
        return { component: c, name: s.name, fn: s.fn, args: s.args, ...(s.each ? { each: s.each } : {}) };
      }));
      const log = { level: task.log ?? DEFAULT_LOG_FILTER, route: task.taskId };
      const id = task.taskId;
      const stream = task.opts.streaming ? this.crossing.emitter((index, value) => to.send({ t: 'emit', taskId: id, index, value })) : undefined;
      const refs = this.node.scheduler.submit({
        component, name: task.name, fn: task.fn, args, opts: task.opts, log, taskId: id,
        ...(task.attempt ? { attempt: task.attempt } : {}), ...(borrowed ? { borrowed } : {}), ...(stream ? { stream } : {}),
        ...(then ? { then } : {}), ...(task.each ? { each: task.each } : {}), ...(task.read ? { read: task.read } : {}), ran: (ms) => this.runMs.set(id, ms),
      });
      this.answerWhenSettled(id, refs, pulled, stream?.flushed, to);
    } catch (e) {
      this.reply(task.taskId, pulled, { error: e }, to);
    }
  }

  /** A guest log line of work a driver sent here goes back to that driver, through the head. */
  sendLog(r: GuestLog, route: string | undefined): void {
    if (route !== undefined) (this.leased.answersOf(route) ?? this.head).send({ t: 'log', route, level: r.level, who: r.who, text: r.text });
  }

  private callElsewhere(actorId: string, method: string, args: unknown[]): Promise<unknown> {
    const here = this.actorIds.get(actorId);
    if (here) {
      const f = findMethod(here.spec.methods, method);
      if (!f) return Promise.reject(new InvalidArgumentError(`actor ${here.spec.resource.name} has no method '${method}'`));
      const [ref] = this.node.actors.call(here.localId, f, args, 1);
      return new Promise((resolve, reject) => this.node.objects.onSettled(ref!, (st) => {
        try { if (st.ok) resolve(this.node.objects.value(ref!)); else reject(st.error); } finally { ref!.release(); }
      }));
    }
    return this.elsewhere.call(actorId, method, args);
  }

  /**
   * Actor frames for one actor are handled strictly in arrival order (a
   * call whose arguments are being pulled holds back the ones after it), so
   * the local actor manager sees calls in the order the driver made them.
   */
  private actorStep(actorId: string, step: () => Promise<void>): void {
    const prev = this.actorChains.get(actorId) ?? Promise.resolve();
    this.actorChains.set(actorId, prev.then(step, step));
  }

  private createActor(f: ActorCreateFrame): void {
    const a = f.actor;
    this.actorStep(a.actorId, async () => {
      const pulled: ObjectRef[] = [];
      try {
        const component = await this.component(a.hash);
        const r = exportedResource(component.world, a.resource);
        const args = await this.crossing.localArgs(a.args, pulled);
        const spec = actorSpec(component, r.def, r.funcs.map((x) => x.func), a.options as ActorOptions, args);
        // What is left of the actor's restart budget is the head's word (it restarted elsewhere before, or trapped).
        if (typeof a.maxRestarts === 'number' && a.maxRestarts >= 0) spec.maxRestarts = Math.min(spec.maxRestarts, a.maxRestarts);
        spec.log = { level: a.log ?? DEFAULT_LOG_FILTER, route: a.actorId };
        spec.id = a.actorId;
        const localId = this.node.actors.create(spec);
        this.actorIds.set(a.actorId, { localId, spec });
        this.reply(f.createId, pulled, { returns: [] });
      } catch (e) {
        this.reply(f.createId, pulled, { error: e });
      }
    });
  }

  /** Calls the actor `f` names (from the head, or on an actor route: `to`, once its arguments are `trusted`) and answers it there. */
  callActor(f: ActorCallFrame, to: Answers = this.head, trusted?: Promise<void>): void {
    this.actorStep(f.actorId, async () => {
      const pulled: ObjectRef[] = [];
      try {
        if (trusted) await trusted;
        const a = this.actorIds.get(f.actorId);
        if (!a) throw new ActorDiedError(f.actorId, 'it was never created on this node (its creation failed)');
        const method = findMethod(a.spec.methods, f.method);
        if (!method) throw new InvalidArgumentError(`actor ${a.spec.resource.name} has no method '${f.method}'`);
        const args = await this.crossing.localArgs(f.args, pulled);
        checkCall(method, f.numReturns, args);
        this.answerWhenSettled(f.callId, this.node.actors.call(a.localId, method, args, f.numReturns), pulled, undefined, to);
      } catch (e) {
        this.reply(f.callId, pulled, { error: e }, to);
      }
    });
  }

  /**
   * Starts a local node and joins it to the head at `address`. `onHeadLost`
   * runs if the head connection ends. Its object server listens on
   * `net.host` (every interface if that is a wildcard, then given out as
   * `publicHost()`), by default on the interface that reaches the head; with
   * TLS when `net.tls` has a certificate, which a `wss://` head requires.
   * `net.tls.ca` checks the servers it dials; `anyName` skips the name check
   * on the head connection only (the head's own node, on loopback).
   */
  static async join(address: string, token: string, opts: InitOptions, onHeadLost: (lost: HeadLost) => void, net: { host?: string; tls?: Tls; anyName?: boolean } = {}, reconnectMs = 0): Promise<NodeAgent> {
    requireServing(address, net.tls, 'a node');
    let agent: NodeAgent | undefined;
    const node = new EmbeddedNode(opts, (r, route) => agent?.sendLog(r, route));
    try {
      await node.ready();
    } catch (e) {
      await node.close(e as Error);
      throw e;
    }
    const listen = net.host ?? await routeTo(address);
    // Drivers send leased work to the object server too (leased-work.ts); the agent takes it once it is built.
    const work: ServerWork = { frame: (f, p) => agent?.leased.frame(f, p) ?? false, closed: (p) => agent?.leased.closed(p) };
    const members = new Members();
    const server = await ObjectServer.start(node.objects, token, publicHost(listen), { listenAll: isWildcard(listen), ...(net.tls ? { tls: net.tls } : {}), work, holders: (a) => members.isAlive(a) });
    const leaseKey = newToken();
    node.memoryIdentity = { address: new URL(server.address).hostname, holder: 'Node' };
    const early: Frame[] = [];
    try {
      const link = await HeadLink.open({
        address, token, role: 'node',
        about: { node: { nodeId: node.nodeId, name: `${hostname()}:${process.pid}`, pid: process.pid, resources: node.scheduler.totalResources(), objectAddress: server.address, leaseKey, ...(node.devices ? { devices: await node.acceleratorDevices() } : {}) } },
        tls: { ...(net.tls?.ca ? { ca: net.tls.ca } : {}), ...(net.anyName ? { anyName: true } : {}) },
        onFrame: (f) => { if (agent) agent.handle(f); else early.push(f); },
        reconnectMs,
        resume: () => agent?.resume() ?? {},
        onResumed: () => agent?.resumed(),
        onAway: (why) => process.stderr.write(`tsray node ${node.nodeId}: ${why}; running on and reconnecting for up to ${reconnectMs} ms\n`),
        onLost: (why, headBack) => {
          if (!agent || agent.closing) return;
          agent.stopTimer();
          onHeadLost({ why, headBack });
        },
        replay: { types: new Set(['result', 'emit']), ms: REPLAY_RESULTS_MS },
      });
      agent = new NodeAgent(node, link, server, token, net.tls, leaseKey, members);
      for (const f of early.splice(0)) agent.handle(f);
      return agent;
    } catch (e) {
      await server.close();
      await node.close(e as Error);
      throw e;
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    if (this.beatSoon) clearTimeout(this.beatSoon);
  }

  get nodeId(): string { return this.node.nodeId; }

  async close(): Promise<void> {
    this.closing = true;
    this.stopTimer();
    this.away.failAll(new Error('the node stopped'));
    this.leased.close();
    this.peer.close();
    this.puller.close();
    await this.server.close();
    await this.node.close(new Error('the node stopped'));
  }
}
