/**
 * The head: the cluster's tables behind a WebSocket server. Every connection
 * must open with a `hello` carrying the cluster token; anything else is
 * refused before it can do anything. This file admits peers and hands each
 * frame to the part that owns it: the node table (head/node-table.ts),
 * task routing (head/router.ts), the actor directory (head/actor-directory.ts)
 * and what each peer owns and may call (head/ownership.ts).
 */
import type { WebSocketServer } from 'ws';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Peer } from './peer.js';
import {
  CLOSE, PROTOCOL_VERSION,
  type ComponentFrame, type MemoryRequest, type MemoryReply, type JobRequest, type JobReply, type StateRequest, type StateReply, type LogsRequest, type LogsReply, type Frame, type Hello, type NeedComponent, type NodeInfo, type StatusReply, type StatusRequest, type ResultFrame,
} from './protocol.js';
import { listen } from './tls.js';
import { acceptPeers } from './accept.js';
import { isNodeInfo, isResume } from './validate-frame.js';
import { Recovery } from './head/recovery.js';
import type { TableStore, Tables } from './head/tables/table-store.js';
import { DEFAULT_PLACEMENT, Placer } from '../core/placement.js';
import { NodeTable, type NodeEntry } from './head/node-table.js';
import { Ownership } from './head/ownership.js';
import { resultLocations } from './wire-refs.js';
import { Router } from './head/router.js';
import { Leases } from './head/leases.js';
import { ActorDirectory } from './head/actor-directory.js';
import { forwardLog } from './head/log-forward.js';
import { gather } from './head/gather.js';
import { Jobs } from './head/jobs.js';
import { InvalidArgumentError, RuntimeStateError, TsrayError } from '../errors.js';
import { newToken } from './token.js';
import type { HeadOptions } from './head/head-options.js';

export type { HeadOptions };

/** Work frames a restarted head holds until its nodes are back (head/recovery.ts), in the order they came. */
const HELD_WHILE_RECOVERING = new Set<Frame['t']>(['submit', 'cancel', 'actor-create', 'actor-call', 'actor-kill', 'free', 'resume-done']);

type Handler<K extends Frame['t']> = (f: Extract<Frame, { t: K }>, peer: Peer, hello: Hello) => void;
/** The frames a peer may send the head, each with its handler; any other frame closes the connection. */
type Handlers = { [K in Frame['t']]?: Handler<K> };

export class Head {
  readonly clusterId: string;
  /** The token every peer must say hello with. */
  readonly token: string;
  private readonly tables: TableStore | undefined;
  /** While a head started from a killed one's tables takes the cluster back. */
  private recovery: Recovery | undefined;
  private readonly drivers = new Set<Peer>();
  /** Component bytes by content hash, shipped to each node once. */
  private readonly components = new Map<string, Uint8Array>();
  private readonly nodes: NodeTable;
  private readonly ownership: Ownership;
  private readonly router: Router;
  private readonly actors: ActorDirectory;
  private readonly leases: Leases;

  private readonly handlers: Handlers = {
    heartbeat: (f, peer, hello) => this.nodes.heartbeat(f, peer, hello),
    status: (f, peer) => this.statusRequest(f, peer),
    memory: (f, peer, hello) => { void this.memory(f, peer, hello); },
    state: (f, peer, hello) => { void this.state(f, peer, hello); },
    logs: (f, peer, hello) => { void this.logs(f, peer, hello); },
    job: (f, peer, hello) => this.job(f, peer, hello),
    component: (f, peer, hello) => this.component(f, peer, hello),
    'need-component': (f, peer) => this.needComponent(f, peer),
    submit: (f, peer, hello) => this.router.submit(f, peer, hello),
    cancel: (f, peer) => this.router.cancel(f, peer),
    result: (f, peer, hello) => this.router.result(f, peer, hello),
    emit: (f, peer, hello) => this.router.emit(f, peer, hello),
    'actor-create': (f, peer, hello) => this.actors.create(f, peer, hello),
    'actor-call': (f, peer, hello) => this.actors.call(f, peer, hello),
    'actor-kill': (f, peer) => this.actors.kill(f, peer),
    'actor-restarted': (f, _peer, hello) => this.actors.restarted(f, hello),
    'actor-lookup': (f, peer, hello) => this.actors.lookup(f, peer, hello),
    free: (f, peer, hello) => this.ownership.free(f, peer, hello),
    log: (f, peer, hello) => forwardLog(f, peer, hello, this.nodes, this.router, this.actors),
    'resume-done': (_f, peer) => this.recovery?.ownerBack(this.ownership.ownerOf(peer)),
    'lease-request': (f, peer, hello) => this.leases.request(f, peer, hello),
    'lease-return': (f, peer) => this.leases.returned(f, peer),
    'actor-route': (f, peer, hello) => this.leases.route(f, peer, hello),
  };

