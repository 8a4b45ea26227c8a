/**
 * A node's side of worker leases (lease-protocol.ts): drivers send tasks on
 * the leases the head granted them straight to this node's object server,
 * and their answers go back on the same connection. The head never sees
 * these tasks.
 *
 * What a connection may do, each checked here: present leases whose ticket
 * this node's lease key signed, for one owner only; run tasks of a lease's
 * shape whose arguments point only at this node, the owner's object server
 * or nodes the head announced (members.ts); call, on an actor route, the
 * actor it names (hosted here), with the same arguments rule; cancel its
 * own tasks and calls; free objects its owner was handed here.
 * Anything else closes the connection (a forged ticket with CLOSE.AUTH).
 *
 * A connection that closes takes its running tasks with it (they are
 * cancelled: its driver retries them elsewhere, as after a node death; an
 * actor's calls not started yet are cancelled, a running one finishes);
 * what its owner was handed stays until the owner frees it or the head says
 * the owner is gone (`owner-gone`).
 */
import { createHash } from 'node:crypto';
import type { ObjectRef } from '../../store/object-ref.js';
import type { Peer } from './peer.js';
import { CLOSE, chainWellFormed, type ActorCallFrame, type Frame, type RunFrame, type TaskFrame } from './protocol.js';
import { ticketValid, type LeaseGrant } from './lease-protocol.js';
import { normalizeWireOptions } from '../core/options.js';
import { toWire } from '../core/error-codec.js';
import { NotGivenError, ObjectLostError } from '../errors.js';
import { remoteLocation } from './remote-arg.js';
import type { RemoteLocation } from '../../store/object-store.js';
import type { Members } from './members.js';
import { locationsIn, resultLocations } from './wire-refs.js';

/** Where a task's answer goes: the head, or the driver that sent it on a lease; and the unanswered work there, by id (with its result refs once it runs). */
export interface Answers {
  send(f: Frame): void;
  running: Map<string, ObjectRef[]>;
}

/** The most leased tasks one connection may have unanswered here. */
export const MAX_LEASED_INFLIGHT = 100_000;
/** The most owners this node remembers as gone (their leases refused from then on). */
const MAX_GONE_OWNERS = 100_000;

/** What leased work needs of its node. */
export interface LeaseHost {
  /** Whether the head sent work `id` here and it is not answered yet (a leased task may not take its id). */
  runs(id: string): boolean;
  /** Runs `task` once `trusted` (if given) resolves; if it rejects, answers its error. */
  run(task: TaskFrame, to: Answers, trusted?: Promise<void>): Promise<void>;
  /** Calls the actor hosted here that `f` names (one not hosted here answers ActorDiedError), in order, as `run` waits for `trusted`. */
  callActor(f: ActorCallFrame, to: Answers, trusted?: Promise<void>): void;
  cancel(refs: ObjectRef[] | undefined, force: boolean, recursive: boolean): void;
  letGo(objectId: string): void;
  offerComponent(hash: string, bytes: Uint8Array): void;
}

interface Conn extends Answers {
  peer: Peer;
  owner: string | undefined;
  leases: Map<string, LeaseGrant>;
}

export class LeasedWork {
  private readonly conns = new Map<Peer, Conn>();
  /** Each unanswered leased task's connection, by task id. */
  private readonly tasks = new Map<string, Conn>();
  /** Objects handed to each owner here, by id, with how many times. */
  private readonly owned = new Map<string, Map<string, number>>();
  private readonly gone = new Set<string>();

  /** `members`: the cluster's nodes as the head announced them (arguments there are trusted). */
  constructor(private readonly host: LeaseHost, private readonly me: { leaseKey: string; nodeId: string; address: string }, private readonly members: Members) {}

