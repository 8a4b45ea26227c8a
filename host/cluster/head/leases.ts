/**
 * The worker leases the head grants (lease-protocol.ts): where each is, who
 * holds it, and the shape it keeps reserved on its node until the driver
 * returns it, leaves, or the node dies. Placement is the head's own (the
 * same Placer as routed tasks); a lease is granted only where its shape is
 * free now, so leases never overcommit a node. Otherwise the driver hears
 * `busy` and sends its tasks through the head, which queues them.
 *
 * Actor routes (`actor-route`) are signed the same way for an actor that is
 * alive on a node, to a driver that may call it; they reserve nothing and
 * are not kept here: the node hosting the actor answers its calls.
 */
import { randomBytes } from 'node:crypto';
import type { Peer } from '../peer.js';
import { CLOSE, type Hello } from '../protocol.js';
import { leaseTicket, MAX_LEASES_PER_SHAPE, ticketValid, type ActorRouteFrame, type LeaseGrant, type LeaseRequestFrame, type LeaseReturnFrame } from '../lease-protocol.js';
import { fits, shapeKey } from '../../core/resources.js';
import type { Placer } from '../../core/placement.js';
import type { NodeEntry, NodeTable } from './node-table.js';
import type { Ownership } from './ownership.js';

/** What a route needs to know of an actor (the actor directory's row). */
export interface RoutedActor {
  owner: string;
  node: string | undefined;
  state: 'pending' | 'alive' | 'dead';
}

interface Held {
  owner: string;
  nodeId: string;
  request: Record<string, number>;
  shape: string;
}

export class Leases {
  private readonly leases = new Map<string, Held>();
  /** Lease ids by owner. */
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(private readonly nodes: NodeTable, private readonly ownership: Ownership, private readonly placer: Placer, private readonly actor: (actorId: string) => RoutedActor | undefined) {}

  get size(): number {
    return this.leases.size;
  }

  /**
   * The object server of `peer`, an owner that may hold leases (a driver, or
   * a live node for what its guests send away, with its entry); else it is closed.
   */
  private ownerOf(peer: Peer, hello: Hello): { address: string; node?: NodeEntry } | undefined {
    const node = hello.role === 'node' ? this.nodes.sender(peer, hello) : undefined;
    const address = hello.role === 'driver' ? hello.objects?.address : node?.info.objectAddress;
    if (address === undefined) { peer.close(CLOSE.MALFORMED, 'leases are for drivers and live nodes'); return undefined; }
    return { address, ...(node ? { node } : {}) };
  }

  request(f: LeaseRequestFrame, peer: Peer, hello: Hello): void {
    // Owners: drivers, and nodes for the tasks their guests send away (never onto themselves).
    const asker = this.ownerOf(peer, hello);
    if (!asker) return;
    const { address: ownerAddress, node: asNode } = asker;
    const owner = this.ownership.ownerOf(peer);
    const shape = shapeKey(f.request);
    const busy = (why: string): void => peer.send({ t: 'lease-reply', id: f.id, busy: why });
    const mine = this.byOwner.get(owner);
    let sameShape = 0;
    for (const id of mine ?? []) if (this.leases.get(id)!.shape === shape) sameShape++;
    if (sameShape >= MAX_LEASES_PER_SHAPE) { busy(`it holds ${MAX_LEASES_PER_SHAPE} leases of this shape already`); return; }
    const views = this.nodes.views().filter((v) => v.nodeId !== asNode?.info.nodeId && this.nodes.get(v.nodeId)?.info.leaseKey);
    const p = this.placer.place(views, { resources: f.request, strategy: 'DEFAULT', ...(f.near ? { localityBytes: new Map([[f.near, 1]]) } : {}) });
    const view = 'nodeId' in p ? views.find((v) => v.nodeId === p.nodeId) : undefined;
    const n = view && fits(view.available, f.request) ? this.nodes.get(view.nodeId) : undefined;
    if (!n?.info.leaseKey) { busy('no node has this shape free now'); return; }
    const leaseId = randomBytes(12).toString('hex');
    const grant = { leaseId, nodeId: n.info.nodeId, address: n.info.objectAddress, owner, ownerAddress, shape, request: { ...f.request } };
    this.hold(leaseId, { owner, nodeId: n.info.nodeId, request: grant.request, shape }, n);
    peer.send({ t: 'lease-reply', id: f.id, lease: { ...grant, ticket: leaseTicket(n.info.leaseKey, grant), pid: n.info.pid } });
  }