  private constructor(private readonly wss: WebSocketServer, private readonly opts: HeadOptions, rows: Tables | undefined) {
    this.tables = opts.tables;
    if (this.tables) this.tables.onWriteError = (e) => (this.opts.warn ?? this.opts.say)?.(`tsray head: ${e.message}; it runs on, but a restart would miss what changed since`);
    const timeoutMs = opts.nodeTimeoutMs ?? 10_000;
    // The parts call each other (routing places actors, actors route their calls): the later ones are bound lazily.
    this.nodes = new NodeTable(timeoutMs, {
      joined: () => this.router.unparkAll(),
      dead: (n, cause, lost) => this.nodeDied(n, cause, lost),
      resumed: (n, resume) => {
        this.recovery?.nodeBack(n.info.nodeId, resume.running ?? []);
        this.actors.nodeResumed(n.info.nodeId, resume.actors ?? []);
      },
    }, this.tables);
    this.ownership = new Ownership(this.nodes, () => this.actors, this.tables);
    const placer = new Placer({ ...DEFAULT_PLACEMENT, ...opts.placement, random: opts.random ?? Math.random });
    this.router = new Router(this.nodes, this.ownership, placer, () => this.actors, () => this.recovery);
    this.actors = new ActorDirectory(this.nodes, this.ownership, this.router, this.tables);
    this.leases = new Leases(this.nodes, this.ownership, placer, (id) => this.actors.get(id));
    this.ownership.onOwnerGone = (owner) => this.leases.ownerGone(owner);
    this.clusterId = typeof rows?.meta.get('clusterId') === 'string' ? rows.meta.get('clusterId') as string : randomBytes(8).toString('hex');
    const kept = rows?.meta.get('token');
    this.token = opts.token ?? (typeof kept === 'string' && kept.length > 0 ? kept : newToken());
    this.tables?.set('meta', 'clusterId', this.clusterId);
    // Kept so a head started again without one takes its cluster back; the tables are as private as the token.
    this.tables?.set('meta', 'token', this.token);
    if (rows?.meta.has('clusterId')) this.restore(rows, timeoutMs);
    acceptPeers(wss, this.token, {
      hello: (h, peer) => this.admit(h, peer),
      frame: (f, peer, hello) => this.handle(f, peer, hello),
      close: (code, reason, peer, hello) => this.gone(peer, hello, code, reason),
    });
  }

  static async start(opts: HeadOptions): Promise<Head> {
    // The tables load before anyone can connect: a node coming back must find itself there.
    const rows = await opts.tables?.load();
    return new Head(await listen(opts.port, opts.host, opts.tls), opts, rows);
  }

  /**
   * Takes back the cluster a killed head left in `rows`: its id, components,
   * drivers, nodes (alive until they reconnect or time out) and actors; work
   * is held until the nodes are back (head/recovery.ts).
   */
  private restore(rows: Tables, timeoutMs: number): void {
    for (const [hash, bytes] of rows.components) if (bytes instanceof Uint8Array) this.components.set(hash, bytes);
    for (const [storeId, d] of rows.drivers) {
      const row = d as { address?: unknown; resumeKey?: unknown };
      if (typeof row?.address === 'string') this.ownership.restoreDriver(storeId, row.address, row.resumeKey);
    }
    for (const info of rows.nodes.values()) if (isNodeInfo(info)) this.nodes.restore(info, rows.handles.get(info.nodeId));
    this.actors.restore(rows.actors);
    this.restoredJobs = rows.jobs;
    // The head's own node died with the head.
    const own = rows.meta.get('ownNode');
    if (typeof own === 'string') this.nodes.declareDead(own, 'it ran in the head process, which was restarted');
    const nodes = this.nodes.restoredIds();
    // Drivers connected when the head died, and the nodes (owners of what their guests sent away) may come back.
    const owners = new Set([...rows.drivers.keys(), ...nodes.map((id) => `node:${id}`)]);
    this.recovery = new Recovery(nodes, owners, timeoutMs, {
      nodesSettled: () => this.opts.say?.(`tsray head: the nodes of cluster ${this.clusterId} are back or declared dead; running held work`),
      ended: (gone, unclaimed, orphans) => this.recovered(gone, unclaimed, orphans),
    });
    this.opts.say?.(`tsray head: restored cluster ${this.clusterId} from ${this.tables!.where}: ${nodes.length} node(s), ${rows.actors.size} actor(s), ${owners.size} owner(s) to come back`);
  }

