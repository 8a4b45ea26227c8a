/**
 * The head: the cluster's tables (nodes and their liveness, connected
 * drivers) behind a WebSocket server. Every connection must open with a
 * `hello` carrying the cluster token; anything else is refused before it can
 * do anything. A node is dead when its connection drops or it stays silent
 * past the node timeout. Tasks from drivers go to a node that can hold
 * their resources (the least loaded, for now), and come back through here;
 * a node's death sends its tasks to other nodes while retries last.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Peer } from './peer.js';
import {
  CLOSE, HANDSHAKE_MS, MAX_FRAME_BYTES, PROTOCOL_VERSION,
  type Frame, type Hello, type NodeInfo, type NodeStatus, type StatusReply, type TaskFrame, type WireError,
} from './protocol.js';
import { tokensEqual } from './token.js';

export interface HeadOptions {
  /** TCP port (0 picks a free one). */
  port: number;
  /** Interface to listen on (default all). */
  host?: string;
  token: string;
  /** A node silent this long is dead (default 10 s). */
  nodeTimeoutMs?: number;
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
}

interface HeadTask {
  frame: TaskFrame;
  driver: Peer;
  node: string | undefined;
  attempts: number;
}

export class Head {
  readonly clusterId = randomBytes(8).toString('hex');
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly drivers = new Set<Peer>();
  private readonly tasks = new Map<string, HeadTask>();
  /** Tasks no live node can hold: they wait for one to join. */
  private readonly pending = new Set<HeadTask>();
  /** Objects each driver owns on nodes (results left where they were made), freed when it leaves. */
  private readonly owned = new Map<Peer, Map<string, Set<string>>>();
  /** Component bytes by content hash, shipped to each node once. */
  private readonly components = new Map<string, Uint8Array>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly nodeTimeoutMs: number;