  /** A frame on an object server connection; false for frames that are not about leased work. */
  frame(f: Frame, peer: Peer): boolean {
    if (f.t !== 'lease' && f.t !== 'run' && f.t !== 'actor-call' && f.t !== 'cancel' && f.t !== 'free' && f.t !== 'component') return false;
    const c = this.conns.get(peer) ?? this.open(peer);
    if (f.t === 'lease') this.lease(c, f.lease);
    else if (!c.owner) peer.close(CLOSE.MALFORMED, `a '${f.t}' before any lease`);
    else if (f.t === 'run') this.run(c, f);
    else if (f.t === 'actor-call') this.call(c, f);
    else if (f.t === 'cancel') { if (this.tasks.get(f.taskId) === c) this.host.cancel(c.running.get(f.taskId), !!f.force, f.recursive !== false); }
    else if (f.t === 'free') this.free(c.owner, f.objectIds);
    else if (createHash('sha256').update(f.bytes).digest('hex') !== f.hash) peer.close(CLOSE.MALFORMED, 'component bytes must match their hash');
    else this.host.offerComponent(f.hash, f.bytes);
    return true;
  }

  private open(peer: Peer): Conn {
    const c: Conn = {
      peer, owner: undefined, leases: new Map(), running: new Map(),
      send: (f) => {
        if (f.t === 'result') this.answered(c, f.taskId, f.ok ? resultLocations(f) : []);
        peer.send(f);
      },
    };
    this.conns.set(peer, c);
    return c;
  }

  private lease(c: Conn, g: LeaseGrant): void {
    if (g.nodeId !== this.me.nodeId || g.address !== this.me.address || !ticketValid(this.me.leaseKey, g)) {
      c.peer.close(CLOSE.AUTH, 'a lease this node did not grant');
      return;
    }
    if (c.owner !== undefined && c.owner !== g.owner) { c.peer.close(CLOSE.MALFORMED, 'leases of two owners on one connection'); return; }
    if (this.gone.has(g.owner)) { c.peer.close(CLOSE.NORMAL, 'the owner of this lease is gone'); return; }
    c.owner = g.owner;
    c.leases.set(g.leaseId, g);
  }

  private run(c: Conn, f: RunFrame): void {
    const task = f.task;
    const lease = this.admitted(c, f.lease, task.taskId, chainWellFormed(task), undefined);
    if (!lease) return;
    try {
      task.opts = normalizeWireOptions(task.opts);
    } catch (e) {
      this.refuse(c, task.taskId, e);
      return;
    }
    if (task.opts.shape !== lease.shape) { this.refuse(c, task.taskId, new NotGivenError(`a task of shape '${task.opts.shape}' was sent on a lease for '${lease.shape}'`)); return; }
    const trusted = this.argsTrusted(lease, [...task.args.map(remoteLocation), ...locationsIn(task.refs)]);
    this.start(c, task.taskId);
    void this.host.run(task, c, trusted);
  }

  private call(c: Conn, f: ActorCallFrame): void {
    const route = this.admitted(c, f.lease, f.callId, true, f.actorId);
    if (!route) return;
    const trusted = this.argsTrusted(route, f.args.map(remoteLocation));
    this.start(c, f.callId);
    this.host.callActor(f, c, trusted);
  }

  /**
   * The lease that work `id` came on, if the connection presented it and it
   * carries this kind of work (a task: no actor; a call: its actor), and the
   * id is new here; otherwise the connection closes.
   */
  private admitted(c: Conn, leaseId: string | undefined, id: string, wellFormed: boolean, actorId: string | undefined): LeaseGrant | undefined {
    const lease = leaseId === undefined ? undefined : c.leases.get(leaseId);
    if (!lease || lease.actorId !== actorId) { c.peer.close(CLOSE.MALFORMED, actorId === undefined ? 'a run on a lease this connection did not present' : 'an actor call on no route to that actor'); return undefined; }
    if (this.tasks.has(id) || this.host.runs(id) || !wellFormed) { c.peer.close(CLOSE.MALFORMED, 'a malformed or duplicate leased task'); return undefined; }
    if (c.running.size >= MAX_LEASED_INFLIGHT) { c.peer.close(CLOSE.MALFORMED, `more than ${MAX_LEASED_INFLIGHT} leased tasks unanswered on one connection`); return undefined; }
    return lease;
  }