  /** The recovery ended: owners that never came back are gone, and results nobody asked for again are let go. */
  private recovered(gone: string[], unclaimed: { nodeId: string; result: ResultFrame }[], orphans: { nodeId: string; id: string }[]): void {
    // Work nobody waits for any more stops, as a leaving driver's does.
    for (const { nodeId, id } of orphans) this.nodes.send(nodeId, { t: 'cancel', taskId: id, force: true });
    for (const owner of gone) {
      this.actors.ownerGone(owner);
      this.ownership.ownerGone(owner);
    }
    for (const { nodeId, result } of unclaimed) {
      const objectIds = resultLocations(result).map((l) => l.objectId).filter((id) => !this.ownership.isOwned(nodeId, id));
      if (objectIds.length) this.nodes.send(nodeId, { t: 'free', nodeId, objectIds });
    }
    this.recovery = undefined;
    this.opts.say?.(`tsray head: recovery of cluster ${this.clusterId} done${gone.length ? `; ${gone.length} owner(s) did not come back and were let go` : ''}`);
  }

  /** Records which node runs in the head's own process: a head started again declares it dead at once. */
  setOwnNode(nodeId: string): void {
    this.tables?.set('meta', 'ownNode', nodeId);
  }

  /** The port the head listens on. */
  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  /** Registers an authenticated peer by its role; false (and closed) for a malformed one. */
  private admit(f: Hello, peer: Peer): boolean {
    if (f.resume !== undefined && !isResume(f.resume)) {
      peer.close(CLOSE.MALFORMED, 'a malformed resume');
      return false;
    }
    if (f.role === 'node') {
      if (!isNodeInfo(f.node)) {
        peer.close(CLOSE.MALFORMED, 'a node must describe itself in hello');
        return false;
      }
      const owner = `node:${f.node.nodeId}`;
      if (!f.resume) {
        if (!this.nodes.join(f.node, peer)) return false;
        this.ownership.nameOwner(peer, owner);
        this.welcome(peer, false, this.nodes.resumeKeyOf(f.node.nodeId));
        return this.announce(f.node, peer);
      }
      // Only the node itself knows its key: a peer that merely knows its id cannot take it over.
      if (!this.nodes.canResume(f.node.nodeId, f.resume.key)) return this.stranger(peer);
      this.ownership.nameOwner(peer, owner);
      // The welcome goes first: taking the node back may send it held work at once.
      this.welcome(peer, true);
      this.nodes.resume(f.node, peer, f.resume);
      this.actors.ownerBack(owner, peer);
      // Everyone knows it already (a node coming back was never declared dead, or it would be a stranger).
      return this.tellMembers(peer);
    }
    if (f.role === 'driver') {
      // A driver comes back only to a restarted head that waits for it; any other head has let its work go.
      const resumed = !!f.resume && !!f.objects && this.recovery?.expects(f.objects.storeId) === true && this.ownership.mayResume(f.objects.storeId, f.resume.key);
      if (f.resume && !resumed) return this.stranger(peer);
      if (!this.ownership.addDriverStore(f.objects, peer, resumed)) {
        peer.close(CLOSE.MALFORMED, 'a driver\'s object store needs an id of its own and an address');
        return false;
      }
      if (resumed) {
        this.actors.ownerBack(f.objects!.storeId, peer);
        this.ownership.restoreHolds(f.objects!.storeId, f.resume!.holds);
        this.leases.adopt(peer, f.resume!.leases ?? []);
      }
      this.drivers.add(peer);
      this.welcome(peer, resumed, this.ownership.resumeKeyOf(f.objects?.storeId));
      return this.tellMembers(peer);
    }
    if (f.role !== 'cli') {
      peer.close(CLOSE.MALFORMED, `unknown role ${String(f.role)}`);
      return false;
    }
    return this.welcome(peer, false);
  }

  private welcome(peer: Peer, resumed: boolean, resumeKey?: string): true {
    peer.send({ t: 'welcome', v: PROTOCOL_VERSION, clusterId: this.clusterId, headPid: process.pid, ...(resumed ? { resumed } : {}), ...(resumeKey ? { resumeKey } : {}) });
    return true;
  }

  /** Node `info` joined: every node and driver hears of its object server, and it of every member's (members.ts). */
  private announce(info: NodeInfo, peer: Peer): true {
    const joined: Frame = { t: 'node-joined', nodeId: info.nodeId, address: info.objectAddress };
    for (const p of this.drivers) p.send(joined);
    for (const n of this.nodes.alivePeers()) if (n.peer !== peer) n.peer.send(joined);
    return this.tellMembers(peer);
  }