  private constructor(private readonly wss: WebSocketServer, private readonly opts: HeadOptions) {
    this.nodeTimeoutMs = opts.nodeTimeoutMs ?? 10_000;
    wss.on('connection', (ws) => this.accept(ws));
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, this.nodeTimeoutMs / 4));
    this.sweeper.unref();
  }

  static start(opts: HeadOptions): Promise<Head> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ port: opts.port, host: opts.host, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
      wss.once('listening', () => resolve(new Head(wss, opts)));
      wss.once('error', reject);
    });
  }

  /** The port the head listens on. */
  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  private accept(ws: WebSocket): void {
    let hello: Hello | undefined;
    const timer = setTimeout(() => peer.close(CLOSE.HANDSHAKE_TIMEOUT, `no hello within ${HANDSHAKE_MS} ms`), HANDSHAKE_MS);
    const peer: Peer = new Peer(ws, (f) => {
      if (!hello) {
        clearTimeout(timer);
        hello = this.handshake(f, peer);
        return;
      }
      this.handle(f, peer, hello);
    }, (code, reason) => {
      clearTimeout(timer);
      if (hello) this.gone(peer, hello, code, reason);
    });
  }

  /** Checks the hello; returns it when the peer may stay. */
  private handshake(f: Frame, peer: Peer): Hello | undefined {
    if (f.t !== 'hello') {
      peer.close(CLOSE.MALFORMED, 'the first frame must be hello');
      return undefined;
    }
    if (f.v !== PROTOCOL_VERSION) {
      peer.send({ t: 'error', code: 'ERR_AUTH', message: `protocol version ${String(f.v)} is not supported; this head speaks ${PROTOCOL_VERSION}` });
      peer.close(CLOSE.VERSION, 'unsupported protocol version');
      return undefined;
    }
    if (!tokensEqual(f.token, this.opts.token)) {
      peer.send({ t: 'error', code: 'ERR_AUTH', message: 'wrong or missing cluster token; pass the token printed by `tsray start --head` (--token or TSRAY_TOKEN)' });
      peer.close(CLOSE.AUTH, 'authentication failed');
      return undefined;
    }
    if (f.role === 'node') {
      const info = f.node;
      if (!info || typeof info.nodeId !== 'string' || typeof info.resources !== 'object' || info.resources === null) {
        peer.close(CLOSE.MALFORMED, 'a node must describe itself in hello');
        return undefined;
      }
      this.nodes.set(info.nodeId, { info, peer, state: 'ALIVE', available: { ...info.resources }, lastSeen: Date.now(), inflight: new Set() });
      queueMicrotask(() => { for (const t of [...this.pending]) { this.pending.delete(t); this.dispatch(t); } });
    } else if (f.role === 'driver') {
      this.drivers.add(peer);
    } else if (f.role !== 'cli') {
      peer.close(CLOSE.MALFORMED, `unknown role ${String(f.role)}`);
      return undefined;
    }
    peer.send({ t: 'welcome', v: PROTOCOL_VERSION, clusterId: this.clusterId, headPid: process.pid });
    return f;
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
        const t: HeadTask = { frame: task, driver: peer, node: undefined, attempts: 0 };
        this.tasks.set(task.taskId, t);
        this.dispatch(t);
        return;
      }
      case 'cancel': {
        const t = this.tasks.get(f.taskId);
        if (!t || t.driver !== peer) return;
        if (t.node) { this.nodes.get(t.node)?.peer?.send({ t: 'cancel', taskId: f.taskId, force: !!f.force }); return; }
        this.pending.delete(t);
        this.finish(t, { name: 'TaskCancelledError', code: 'ERR_TASK_CANCELLED', message: `task '${t.frame.name}' did not complete: it was cancelled` });
        return;
      }
      case 'result': {
        const n = hello.role === 'node' ? this.nodes.get(hello.node!.nodeId) : undefined;
        if (!n || n.peer !== peer) { peer.close(CLOSE.MALFORMED, 'result from a connection that is not a live node'); return; }
        n.inflight.delete(f.taskId);
        const t = this.tasks.get(f.taskId);
        if (!t || t.node !== n.info.nodeId) return;
        this.tasks.delete(f.taskId);
        for (const r of f.returns ?? []) {
          if (!('object' in r)) continue;
          const byNode = this.owned.get(t.driver) ?? new Map<string, Set<string>>();
          this.owned.set(t.driver, byNode);
          const ids = byNode.get(n.info.nodeId) ?? new Set<string>();
          byNode.set(n.info.nodeId, ids);
          ids.add(r.object.objectId);
        }
        t.driver.send(f);
        return;
      }
      case 'free': {
        if (hello.role !== 'driver' || !Array.isArray(f.objectIds)) { peer.close(CLOSE.MALFORMED, 'free is for drivers, with a list of ids'); return; }
        this.nodes.get(f.nodeId)?.peer?.send({ t: 'free', nodeId: f.nodeId, objectIds: f.objectIds });
        const ids = this.owned.get(peer)?.get(f.nodeId);
        if (ids) for (const id of f.objectIds) ids.delete(id as string);
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

  /** Sends a task to a live node that can hold it, or parks it until one joins. */
  private dispatch(t: HeadTask): void {
    const req = t.frame.opts.request;
    let best: NodeEntry | undefined;
    let bestLoad = Infinity;
    for (const n of this.nodes.values()) {
      if (n.state !== 'ALIVE' || !n.peer) continue;
      if (!Object.entries(req).every(([k, v]) => v <= 0 || (n.info.resources[k] ?? 0) >= v)) continue;
      const load = n.inflight.size / Math.max(1, n.info.resources.CPU ?? 1);
      if (load < bestLoad) { best = n; bestLoad = load; }
    }
    if (!best) { this.pending.add(t); return; }
    t.node = best.info.nodeId;
    best.inflight.add(t.frame.taskId);
    best.peer!.send({ t: 'run', task: t.attempts > 0 ? { ...t.frame, attempt: t.attempts } : t.frame });
  }

  private finish(t: HeadTask, error: WireError): void {
    this.tasks.delete(t.frame.taskId);
    t.driver.send({ t: 'result', taskId: t.frame.taskId, ok: false, error });
  }

  private gone(peer: Peer, hello: Hello, code: number, reason: string): void {
    if (hello.role === 'driver') {
      this.drivers.delete(peer);
      // A driver that leaves takes its work with it.
      for (const t of [...this.tasks.values()]) {
        if (t.driver !== peer) continue;
        this.tasks.delete(t.frame.taskId);
        this.pending.delete(t);
        if (t.node) this.nodes.get(t.node)?.peer?.send({ t: 'cancel', taskId: t.frame.taskId, force: true });
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
    for (const id of lost) {
      const t = this.tasks.get(id);
      if (!t) continue;
      t.node = undefined;
      t.attempts++;
      if (t.attempts > t.frame.opts.maxRetries) {
        this.finish(t, {
          name: 'WorkerCrashedError', code: 'ERR_WORKER_CRASHED',
          message: `task '${t.frame.name}' lost its node ${t.attempts} time${t.attempts === 1 ? '' : 's'} (node ${n.info.nodeId} died: ${cause}); raise maxRetries to retry more`,
        });
      } else {
        this.dispatch(t);
      }
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
      nodeId: n.info.nodeId, name: n.info.name, pid: n.info.pid, state: n.state,
      resources: n.info.resources, available: n.available, lastSeenMs: now - n.lastSeen,
      ...(n.cause ? { cause: n.cause } : {}),
    }));
    const demands = new Map<string, { shape: Record<string, number>; count: number }>();
    for (const t of this.pending) {
      const d = demands.get(t.frame.opts.shape) ?? { shape: t.frame.opts.request, count: 0 };
      d.count++;
      demands.set(t.frame.opts.shape, d);
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