  /**
   * A route to an actor, for its owner (a driver, or a node whose guest made
   * it) or a driver that found it by name, while it is alive on another node
   * that takes leased work.
   */
  route(f: ActorRouteFrame, peer: Peer, hello: Hello): void {
    const ownerAddress = this.ownerOf(peer, hello)?.address;
    if (ownerAddress === undefined) return;
    const a = this.actor(f.actorId);
    const n = a?.state === 'alive' && a.node ? this.nodes.get(a.node) : undefined;
    if (!a || !this.ownership.mayUse(peer, a.owner, f.actorId) || !n?.info.leaseKey || n.info.objectAddress === ownerAddress) {
      peer.send({ t: 'lease-reply', id: f.id, busy: `actor ${f.actorId} is not alive on a node this driver may reach it on now; its calls go through the head` });
      return;
    }
    const grant = { leaseId: randomBytes(12).toString('hex'), nodeId: n.info.nodeId, address: n.info.objectAddress, owner: this.ownership.ownerOf(peer), ownerAddress, shape: '', request: {}, actorId: f.actorId };
    peer.send({ t: 'lease-reply', id: f.id, lease: { ...grant, ticket: leaseTicket(n.info.leaseKey, grant), pid: n.info.pid } });
  }

  /**
   * A driver came back to this head after a restart with the leases the old
   * head granted it: each one its node's key signed for this owner, on a
   * node alive here, is held again (its shape reserved there), so this head
   * does not grant that room twice. The rest are ignored: their tasks run on
   * at the node, which checks the ticket itself.
   */
  adopt(peer: Peer, grants: readonly LeaseGrant[]): void {
    const owner = this.ownership.ownerOf(peer);
    for (const g of grants) {
      const n = this.nodes.get(g.nodeId);
      if (this.leases.has(g.leaseId) || g.owner !== owner || g.actorId !== undefined || n?.state !== 'ALIVE' || !n.info.leaseKey || !ticketValid(n.info.leaseKey, g)) continue;
      this.hold(g.leaseId, { owner, nodeId: g.nodeId, request: { ...g.request }, shape: g.shape }, n);
    }
  }

  private hold(leaseId: string, l: Held, n: NodeEntry): void {
    this.nodes.reserve(n, l.request);
    this.leases.set(leaseId, l);
    let set = this.byOwner.get(l.owner);
    if (!set) { set = new Set(); this.byOwner.set(l.owner, set); }
    set.add(leaseId);
  }

  /** A driver gives a lease back (one it does not hold, or that ended with its node, is ignored). */
  returned(f: LeaseReturnFrame, peer: Peer): void {
    const l = this.leases.get(f.leaseId);
    if (l && l.owner === this.ownership.ownerOf(peer)) this.end(f.leaseId, l);
  }

  private end(leaseId: string, l: Held): void {
    this.leases.delete(leaseId);
    this.byOwner.get(l.owner)?.delete(leaseId);
    this.nodes.unreserve(l.nodeId, l.request);
  }

  /**
   * Owner `owner` is gone for good: its leases end, and every live node
   * stops its leased work and frees what it owned there. Every node hears
   * it, not only those this head leased on: a head started again does not
   * know the leases the old one granted.
   */
  ownerGone(owner: string): void {
    for (const id of this.byOwner.get(owner) ?? []) this.end(id, this.leases.get(id)!);
    this.byOwner.delete(owner);
    for (const { peer } of this.nodes.alivePeers()) peer.send({ t: 'owner-gone', owner });
  }

  /** Node `nodeId` died: its leases end with it (their drivers retry what ran there). */
  nodeDied(nodeId: string): void {
    for (const [id, l] of this.leases) if (l.nodeId === nodeId) this.end(id, l);
  }
}