  /** Tells `peer` (a node or driver just welcomed) every member's object server. */
  private tellMembers(peer: Peer): true {
    peer.send({ t: 'members', nodes: this.nodes.members() });
    return true;
  }

  /** A peer that comes back to a head that does not know it: told so (`resumed` absent), then closed. */
  private stranger(peer: Peer): boolean {
    this.welcome(peer, false);
    peer.close(CLOSE.NORMAL, 'this head does not know this peer; join as a new one');
    return false;
  }

  private handle(f: Frame, peer: Peer, hello: Hello): void {
    const h = this.handlers[f.t] as Handler<Frame['t']> | undefined;
    if (!h) { peer.close(CLOSE.MALFORMED, `unexpected frame '${f.t}'`); return; }
    // A node's results sent again are all in: it is back (never held, or work would wait for itself).
    if (f.t === 'resume-done' && hello.role === 'node') this.recovery?.nodeReplayed(hello.node!.nodeId);
    // A peer's frames keep their order: once one is held, the rest of its work frames wait behind it.
    if (this.recovery?.holding && HELD_WHILE_RECOVERING.has(f.t)) this.recovery.hold(() => { if (peer.isOpen) h(f, peer, hello); });
    else h(f, peer, hello);
  }

  private statusRequest(f: StatusRequest, peer: Peer): void {
    if (typeof f.id !== 'number') { peer.close(CLOSE.MALFORMED, 'status needs a numeric id'); return; }
    peer.send(this.status(f.id));
  }

  private async memory(f: MemoryRequest, peer: Peer, hello: Hello): Promise<void> {
    if (hello.role === 'node') { peer.close(CLOSE.MALFORMED, 'nodes answer memory requests, they do not make them'); return; }
    const { items, missing } = await this.gatherMemory();
    if (peer.isOpen) peer.send({ t: 'memory-reply', id: f.id, nodes: items, ...(missing.length ? { missing } : {}) });
  }

  /** `tsray logs --address`: every live node's recent guest log lines. */
  private async logs(f: LogsRequest, peer: Peer, hello: Hello): Promise<void> {
    if (hello.role === 'node') { peer.close(CLOSE.MALFORMED, 'nodes answer logs requests, they do not make them'); return; }
    const { items, missing } = await this.gatherLogs();
    if (peer.isOpen) peer.send({ t: 'logs-reply', id: f.id, nodes: items, ...(missing.length ? { missing } : {}) });
  }

  /** `tsray list --address`: every live node's task and actor events. */
  private async state(f: StateRequest, peer: Peer, hello: Hello): Promise<void> {
    if (hello.role === 'node') { peer.close(CLOSE.MALFORMED, 'nodes answer state requests, they do not make them'); return; }
    const { items, missing } = await this.gatherState();
    if (peer.isOpen) peer.send({ t: 'state-reply', id: f.id, processes: items, ...(missing.length ? { missing } : {}) });
  }

  /** The jobs it runs (see head/jobs.ts); set by `enableJobs`. */
  jobs: Jobs | undefined;

  /** Lets CLIs and drivers submit jobs, run in `dir` and joining the cluster at `address`; a restarted head takes over the old one's. */
  enableJobs(dir: string, address: string, token: string): void {
    this.jobs = new Jobs(dir, { address, token }, this.tables);
    if (this.restoredJobs) this.jobs.restore(this.restoredJobs);
    this.restoredJobs = undefined;
  }

  /** A killed head's jobs, until jobs are enabled. */
  private restoredJobs: Map<string, unknown> | undefined;

  /** `tsray job`: only with the token (every peer has it) and never from a node. */
  private job(f: JobRequest, peer: Peer, hello: Hello): void {
    if (hello.role === 'node') { peer.close(CLOSE.MALFORMED, 'nodes do not submit jobs'); return; }
    const reply = (r: Omit<JobReply, 't' | 'id'>): void => peer.send({ t: 'job-reply', id: f.id, ...r });
    try {
      if (!this.jobs) throw new RuntimeStateError('this head runs no jobs');
      switch (f.op) {
        case 'submit': return reply({ ok: true, job: this.jobs.submit(f.entrypoint ?? [], f.files) });
        case 'status': return reply({ ok: true, job: this.jobs.status(f.jobId ?? '') });
        case 'list': return reply({ ok: true, jobs: this.jobs.list() });
        case 'logs': return reply({ ok: true, logs: this.jobs.logs(f.jobId ?? '', f.from ?? 0) });
        case 'stop': return reply({ ok: true, stopped: this.jobs.stop(f.jobId ?? '') });
        default: throw new InvalidArgumentError(`unknown job operation '${String(f.op)}'`);
      }
    } catch (e) {
      reply({ ok: false, code: e instanceof TsrayError ? e.code : 'ERR_INTERNAL', error: (e as Error).message });
    }
  }