  /**
   * Whether arguments at `locs` are where this node may dial, all of which
   * the head vouched for: this node, the lease owner's object server, the
   * live members (undefined: yes, at once). Otherwise a promise that settles
   * once the head spoke of the rest (members.ts), rejecting with what the
   * work answers: an argument on a dead node is lost, one anywhere else is
   * not this node's to fetch.
   */
  private argsTrusted(lease: LeaseGrant, locs: (RemoteLocation | undefined)[]): Promise<void> | undefined {
    const unsure = locs.filter((l): l is RemoteLocation => !!l && l.address !== lease.ownerAddress && l.address !== this.me.address && !this.members.isAlive(l.address));
    if (unsure.length === 0) return undefined;
    const verdict = Promise.all(unsure.map(async (l) => {
      const s = await this.members.whenKnown(l.address);
      if (!s) throw new NotGivenError(`a leased task's arguments may be only on this node, its owner's object server or a node of the cluster, not at ${l.address}; send it through the head`);
      if (!s.alive) throw new ObjectLostError(l.objectId, `its node ${s.nodeId} died (${s.cause})`);
    })).then(() => undefined);
    // An actor call awaits it only once the calls before it ran: a refusal may come first, and is not unhandled.
    verdict.catch(() => undefined);
    return verdict;
  }

  private refuse(c: Conn, id: string, e: unknown): void {
    c.peer.send({ t: 'result', taskId: id, ok: false, error: toWire(e) });
  }

  private start(c: Conn, id: string): void {
    c.running.set(id, []);
    this.tasks.set(id, c);
  }

  /** Leased task `id` was answered; the objects its result left here are its owner's. */
  private answered(c: Conn, id: string, left: { objectId: string }[]): void {
    if (this.tasks.get(id) === c) this.tasks.delete(id);
    if (!c.owner || left.length === 0) return;
    // Its connection closed first: nobody will ever hear of these objects.
    if (this.conns.get(c.peer) !== c) { for (const l of left) this.host.letGo(l.objectId); return; }
    let mine = this.owned.get(c.owner);
    if (!mine) { mine = new Map(); this.owned.set(c.owner, mine); }
    for (const l of left) mine.set(l.objectId, (mine.get(l.objectId) ?? 0) + 1);
  }

  /** Lets go of objects `owner` was handed here (ids it was not handed free nothing). */
  private free(owner: string, ids: string[]): void {
    const mine = this.owned.get(owner);
    if (!mine) return;
    for (const id of ids) {
      const k = mine.get(id);
      if (!k) continue;
      if (k === 1) mine.delete(id); else mine.set(id, k - 1);
      this.host.letGo(id);
    }
  }

  /** Where guest log lines of leased task `id` go (undefined: not a leased task). */
  answersOf(id: string): Answers | undefined {
    return this.tasks.get(id);
  }

  /** A connection closed: its running tasks stop (their driver runs them again elsewhere). */
  closed(peer: Peer): void {
    const c = this.conns.get(peer);
    if (!c) return;
    this.conns.delete(peer);
    for (const [id, refs] of c.running) {
      this.tasks.delete(id);
      this.host.cancel(refs, true, true);
    }
  }

  /** The head says `owner` is gone: its connections close, and what it was handed here is freed. */
  ownerGone(owner: string): void {
    if (this.gone.size >= MAX_GONE_OWNERS) this.gone.delete(this.gone.values().next().value!);
    this.gone.add(owner);
    for (const c of [...this.conns.values()]) {
      if (c.owner !== owner) continue;
      this.closed(c.peer);
      c.peer.close(CLOSE.NORMAL, 'its owner is gone');
    }
    for (const [id, k] of this.owned.get(owner) ?? []) for (let i = 0; i < k; i++) this.host.letGo(id);
    this.owned.delete(owner);
  }

  close(): void {
    for (const c of [...this.conns.values()]) this.closed(c.peer);
  }
}
