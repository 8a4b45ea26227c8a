/**
 * The head's node table: every node that joined, its liveness (a node is
 * dead when its connection drops or it stays silent past the node timeout)
 * and the resources that work sent there holds.
 */
import type { Peer } from '../peer.js';
import { CLOSE, type Frame, type Heartbeat, type Hello, type Member, type NodeInfo, type NodeStatus, type Resume } from '../protocol.js';
import { addResources } from '../../core/resources.js';
import type { NodeView } from '../../core/placement.js';
import type { TableStore } from './tables/table-store.js';
import { newToken, tokensEqual as keysEqual } from '../token.js';

export interface NodeEntry {
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
  /** Loaded from the tables of a head that restarted: alive until it reconnects or the node timeout passes. */
  restored?: boolean;
  /** The secret it comes back with (Welcome.resumeKey). */
  resumeKey: string;
}

/** What the rest of the head does when nodes come and go. */
export interface NodeEvents {
  /** A node joined: work that waited for room may fit now. */
  joined(): void;
  /** `n` was declared dead; `lost` are the tasks it had in flight. */
  dead(n: NodeEntry, cause: string, lost: string[]): void;
  /** `n` reconnected and was taken back as it was (`resume`: what it says it still has). */
  resumed(n: NodeEntry, resume: Resume): void;
}