  /** Every live node's and driver's `tsray memory` report (and who did not answer in time). */
  gatherMemory(): Promise<{ items: MemoryReply['nodes']; missing: string[] }> {
    const drivers = [...this.drivers].map((p, i) => ({ name: `driver ${i + 1}`, peer: p }));
    return gather([...this.nodes.alivePeers(), ...drivers], async (p) => (await p.request<MemoryReply>({ t: 'memory', id: 0 })).nodes);
  }

  /** Every live node's recent guest log lines. */
  gatherLogs(): Promise<{ items: LogsReply['nodes']; missing: string[] }> {
    return gather(this.nodes.alivePeers(), async (p) => (await p.request<LogsReply>({ t: 'logs', id: 0 })).nodes);
  }

  /** Every live node's task and actor events. */
  gatherState(): Promise<{ items: StateReply['processes']; missing: string[] }> {
    return gather(this.nodes.alivePeers(), async (p) => (await p.request<StateReply>({ t: 'state', id: 0 })).processes);
  }

  private component(f: ComponentFrame, peer: Peer, hello: Hello): void {
    if (hello.role !== 'driver' || !(f.bytes instanceof Uint8Array) || typeof f.hash !== 'string'
      || createHash('sha256').update(f.bytes).digest('hex') !== f.hash) {
      peer.close(CLOSE.MALFORMED, 'component bytes must match their hash');
      return;
    }
    if (!this.components.has(f.hash)) this.tables?.set('components', f.hash, f.bytes);
    this.components.set(f.hash, f.bytes);
  }

  private needComponent(f: NeedComponent, peer: Peer): void {
    if (typeof f.id !== 'number') { peer.close(CLOSE.MALFORMED, 'need-component needs a numeric id'); return; }
    const bytes = this.components.get(f.hash);
    peer.send({ t: 'component-reply', id: f.id, hash: f.hash, ...(bytes ? { bytes } : {}) });
  }

  private nodeDied(n: NodeEntry, cause: string, lost: string[]): void {
    // Objects it held are gone: drivers fail reads of them with ObjectLostError instead of waiting.
    const dead: Frame = { t: 'node-dead', nodeId: n.info.nodeId, cause };
    for (const d of this.drivers) d.send(dead);
    // Nodes answer work naming its address as lost from now on (members.ts).
    for (const m of this.nodes.alivePeers()) m.peer.send(dead);
    const why = `node ${n.info.nodeId} died: ${cause}`;
    this.recovery?.nodeGone(n.info.nodeId);
    this.leases.nodeDied(n.info.nodeId);
    this.router.nodeDied(lost, why);
    this.actors.nodeDied(n.info.nodeId, why);
  }

  private gone(peer: Peer, hello: Hello, code: number, reason: string): void {
    if (hello.role !== 'driver' && hello.role !== 'node') return;
    if (hello.role === 'driver') this.drivers.delete(peer);
    // A node that reconnected owns what it owned on its new connection: the old one's close takes nothing with it.
    else if (!this.nodes.closed(peer, hello, code, reason)) return;
    this.router.submitterGone(peer);
    this.actors.ownerGone(this.ownership.ownerOf(peer));
    this.ownership.submitterGone(peer, hello);
  }

  /** The tables as `tsray status` shows them. */
  status(id: number): StatusReply {
    const { clusterId, drivers, leases, router } = this;
    return { t: 'status-reply', id, clusterId, nodes: this.nodes.statuses(), drivers: drivers.size, demands: router.demands(), leases: leases.size, routedTasks: router.routed, routedCalls: this.actors.routed };
  }

  /** Stops the head. The cluster ends with it: its tables are cleared, so a head started again begins anew. */
  async close(): Promise<void> {
    this.jobs?.close();
    this.nodes.close();
    this.recovery?.end();
    for (const c of this.wss.clients) c.close(CLOSE.SHUTDOWN, 'the head is shutting down');
    await new Promise<void>((r) => this.wss.close(() => r()));
    if (this.tables) {
      await this.tables.clear().catch(() => undefined);
      await this.tables.close().catch(() => undefined);
    }
  }
}
