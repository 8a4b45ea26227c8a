/**
 * The head: the cluster's tables (nodes and their liveness, connected
 * drivers) behind a WebSocket server. Every connection must open with a
 * `hello` carrying the cluster token; anything else is refused before it can
 * do anything. A node is dead when its connection drops or it stays silent
 * past the node timeout. Tasks from drivers go to a node that can hold
 * their resources (the least loaded, for now), and come back through here;
 * a node's death sends its tasks to other nodes while retries last.
 */
import type { WebSocketServer } from 'ws';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Peer } from './peer.js';
import {
  CLOSE, PROTOCOL_VERSION,
  type ActorCreateFrame, type Frame, type Hello, type ResultFrame, type NodeInfo, type NodeStatus, type StatusReply, type WireError,
} from './protocol.js';
import { listen, type Tls } from './tls.js';
import { acceptPeers } from './accept.js';
import { toWire } from '../core/error-codec.js';
import { isNodeInfo } from './validate-frame.js';
import { normalizeActorOptions, renormalizeOptions, type ActorOptions } from '../core/options.js';
import { addResources, shapeKey } from '../core/resources.js';
import { DEFAULT_PLACEMENT, Placer, type NodeView, type SchedulingStrategy } from '../core/placement.js';
import { REMOTE_ARG, remoteLocation } from './remote-arg.js';
import { collectHandles } from '../core/given-handles.js';

export interface HeadOptions {
  /** TCP port (0 picks a free one). */
  port: number;
  /** Interface to listen on (default all). */
  host?: string;
  token: string;
  /** With a certificate: listen with TLS (`wss://`). */
  tls?: Tls;
  /** A node silent this long is dead (default 10 s). */
  nodeTimeoutMs?: number;
  /** DEFAULT strategy's knobs (spread threshold, top-k fraction and minimum). */
  placement?: Partial<typeof DEFAULT_PLACEMENT>;
  random?: () => number;
}

interface NodeEntry {
  info: NodeInfo;
  peer: Peer | undefined;
  state: 'ALIVE' | 'DEAD';
  available: Record<string, number>;
  lastSeen: number;
  cause?: string;
  /** Tasks sent to it and not finished. */
  inflight: Set<string>;
  /** Resources promised to work sent there (tasks until they end, actors for life). */
  reserved: Record<string, number>;
  /** Actors whose handles were sent to it in work: the only ones its guests may call through the head. */
  handles: Set<string>;
}

/** Work the head routes: a task, an actor's creation, or an actor call. Its result goes back to `driver`. */
interface HeadTask {
  id: string;
  name: string;
  driver: Peer;
  node: string | undefined;
  attempts: number;
  /** Where it must run: any node that can hold `request`, or the node of actor `actorId`. */
  request: Record<string, number>;
  shape: string;
  actorId?: string;
  /** Re-sent after a node death while this lasts (tasks only). */
  maxRetries: number;
  /** The frame for a node, for the given attempt. */
  frame: (attempt: number) => Frame;
  strategy?: SchedulingStrategy;
  /** Bytes of its arguments each node holds (DEFAULT prefers the node with most). */
  locality?: Map<string, number>;
}

interface HeadActor {
  create: ActorCreateFrame;
  driver: Peer;
  node: string | undefined;
  state: 'pending' | 'alive' | 'dead';
  restarts: number;
  death?: string;
  /** Calls made before it was placed, in order. */
  waiting: HeadTask[];
  /** Its creation, until the node answers it (re-sent if that node dies first). */
  creating: HeadTask | undefined;
}

/** How many results the work in `f` must answer with. */
function returnsAsked(f: Frame): number {
  return f.t === 'run' ? f.task.opts.numReturns : f.t === 'actor-call' ? f.numReturns : 0;
}

/**
 * Runs a check of what a peer sent for work `id`; when it throws (an
 * `InvalidArgumentError` from the options rules), that work fails with the
 * error and nothing else happens.
 */
function checked<T>(peer: Peer, id: string, check: () => T): T | undefined {
  try {
    return check();
  } catch (e) {
    peer.send({ t: 'result', taskId: id, ok: false, error: toWire(e) });
    return undefined;
  }
}

