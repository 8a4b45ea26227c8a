/**
 * What each peer may name and call through the head: the objects each
 * driver (or node, for the nested tasks it sent away) owns on nodes (freed
 * when it leaves), the member object servers a
 * remote argument may point at, and the actor handles each node was given.
 *
 * Owners are named, not just connections: a driver by its object store's id,
 * a node by its node id. A head started again from its tables knows its
 * drivers by name before they reconnect, and takes a driver that comes
 * back (on a new connection) as the owner it was.
 */
import type { Peer } from '../peer.js';
import { CLOSE, type Frame, type FreeFrame, type Hello, type ResultFrame } from '../protocol.js';
import { toWire } from '../../core/error-codec.js';
import { REMOTE_ARG, remoteLocation } from '../remote-arg.js';
import { locationsIn, resultLocations } from '../wire-refs.js';
import type { RemoteLocation } from '../../../store/object-store.js';
import { collectHandles } from '../../core/given-handles.js';
import { NotGivenError } from '../../errors.js';
import type { NodeEntry, NodeTable } from './node-table.js';
import type { TableStore } from './tables/table-store.js';
import { randomBytes } from 'node:crypto';
import { newToken, tokensEqual } from '../token.js';

/** The actors the head knows, by id, with the owner that created each. */
export interface ActorCreators {
  readonly size: number;
  get(actorId: string): { readonly owner: string } | undefined;
}

/** Where a result goes: a peer's connection, or a stand-in for an owner that is away. */
export interface Submitter {
  send(f: Frame): void;
}

export class Ownership {
  /** Objects each owner has on nodes (results left where they were made), freed when it leaves. */
  private readonly owned = new Map<string, Map<string, Map<string, number>>>();
  /** Each driver's object server, by its store id: the only non-node address a remote argument may name. */
  private readonly driverStores = new Map<string, { peer: Peer | undefined; address: string; resumeKey: string }>();
  private readonly owners = new WeakMap<Submitter, string>();
  /** Actors each owner found by name (`actor-lookup`): it may call and kill them too. */
  private readonly found = new Map<string, Set<string>>();

  /** `actors` is late-bound: the actor directory is built on top of this. */
  constructor(private readonly nodes: NodeTable, private readonly actors: () => ActorCreators, private readonly tables?: TableStore) {}

  /** The owner a peer (or stand-in) submits as. */
  ownerOf(s: Submitter): string {
    let o = this.owners.get(s);
    if (o === undefined) { o = `anonymous-${randomBytes(8).toString('hex')}`; this.owners.set(s, o); }
    return o;
  }

  /** `s` submits as `owner` from now on. */
  nameOwner(s: Submitter, owner: string): void {
    this.owners.set(s, owner);
  }

  /**
   * Registers a driver's object server; false for one without an id of its
   * own and an address. `resumed`: a driver a restarted head knew, back on a new connection.
   */
  addDriverStore(o: Hello['objects'], peer: Peer, resumed = false): boolean {
    const known = o && this.driverStores.get(o.storeId);
    if (o !== undefined && (typeof o?.storeId !== 'string' || typeof o.address !== 'string' || (known && !(resumed && !known.peer)) || this.nodes.has(o.storeId))) {
      return false;
    }
    if (o) {
      const resumeKey = known?.resumeKey || newToken();
      this.driverStores.set(o.storeId, { peer, address: o.address, resumeKey });
      this.tables?.set('drivers', o.storeId, { address: o.address, resumeKey });
      this.nameOwner(peer, o.storeId);
    }
    return true;
  }

  /** The secret driver `storeId` comes back with (Welcome.resumeKey). */
  resumeKeyOf(storeId: string | undefined): string | undefined {
    return storeId === undefined ? undefined : this.driverStores.get(storeId)?.resumeKey;
  }

  /** Whether `key` is the one restored driver `storeId` comes back with. */
  mayResume(storeId: string, key: string | undefined): boolean {
    const d = this.driverStores.get(storeId);
    return !!d && !d.peer && d.resumeKey !== '' && tokensEqual(key, d.resumeKey);
  }