export class NodeTable {
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly timeoutMs: number, private readonly events: NodeEvents, private readonly tables?: TableStore) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, timeoutMs / 4));
    this.sweeper.unref();
  }

  has(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  get(nodeId: string): NodeEntry | undefined {
    return this.nodes.get(nodeId);
  }

  /** The node on connection `peer`, if any. */
  byPeer(peer: object): NodeEntry | undefined {
    return [...this.nodes.values()].find((x) => x.peer === peer);
  }

  /** The node that sent a frame on `peer`, while that connection still holds it. */
  sender(peer: Peer, hello: Hello): NodeEntry | undefined {
    const n = hello.role === 'node' ? this.nodes.get(hello.node!.nodeId) : undefined;
    return n?.peer === peer ? n : undefined;
  }

  /** Sends `f` to node `nodeId` if it is connected. */
  send(nodeId: string, f: Frame): void {
    this.nodes.get(nodeId)?.peer?.send(f);
  }

  /**
   * Whether node `nodeId`, coming back with `resume`, is taken back as it
   * was: it is alive in this table (restored from a restarted head's tables,
   * or its old connection broke and this head has not noticed yet).
   */
  canResume(nodeId: string, key: string | undefined): boolean {
    const n = this.nodes.get(nodeId);
    return n?.state === 'ALIVE' && n.resumeKey !== '' && keysEqual(key, n.resumeKey);
  }

  /** The secret node `nodeId` comes back with. */
  resumeKeyOf(nodeId: string): string | undefined {
    return this.nodes.get(nodeId)?.resumeKey;
  }

  /** Takes back node `info.nodeId` on `peer`, with what it had (see `canResume`); an old connection it had is closed. */
  resume(info: NodeInfo, peer: Peer, resume: Resume): void {
    const n = this.nodes.get(info.nodeId)!;
    const old = n.peer;
    n.peer = peer;
    // The node itself says the old connection is dead: its close, when it comes, no longer speaks for the node.
    if (old?.isOpen) old.close(CLOSE.NORMAL, 'the node reconnected');
    n.lastSeen = Date.now();
    n.restored = false;
    n.available = { ...info.resources };
    this.events.resumed(n, resume);
    queueMicrotask(() => this.events.joined());
  }

  /** A node from a restarted head's tables: alive, without a connection, until it reconnects or times out. */
  restore(row: NodeInfo & { resumeKey?: unknown }, handles: unknown): void {
    const given = Array.isArray(handles) ? handles.filter((h): h is string => typeof h === 'string') : [];
    // A row without its key cannot be come back to: it times out as dead.
    const { resumeKey, ...info } = row;
    this.nodes.set(info.nodeId, { info, peer: undefined, state: 'ALIVE', available: {}, lastSeen: Date.now(), inflight: new Set(), reserved: {}, handles: new Set(given), restored: true, resumeKey: typeof resumeKey === 'string' ? resumeKey : '' });
  }

  /** Nodes restored and not back yet. */
  restoredIds(): string[] {
    return [...this.nodes.values()].filter((n) => n.restored && n.state === 'ALIVE').map((n) => n.info.nodeId);
  }

  /** Work carried actor `actorId`'s handle to node `n`: its guests may call it (kept in the tables, so a restarted head knows). */
  grant(n: NodeEntry, actorId: string): void {
    if (n.handles.has(actorId)) return;
    n.handles.add(actorId);
    this.tables?.set('handles', n.info.nodeId, [...n.handles]);
  }

  /** Declares node `nodeId` dead now (a restored node that cannot come back: the head's own). */
  declareDead(nodeId: string, cause: string): void {
    const n = this.nodes.get(nodeId);
    if (n?.state === 'ALIVE') this.markDead(n, cause);
  }

  /** Admits a node; false (with the peer told and closed) when its id is alive on another connection. */
  join(info: NodeInfo, peer: Peer): boolean {
    // A node's identity (its work, its actors) belongs to the connection that holds it while that lives.
    const existing = this.nodes.get(info.nodeId);
    if (existing?.state === 'ALIVE' && existing.peer?.isOpen) {
      peer.send({ t: 'error', code: 'ERR_CONNECTION', message: `node ${info.nodeId} is already in this cluster, alive on another connection` });
      peer.close(CLOSE.DUPLICATE_NODE, 'duplicate node id');
      return false;
    }
    // The old connection is closing but its close was not handled yet: end it now, so its work is retried, not orphaned.
    if (existing?.state === 'ALIVE') this.markDead(existing, 'it reconnected before its old connection closed');
    const resumeKey = newToken();
    this.nodes.set(info.nodeId, { info, peer, state: 'ALIVE', available: { ...info.resources }, lastSeen: Date.now(), inflight: new Set(), reserved: {}, handles: new Set(), resumeKey });
    this.tables?.set('nodes', info.nodeId, { ...info, resumeKey });
    queueMicrotask(() => this.events.joined());
    return true;
  }

  heartbeat(f: Heartbeat, peer: Peer, hello: Hello): void {
    const n = this.sender(peer, hello);
    if (!n) { peer.close(CLOSE.MALFORMED, 'heartbeat from a connection that is not a live node'); return; }
    n.lastSeen = Date.now();
    if (f.available && typeof f.available === 'object') n.available = f.available;
    f.deviceUsed?.forEach((used, i) => { const d = n.info.devices?.[i]; if (d) d.usedBytes = used; });
  }

  /** A node's connection closed; false when the node holds another connection now (it reconnected), so the close ends nothing. */
  closed(peer: Peer, hello: Hello, code: number, reason: string): boolean {
    const n = this.nodes.get(hello.node!.nodeId);
    if (n && n.peer !== peer && n.peer !== undefined && n.state === 'ALIVE') return false;
    if (n && n.peer === peer && n.state === 'ALIVE') this.markDead(n, `its connection closed (${code}${reason ? `: ${reason}` : ''})`);
    return true;
  }

  reserve(n: NodeEntry, request: Record<string, number>): void {
    addResources(n.reserved, request, 1);
  }

  /** Gives back what work reserved on its node (a task that ended; an actor that died). */
  unreserve(nodeId: string | undefined, request: Record<string, number>): void {
    const n = nodeId ? this.nodes.get(nodeId) : undefined;
    if (n) addResources(n.reserved, request, -1);
  }

  /** The nodes work may be placed on now, with what is not reserved yet. */
  views(): NodeView[] {
    const views: NodeView[] = [];
    for (const n of this.nodes.values()) {
      // A peer that is closing drops what it is sent: placing work there would strand it until the close arrives.
      if (n.state !== 'ALIVE' || !n.peer?.isOpen) continue;
      const available = { ...n.info.resources };
      addResources(available, n.reserved, -1);
      views.push({ nodeId: n.info.nodeId, total: n.info.resources, available });
    }
    return views;
  }

  private markDead(n: NodeEntry, cause: string): void {
    n.state = 'DEAD';
    n.restored = false;
    this.tables?.delete('nodes', n.info.nodeId);
    if (n.handles.size) this.tables?.delete('handles', n.info.nodeId);
    n.cause = cause;
    n.available = {};
    const p = n.peer;
    n.peer = undefined;
    if (p?.isOpen) p.close(CLOSE.NORMAL, 'declared dead');
    const lost = [...n.inflight];
    n.inflight.clear();
    this.events.dead(n, cause, lost);
  }

  private sweep(): void {
    const now = Date.now();
    for (const n of this.nodes.values()) {
      if (n.state === 'ALIVE' && now - n.lastSeen > this.timeoutMs) this.markDead(n, `no heartbeat for ${now - n.lastSeen} ms`);
    }
  }

  /** Every node as `tsray status` shows it. */
  statuses(): NodeStatus[] {
    const now = Date.now();
    return [...this.nodes.values()].map((n) => ({
      nodeId: n.info.nodeId, name: n.info.name, pid: n.info.pid, objectAddress: n.info.objectAddress, state: n.state,
      resources: n.info.resources, available: n.available, lastSeenMs: now - n.lastSeen,
      ...(n.cause ? { cause: n.cause } : n.restored && n.state === 'ALIVE' ? { cause: 'not back yet since the head restarted' } : {}),
      ...(n.info.devices?.length ? { devices: n.info.devices.map((d) => ({ ...d, nodeId: n.info.nodeId })) } : {}),
    }));
  }

  /** The live nodes' connections, by name (`node <id>`). */
  alivePeers(): { name: string; peer: Peer }[] {
    const out: { name: string; peer: Peer }[] = [];
    for (const n of this.nodes.values()) if (n.state === 'ALIVE' && n.peer?.isOpen) out.push({ name: `node ${n.info.nodeId}`, peer: n.peer });
    return out;
  }

  /** The live nodes' object servers (restored ones not back yet included: they are still members). */
  members(): Member[] {
    const out: Member[] = [];
    for (const n of this.nodes.values()) if (n.state === 'ALIVE') out.push({ nodeId: n.info.nodeId, address: n.info.objectAddress });
    return out;
  }

  aliveCount(): number {
    let n = 0;
    for (const e of this.nodes.values()) if (e.state === 'ALIVE') n++;
    return n;
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