/** Bytes of arguments each node holds, from the arguments' remote markers. */
function argumentBytes(args: unknown[]): Map<string, number> | undefined {
  let m: Map<string, number> | undefined;
  for (const a of args) {
    const loc = remoteLocation(a);
    if (loc) (m ??= new Map()).set(loc.nodeId, (m.get(loc.nodeId) ?? 0) + loc.size);
  }
  return m;
}

export class Head {
  readonly clusterId = randomBytes(8).toString('hex');
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly drivers = new Set<Peer>();
  private readonly tasks = new Map<string, HeadTask>();
  private readonly actors = new Map<string, HeadActor>();
  /** Tasks no live node can hold: they wait for one to join. */
  private readonly pending = new Set<HeadTask>();
  private readonly placer: Placer;
  /** Objects each driver owns on nodes (results left where they were made), freed when it leaves. */
  private readonly owned = new Map<Peer, Map<string, Set<string>>>();
  /** Each connected driver's object server, by its store id: the only non-node address a remote argument may name. */
  private readonly driverStores = new Map<string, { peer: Peer; address: string }>();
  /** Component bytes by content hash, shipped to each node once. */
  private readonly components = new Map<string, Uint8Array>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly nodeTimeoutMs: number;

  private constructor(private readonly wss: WebSocketServer, private readonly opts: HeadOptions) {
    this.nodeTimeoutMs = opts.nodeTimeoutMs ?? 10_000;
    this.placer = new Placer({ ...DEFAULT_PLACEMENT, ...opts.placement, random: opts.random ?? Math.random });
    acceptPeers(wss, opts.token, {
      hello: (h, peer) => this.admit(h, peer),
      frame: (f, peer, hello) => this.handle(f, peer, hello),
      close: (code, reason, peer, hello) => this.gone(peer, hello, code, reason),
    });
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.nodeTimeoutMs / 4));
    this.sweeper.unref();
  }

  static async start(opts: HeadOptions): Promise<Head> {
    return new Head(await listen(opts.port, opts.host, opts.tls), opts);
  }

  /** The port the head listens on. */
  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  /** Registers an authenticated peer by its role; false (and closed) for a malformed one. */
  private admit(f: Hello, peer: Peer): boolean {
    if (f.role === 'node') {
      const info = f.node;
      if (!isNodeInfo(info)) {
        peer.close(CLOSE.MALFORMED, 'a node must describe itself in hello');
        return false;
      }
      // A node's identity (its work, its actors) belongs to the connection that holds it while that lives.
      const existing = this.nodes.get(info.nodeId);
      if (existing?.state === 'ALIVE' && existing.peer?.isOpen) {
        peer.send({ t: 'error', code: 'ERR_CONNECTION', message: `node ${info.nodeId} is already in this cluster, alive on another connection` });
        peer.close(CLOSE.DUPLICATE_NODE, 'duplicate node id');
        return false;
      }
      // The old connection is closing but its close was not handled yet: end it now, so its work is retried, not orphaned.
      if (existing?.state === 'ALIVE') this.markDead(existing, 'it reconnected before its old connection closed');
      this.nodes.set(info.nodeId, { info, peer, state: 'ALIVE', available: { ...info.resources }, lastSeen: Date.now(), inflight: new Set(), reserved: {}, handles: new Set() });
      queueMicrotask(() => { for (const t of [...this.pending]) { this.pending.delete(t); this.dispatch(t); } });
    } else if (f.role === 'driver') {
      const o = f.objects;
      if (o !== undefined && (typeof o?.storeId !== 'string' || typeof o.address !== 'string' || this.driverStores.has(o.storeId) || this.nodes.has(o.storeId))) {
        peer.close(CLOSE.MALFORMED, 'a driver\'s object store needs an id of its own and an address');
        return false;
      }
      if (o) this.driverStores.set(o.storeId, { peer, address: o.address });
      this.drivers.add(peer);
    } else if (f.role !== 'cli') {
      peer.close(CLOSE.MALFORMED, `unknown role ${String(f.role)}`);
      return false;
    }
    peer.send({ t: 'welcome', v: PROTOCOL_VERSION, clusterId: this.clusterId, headPid: process.pid });
    return true;
  }

  private handle(f: Frame, peer: Peer, hello: Hello): void {
    switch (f.t) {
      case 'heartbeat': {
        const n = hello.role === 'node' ? this.nodes.get(hello.node!.nodeId) : undefined;
        if (!n || n.peer !== peer) { peer.close(CLOSE.MALFORMED, 'heartbeat from a connection that is not a live node'); return; }
        n.lastSeen = Date.now();
        if (f.available && typeof f.available === 'object') n.available = f.available;
        return;
      }
      case 'status':
        if (typeof f.id !== 'number') { peer.close(CLOSE.MALFORMED, 'status needs a numeric id'); return; }
        peer.send(this.status(f.id));
        return;
      case 'component': {
        if (hello.role !== 'driver' || !(f.bytes instanceof Uint8Array) || typeof f.hash !== 'string'
          || createHash('sha256').update(f.bytes).digest('hex') !== f.hash) {
          peer.close(CLOSE.MALFORMED, 'component bytes must match their hash');
          return;
        }
        this.components.set(f.hash, f.bytes);
        return;
      }
      case 'submit': {
        const task = f.task;
        if (hello.role !== 'driver' || !task || typeof task.taskId !== 'string' || typeof task.hash !== 'string' || !Array.isArray(task.args)
          || !task.opts || typeof task.opts.request !== 'object' || this.tasks.has(task.taskId)) {
          peer.close(CLOSE.MALFORMED, 'a malformed task');
          return;
        }
        if (!this.membersOnly(task.args, peer, task.taskId)) return;
        const opts = checked(peer, task.taskId, () => renormalizeOptions(task.opts));
        if (!opts) return;
        task.opts = opts;
        const t: HeadTask = {
          id: task.taskId, name: task.name, driver: peer, node: undefined, attempts: 0, request: task.opts.request, shape: task.opts.shape,
          maxRetries: task.opts.maxRetries, frame: (attempt) => ({ t: 'run', task: attempt > 0 ? { ...task, attempt } : task }),
          ...(task.opts.strategy ? { strategy: task.opts.strategy } : {}), locality: argumentBytes(task.args),
        };
        this.tasks.set(task.taskId, t);
        this.dispatch(t);
        return;
      }
      case 'actor-create': {
        const a = f.actor;
        if (hello.role !== 'driver' || typeof f.createId !== 'string' || !a || typeof a.actorId !== 'string' || !Array.isArray(a.args)
          || typeof a.request !== 'object' || this.actors.has(a.actorId) || this.tasks.has(f.createId)) {
          peer.close(CLOSE.MALFORMED, 'a malformed actor creation');
          return;
        }
        // What the head acts on comes from the options, by the public API's rules, not from the sender's copy.
        const norm = checked(peer, f.createId, () => normalizeActorOptions(a.options as ActorOptions));
        if (!norm) return;
        Object.assign(a, { request: norm.request, shape: shapeKey(norm.request), maxRestarts: norm.maxRestarts, strategy: norm.strategy });
        if (!norm.strategy) delete a.strategy;
        const actor: HeadActor = { create: f, driver: peer, node: undefined, state: 'pending', restarts: 0, waiting: [], creating: undefined };
        this.actors.set(a.actorId, actor);
        if (!this.membersOnly(a.args, peer, f.createId)) { actor.state = 'dead'; actor.death = 'its creation was refused'; return; }
        this.placeActor(actor, f.createId);
        return;
      }
      case 'actor-call': {
        const actor = this.actors.get(f.actorId);
        if ((hello.role !== 'driver' && hello.role !== 'node') || typeof f.callId !== 'string' || !Array.isArray(f.args) || this.tasks.has(f.callId)) {
          peer.close(CLOSE.MALFORMED, 'a malformed actor call');
          return;
        }
        // Drivers call their own actors; nodes those whose handles work carried to them (a task holding a handle calls through its node).
        const given = hello.role === 'driver' ? !actor || actor.driver === peer : this.nodes.get(hello.node!.nodeId)?.handles.has(f.actorId);
        if (!given) {
          this.refuse(peer, f.callId, `actor ${f.actorId} was never given to this ${hello.role}; only the actors a driver created, and those whose handles were passed to a task or actor, can be called`);
          return;
        }
        if (!this.membersOnly(f.args, peer, f.callId)) return;
        const call: HeadTask = {
          id: f.callId, name: f.method, driver: peer, node: undefined, attempts: 0, request: {}, shape: '', actorId: f.actorId, maxRetries: 0,
          frame: () => f,
        };
        if (!actor || actor.state === 'dead') { this.actorGone(call, actor?.death ?? 'it does not exist'); return; }
        this.tasks.set(f.callId, call);
        if (actor.state === 'pending') actor.waiting.push(call);
        else this.sendTo(call, actor.node!);
        return;
      }
      case 'actor-kill': {
        const actor = this.actors.get(f.actorId);
        if (!actor || actor.driver !== peer || actor.state === 'dead') return;
        if (actor.node) this.nodes.get(actor.node)?.peer?.send(f);
        if (f.noRestart) this.killActor(actor, 'it was killed with tsray.kill()', false);
        return;
      }
      case 'cancel': {
        const t = this.tasks.get(f.taskId);
        if (!t || t.driver !== peer) return;
        if (t.node) { this.nodes.get(t.node)?.peer?.send({ t: 'cancel', taskId: f.taskId, force: !!f.force }); return; }
        this.pending.delete(t);
        for (const a of this.actors.values()) a.waiting = a.waiting.filter((x) => x !== t);
        this.finish(t, { name: 'TaskCancelledError', code: 'ERR_TASK_CANCELLED', message: `task '${t.name}' did not complete: it was cancelled` });
        return;
      }
      case 'result': {
        const n = hello.role === 'node' ? this.nodes.get(hello.node!.nodeId) : undefined;
        if (!n || n.peer !== peer) { peer.close(CLOSE.MALFORMED, 'result from a connection that is not a live node'); return; }
        n.inflight.delete(f.taskId);
        const t = this.tasks.get(f.taskId);
        if (!t || t.node !== n.info.nodeId) return;
        this.tasks.delete(f.taskId);
        const owner = t.actorId ? this.actors.get(t.actorId) : undefined;
        if (owner?.creating === t) owner.creating = undefined;
        // A task's resources come back when it ends; an actor keeps its own for life.
        else this.unreserve(n.info.nodeId, t.request);
        const asked = returnsAsked(t.frame(t.attempts));
        if (f.ok && f.returns?.length !== asked) {
          this.finish(t, { name: 'ConnectionError', code: 'ERR_CONNECTION', message: `node ${n.info.nodeId} answered '${t.name}' with ${f.returns?.length ?? 'no'} results where ${asked} were asked; the answer was dropped` });
          return;
        }
        for (const r of f.returns ?? []) {
          if (!('object' in r)) continue;
          if (r.object.nodeId !== n.info.nodeId || r.object.address !== n.info.objectAddress) {
            peer.close(CLOSE.MALFORMED, 'a result left on another node than the one that made it');
            return;
          }
          const byNode = this.owned.get(t.driver) ?? new Map<string, Set<string>>();
          this.owned.set(t.driver, byNode);
          const ids = byNode.get(n.info.nodeId) ?? new Set<string>();
          byNode.set(n.info.nodeId, ids);
          ids.add(r.object.objectId);
        }
        if (this.actors.size) this.grantReturned(n, t.driver, f);
        t.driver.send(f);
        return;
      }
      case 'free': {
        if (hello.role !== 'driver' || !Array.isArray(f.objectIds)) { peer.close(CLOSE.MALFORMED, 'free is for drivers, with a list of ids'); return; }
        // Only objects this driver owns: another driver's ids free nothing.
        const ids = this.owned.get(peer)?.get(f.nodeId);
        const mine = ids ? f.objectIds.filter((id) => ids.delete(id as string)) : [];
        if (mine.length) this.nodes.get(f.nodeId)?.peer?.send({ t: 'free', nodeId: f.nodeId, objectIds: mine });
        return;
      }
      case 'need-component': {
        if (typeof f.id !== 'number') { peer.close(CLOSE.MALFORMED, 'need-component needs a numeric id'); return; }
        const bytes = this.components.get(f.hash);
        peer.send({ t: 'component-reply', id: f.id, hash: f.hash, ...(bytes ? { bytes } : {}) });
        return;
      }
      default:
        peer.close(CLOSE.MALFORMED, `unexpected frame '${f.t}'`);
    }
  }

  /** Places an actor (again, after its node died): its creation goes to a node, then the calls that waited. */
  private placeActor(actor: HeadActor, createId: string): void {
    const c = actor.create;
    const t: HeadTask = {
      id: createId, name: `${c.actor.resource} constructor`, driver: actor.driver, node: undefined, attempts: 0,
      request: c.actor.request, shape: c.actor.shape, actorId: c.actor.actorId, maxRetries: 0, frame: () => ({ ...c, createId }),
      ...(c.actor.strategy ? { strategy: c.actor.strategy } : {}), locality: argumentBytes(c.actor.args),
    };
    actor.creating = t;
    this.tasks.set(createId, t);
    this.dispatch(t);
  }

  private sendTo(t: HeadTask, nodeId: string): void {
    const n = this.nodes.get(nodeId)!;
    t.node = nodeId;
    n.inflight.add(t.id);
    addResources(n.reserved, t.request, 1);
    const frame = t.frame(t.attempts);
    this.grantHandles(n, t.driver, frame);
    n.peer!.send(frame);
  }

  /**
   * Records the actors whose handles `frame` carries to node `n`: only those
   * of the driver the work came from (a driver cannot hand out another's actors).
   */
  private grantHandles(n: NodeEntry, from: Peer, frame: Frame): void {
    if (this.actors.size === 0) return;
    const args = frame.t === 'run' ? frame.task.args : frame.t === 'actor-create' ? frame.actor.args : frame.t === 'actor-call' ? frame.args : [];
    const ids = new Set<string>();
    collectHandles(args, ids);
    if (ids.size === 0) return;
    // A node passes on only what it was given itself.
    const fromNode = [...this.nodes.values()].find((x) => x.peer === from);
    for (const id of ids) {
      const a = this.actors.get(id);
      if (a && (fromNode ? fromNode.handles.has(id) : a.driver === from)) n.handles.add(id);
    }
  }

  /**
   * Whether every remote argument in `args` names a member's object server
   * (a node's, or a connected driver's), so nodes dial no other address
   * with the token; otherwise the work fails with NotGivenError.
   */
  private membersOnly(args: unknown[], peer: Peer, id: string): boolean {
    for (const a of args) {
      if (a === null || typeof a !== 'object' || !(REMOTE_ARG in a)) continue;
      const loc = remoteLocation(a);
      const address = loc && (this.nodes.get(loc.nodeId)?.info.objectAddress ?? this.driverStores.get(loc.nodeId)?.address);
      if (!loc || address !== loc.address) {
        this.refuse(peer, id, `an argument names object server ${loc?.address ?? '(malformed)'}, which is not a member of this cluster`);
        return false;
      }
    }
    return true;
  }

  /** Handles in a call's answer go to the node that made the call, when the answering node had them itself. */
  private grantReturned(from: NodeEntry, to: Peer, f: ResultFrame): void {
    const caller = [...this.nodes.values()].find((x) => x.peer === to);
    if (!caller) return;
    const ids = new Set<string>();
    for (const r of f.returns ?? []) if ('value' in r) collectHandles(r.value, ids);
    for (const id of ids) if (from.handles.has(id)) caller.handles.add(id);
  }

  private refuse(peer: Peer, id: string, message: string): void {
    peer.send({ t: 'result', taskId: id, ok: false, error: { name: 'NotGivenError', code: 'ERR_NOT_GIVEN', message } });
  }

  /** Gives back what `t` reserved on its node (a task that ended; an actor that died). */
  private unreserve(nodeId: string | undefined, request: Record<string, number>): void {
    const n = nodeId ? this.nodes.get(nodeId) : undefined;
    if (n) addResources(n.reserved, request, -1);
  }

  /** A call to an actor that is dead fails with ActorDiedError, as on the embedded node. */
  private actorGone(t: HeadTask, why: string): void {
    this.tasks.delete(t.id);
    t.driver.send({ t: 'result', taskId: t.id, ok: false, error: { name: 'ActorDiedError', code: 'ERR_ACTOR_DIED', message: `actor ${t.actorId} is dead: ${why}`, fields: { actorId: t.actorId } } });
  }

  private killActor(actor: HeadActor, why: string, nodeDied: boolean): void {
    if (nodeDied && actor.restarts < actor.create.actor.maxRestarts) {
      // Ray restarts an actor whose node died while max_restarts allows: a fresh instance elsewhere.
      actor.restarts++;
      actor.node = undefined;
      actor.state = 'pending';
      if (actor.creating) this.dispatch(actor.creating); // never answered: the driver still waits on this one
      else this.placeActor(actor, `${actor.create.createId}-r${actor.restarts}`);
      return;
    }
    if (!nodeDied && actor.state === 'alive') this.unreserve(actor.node, actor.create.actor.request);
    actor.state = 'dead';
    actor.death = why;
    const c = actor.creating;
    if (c && !c.node) {
      // Still waiting for a node: it leaves the demands and is never created when one joins.
      this.pending.delete(c);
      actor.creating = undefined;
      this.actorGone(c, why);
    }
    for (const w of actor.waiting.splice(0)) this.actorGone(w, why);
  }

  /** Whether call `t`, lost with its actor's node, goes to the actor once it restarts (counting the attempt). */
  private resendsCall(actor: HeadActor, t: HeadTask): boolean {
    const a = actor.create.actor;
    const retries = typeof a.maxTaskRetries === 'number' ? a.maxTaskRetries : 0;
    if (actor.restarts >= a.maxRestarts || t.attempts >= retries) return false;
    t.attempts++;
    return true;
  }

  /** Sends a task to a live node that can hold it, or parks it until one joins. */
  private dispatch(t: HeadTask): void {
    const views: NodeView[] = [];
    for (const n of this.nodes.values()) {
      // A peer that is closing drops what it is sent: placing work there would strand it until the close arrives.
      if (n.state !== 'ALIVE' || !n.peer?.isOpen) continue;
      const available = { ...n.info.resources };
      addResources(available, n.reserved, -1);
      views.push({ nodeId: n.info.nodeId, total: n.info.resources, available });
    }
    const p = this.placer.place(views, { resources: t.request, strategy: t.strategy ?? 'DEFAULT', ...(t.locality ? { localityBytes: t.locality } : {}) });
    if ('wait' in p) { this.pending.add(t); return; }
    const actor = t.actorId ? this.actors.get(t.actorId) : undefined;
    if ('error' in p) {
      const message = `'${t.name}' cannot be scheduled: ${p.error}`;
      this.finish(t, { name: 'UnschedulableError', code: 'ERR_UNSCHEDULABLE', message });
      if (actor && actor.creating === t) { actor.creating = undefined; this.killActor(actor, message, false); }
      return;
    }
    this.sendTo(t, p.nodeId);
    if (actor && actor.state === 'pending') {
      actor.node = p.nodeId;
      actor.state = 'alive';
      for (const c of actor.waiting.splice(0)) this.sendTo(c, actor.node);
    }
  }

  private finish(t: HeadTask, error: WireError): void {
    this.tasks.delete(t.id);
    t.driver.send({ t: 'result', taskId: t.id, ok: false, error });
  }

  private gone(peer: Peer, hello: Hello, code: number, reason: string): void {
    if (hello.role === 'driver') {
      this.drivers.delete(peer);
      if (hello.objects && this.driverStores.get(hello.objects.storeId)?.peer === peer) this.driverStores.delete(hello.objects.storeId);
      // A driver that leaves takes its work with it.
      for (const t of [...this.tasks.values()]) {
        if (t.driver !== peer) continue;
        this.tasks.delete(t.id);
        this.pending.delete(t);
        if (t.node && !t.actorId) this.nodes.get(t.node)?.peer?.send({ t: 'cancel', taskId: t.id, force: true });
        if (t.node && this.actors.get(t.actorId ?? '')?.creating !== t) this.unreserve(t.node, t.request);
      }
      for (const [id, a] of this.actors) {
        if (a.driver !== peer) continue;
        if (a.node && a.state === 'alive') {
          this.nodes.get(a.node)?.peer?.send({ t: 'actor-kill', actorId: id, noRestart: true });
          this.unreserve(a.node, a.create.actor.request);
        }
        this.actors.delete(id);
      }
      for (const [nodeId, ids] of this.owned.get(peer) ?? []) {
        if (ids.size) this.nodes.get(nodeId)?.peer?.send({ t: 'free', nodeId, objectIds: [...ids] });
      }
      this.owned.delete(peer);
      return;
    }
    if (hello.role !== 'node') return;
    const n = this.nodes.get(hello.node!.nodeId);
    if (n && n.peer === peer && n.state === 'ALIVE') this.markDead(n, `its connection closed (${code}${reason ? `: ${reason}` : ''})`);
  }

  private markDead(n: NodeEntry, cause: string): void {
    n.state = 'DEAD';
    n.cause = cause;
    n.available = {};
    const p = n.peer;
    n.peer = undefined;
    if (p?.isOpen) p.close(CLOSE.NORMAL, 'declared dead');
    // Objects it held are gone: drivers fail reads of them with ObjectLostError instead of waiting.
    for (const d of this.drivers) d.send({ t: 'node-dead', nodeId: n.info.nodeId, cause });
    // Its tasks run again elsewhere while their retries last (Ray's max_retries counts node deaths too).
    const lost = [...n.inflight];
    n.inflight.clear();
    const why = `node ${n.info.nodeId} died: ${cause}`;
    for (const id of lost) {
      const t = this.tasks.get(id);
      if (!t) continue;
      t.node = undefined;
      if (t.actorId) {
        // A creation is redone with its actor below; calls in flight wait for the restarted actor
        // while its maxTaskRetries lasts, else fail (Ray's max_task_retries is 0 by default).
        const actor = this.actors.get(t.actorId);
        if (actor?.creating === t) continue;
        if (actor && this.resendsCall(actor, t)) actor.waiting.push(t);
        else this.actorGone(t, `its ${why}`);
        continue;
      }
      t.attempts++;
      if (t.attempts > t.maxRetries) {
        this.finish(t, {
          name: 'WorkerCrashedError', code: 'ERR_WORKER_CRASHED',
          message: `task '${t.name}' lost its node ${t.attempts} time${t.attempts === 1 ? '' : 's'} (${why}); raise maxRetries to retry more`,
        });
      } else {
        this.dispatch(t);
      }
    }
    for (const actor of this.actors.values()) {
      if (actor.node === n.info.nodeId && actor.state === 'alive') this.killActor(actor, `its ${why}`, true);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const n of this.nodes.values()) {
      if (n.state === 'ALIVE' && now - n.lastSeen > this.nodeTimeoutMs) this.markDead(n, `no heartbeat for ${now - n.lastSeen} ms`);
    }
  }

  /** The tables as `tsray status` shows them. */
  status(id: number): StatusReply {
    const now = Date.now();
    const nodes: NodeStatus[] = [...this.nodes.values()].map((n) => ({
      nodeId: n.info.nodeId, name: n.info.name, pid: n.info.pid, objectAddress: n.info.objectAddress, state: n.state,
      resources: n.info.resources, available: n.available, lastSeenMs: now - n.lastSeen,
      ...(n.cause ? { cause: n.cause } : {}),
    }));
    const demands = new Map<string, { shape: Record<string, number>; count: number }>();
    for (const t of this.pending) {
      const d = demands.get(t.shape) ?? { shape: t.request, count: 0 };
      d.count++;
      demands.set(t.shape, d);
    }
    return { t: 'status-reply', id, clusterId: this.clusterId, nodes, drivers: this.drivers.size, demands: [...demands.values()] };
  }

  /** Live nodes now. */
  aliveNodes(): number {
    let n = 0;
    for (const e of this.nodes.values()) if (e.state === 'ALIVE') n++;
    return n;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    for (const c of this.wss.clients) c.close(CLOSE.SHUTDOWN, 'the head is shutting down');
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