  /** A driver from a restarted head's tables: its object server stays a member while it may come back. */
  restoreDriver(storeId: string, address: string, resumeKey: unknown): void {
    this.driverStores.set(storeId, { peer: undefined, address, resumeKey: typeof resumeKey === 'string' ? resumeKey : '' });
  }

  /** The objects a driver that came back says it holds on nodes: its own again (freed when it lets them go). */
  restoreHolds(owner: string, holds: Record<string, string[]> | undefined): void {
    for (const [nodeId, ids] of Object.entries(holds ?? {})) {
      if (!this.nodes.has(nodeId)) continue;
      const mine = this.ownedOn(owner, nodeId);
      for (const id of ids) mine.set(id, Math.max(1, mine.get(id) ?? 0));
    }
  }

  /** What `owner` owns on node `nodeId`: object id -> how many times the node handed it out. */
  private ownedOn(owner: string, nodeId: string): Map<string, number> {
    let byNode = this.owned.get(owner);
    if (!byNode) { byNode = new Map(); this.owned.set(owner, byNode); }
    let ids = byNode.get(nodeId);
    if (!ids) { ids = new Map(); byNode.set(nodeId, ids); }
    return ids;
  }

  /** Whether anyone owns object `objectId` on node `nodeId`. */
  isOwned(nodeId: string, objectId: string): boolean {
    for (const byNode of this.owned.values()) if (byNode.get(nodeId)?.has(objectId)) return true;
    return false;
  }

  /**
   * Whether every remote argument in `args` names a member's object server
   * (a node's, or a connected driver's), so nodes dial no other address
   * with the token; otherwise the work fails with NotGivenError.
   */
  membersOnly(args: unknown[], peer: Peer, id: string, refs?: unknown): boolean {
    const locs: (RemoteLocation | undefined)[] = locationsIn(refs);
    for (const a of args) if (a !== null && typeof a === 'object' && REMOTE_ARG in a) locs.push(remoteLocation(a));
    for (const loc of locs) {
      const address = loc && (this.nodes.get(loc.nodeId)?.info.objectAddress ?? this.driverStores.get(loc.nodeId)?.address);
      if (!loc || address !== loc.address) {
        this.refuse(peer, id, `an argument names object server ${loc?.address ?? '(malformed)'}, which is not a member of this cluster`);
        return false;
      }
    }
    return true;
  }

  /**
   * Whether `peer` may call actor `actorId`; otherwise call `callId` fails with NotGivenError.
   * Drivers call their own actors; nodes those whose handles work carried to them (a task holding a handle calls through its node).
   */
  mayCall(peer: Peer, hello: Hello, actorId: string, callId: string): boolean {
    const actor = this.actors().get(actorId);
    const given = hello.role === 'driver' ? !actor || this.mayUse(peer, actor.owner, actorId) : this.nodes.get(hello.node!.nodeId)?.handles.has(actorId);
    if (!given) {
      this.refuse(peer, callId, `actor ${actorId} was never given to this ${hello.role}; only the actors a driver created, and those whose handles were passed to a task or actor, can be called`);
    }
    return !!given;
  }

  /** Whether `s` created actor `actorId` (owned by `owner`), or found it by name. */
  mayUse(s: Submitter, owner: string, actorId: string): boolean {
    const me = this.ownerOf(s);
    return owner === me || !!this.found.get(me)?.has(actorId);
  }

  /** `s` found actor `actorId` by name: it may call and kill it from now on. */
  grantFound(s: Submitter, actorId: string): void {
    const me = this.ownerOf(s);
    const set = this.found.get(me) ?? new Set<string>();
    set.add(actorId);
    this.found.set(me, set);
  }

  /**
   * Records the actors whose handles `frame` carries to node `n`: only those
   * of the driver the work came from (a driver cannot hand out another's actors).
   */
  grantHandles(n: NodeEntry, from: Submitter, frame: Frame): void {
    const actors = this.actors();
    if (actors.size === 0) return;
    const args = frame.t === 'run' ? frame.task.args : frame.t === 'actor-create' ? frame.actor.args : frame.t === 'actor-call' ? frame.args : [];
    const ids = new Set<string>();
    collectHandles(args, ids);
    if (ids.size === 0) return;
    // A node passes on only what it was given itself.
    const fromNode = this.nodes.byPeer(from);
    const owner = this.ownerOf(from);
    for (const id of ids) {
      const a = actors.get(id);
      if (a && (fromNode ? fromNode.handles.has(id) : a.owner === owner || this.found.get(owner)?.has(id))) this.nodes.grant(n, id);
    }
  }

  /** Handles in a call's answer go to the node that made the call, when the answering node had them itself. */
  grantReturned(from: NodeEntry, to: Submitter, f: ResultFrame): void {
    if (this.actors().size === 0) return;
    const caller = this.nodes.byPeer(to);
    if (!caller) return;
    const ids = new Set<string>();
    for (const r of f.returns ?? []) if ('value' in r) collectHandles(r.value, ids);
    for (const id of ids) if (from.handles.has(id)) this.nodes.grant(caller, id);
  }

  /**
   * Records the objects result `f` left on node `n` as owned by `driver`;
   * false (and `peer` closed) when one claims to be on another node.
   */
  recordResults(submitter: Submitter, n: NodeEntry, f: ResultFrame, peer: Peer | undefined): boolean {
    const left = resultLocations(f);
    if (left.length === 0) return true;
    if (left.some((loc) => loc.nodeId !== n.info.nodeId || loc.address !== n.info.objectAddress)) {
      peer?.close(CLOSE.MALFORMED, 'a result left on another node than the one that made it');
      return false;
    }
    const ids = this.ownedOn(this.ownerOf(submitter), n.info.nodeId);
    // Counted: the node holds an object once per time it handed it out, and each free lets go of one.
    for (const loc of left) ids.set(loc.objectId, (ids.get(loc.objectId) ?? 0) + 1);
    return true;
  }

  free(f: FreeFrame, peer: Peer, hello: Hello): void {
    if (hello.role === 'cli' || !Array.isArray(f.objectIds)) { peer.close(CLOSE.MALFORMED, 'free is for drivers and nodes, with a list of ids'); return; }
    // Only objects this driver owns: another driver's ids free nothing.
    const ids = this.owned.get(this.ownerOf(peer))?.get(f.nodeId);
    const mine = ids ? f.objectIds.filter((id) => {
      const k = ids.get(id as string);
      if (!k) return false;
      if (k === 1) ids.delete(id as string); else ids.set(id as string, k - 1);
      return true;
    }) : [];
    if (mine.length) this.nodes.send(f.nodeId, { t: 'free', nodeId: f.nodeId, objectIds: mine });
  }

  /** A driver or node left: a driver's object server is no longer a member, and what it owned is freed. */
  submitterGone(peer: Peer, hello: Hello): void {
    if (hello.objects && this.driverStores.get(hello.objects.storeId)?.peer !== peer) return; // another connection holds that name
    this.ownerGone(this.ownerOf(peer));
  }

  /** Told of every owner gone for good (its worker leases end with it). */
  onOwnerGone: ((owner: string) => void) | undefined;

  /** Owner `owner` is gone for good (it left, or did not come back to a restarted head). */
  ownerGone(owner: string): void {
    this.onOwnerGone?.(owner);
    if (this.driverStores.delete(owner)) this.tables?.delete('drivers', owner);
    for (const [nodeId, ids] of this.owned.get(owner) ?? []) {
      const objectIds = [...ids].flatMap(([id, k]) => new Array<string>(k).fill(id));
      if (objectIds.length) this.nodes.send(nodeId, { t: 'free', nodeId, objectIds });
    }
    this.owned.delete(owner);
    this.found.delete(owner);
  }

  private refuse(peer: Submitter, id: string, message: string): void {
    peer.send({ t: 'result', taskId: id, ok: false, error: toWire(new NotGivenError(message)) });
  }
}
