/**
 * The actor directory: each actor a driver created, the node it lives on,
 * the calls that wait for it to be placed, and its end: killed, refused,
 * or restarted elsewhere when its node dies while its restart budget lasts.
 */
import type { Peer } from '../peer.js';
import { CLOSE, type ActorCallFrame, type ActorCreateFrame, type ActorKillFrame, type ActorLookupFrame, type ActorRestartedFrame, type Hello } from '../protocol.js';
import { toWire } from '../../core/error-codec.js';
import { normalizeActorOptions, type ActorOptions } from '../../core/options.js';
import { shapeKey } from '../../core/resources.js';
import { ActorDiedError, InvalidArgumentError } from '../../errors.js';
import type { NodeTable } from './node-table.js';
import type { ActorCreators, Ownership, Submitter } from './ownership.js';
import type { TableStore } from './tables/table-store.js';

/** An actor as the head's tables keep it. */
export interface ActorRow {
  create: ActorCreateFrame;
  owner: string;
  node: string | undefined;
  state: 'pending' | 'alive';
  restarts: number;
}

function isActorRow(v: unknown): v is ActorRow {
  const r = v as ActorRow;
  return r !== null && typeof r === 'object' && typeof r.owner === 'string' && (r.state === 'pending' || r.state === 'alive')
    && Number.isSafeInteger(r.restarts) && typeof r.create?.createId === 'string' && typeof r.create?.actor?.actorId === 'string' && (r.node === undefined || typeof r.node === 'string');
}
import { checked, type ActorHooks, type HeadTask, type Router } from './router.js';
import { argumentBytes } from '../remote-arg.js';

interface HeadActor {
  create: ActorCreateFrame;
  /** Who created it (ownership.ts names owners): it dies with its owner. */
  owner: string;
  /** Where its creation's answer goes: the owner's connection, or a stand-in while the owner is away. */
  driver: Submitter;
  /** Loaded from a restarted head's tables; its owner has not sent its creation again yet. */
  restored?: boolean;
  /** Its name in the cluster (`create.actor.name`): any driver finds it. */
  name?: string;
  /** `lifetime: 'detached'`: it outlives its owner, until killed. */
  detached: boolean;
  node: string | undefined;
  state: 'pending' | 'alive' | 'dead';
  restarts: number;
  death?: string;
  /** Calls made before it was placed, in order. */
  waiting: HeadTask[];
  /** Its creation, until the node answers it (re-sent if that node dies first). */
  creating: HeadTask | undefined;
}

export class ActorDirectory implements ActorHooks, ActorCreators {
  private readonly actors = new Map<string, HeadActor>();
  /** Named actors not dead for good, by name: names are unique in the cluster, as Ray's in a namespace. */
  private readonly names = new Map<string, string>();
  /** Calls it routed since the head started (calls on actor routes pass it by). */
  routed = 0;

  constructor(private readonly nodes: NodeTable, private readonly ownership: Ownership, private readonly router: Router, private readonly tables?: TableStore) {}

  /** Writes `actor`'s row (or removes it once the actor is dead): a restarted head loads these. */
  private persist(actor: HeadActor): void {
    const id = actor.create.actor.actorId;
    if (actor.state === 'dead') { this.tables?.delete('actors', id); return; }
    this.tables?.set('actors', id, { create: actor.create, owner: actor.owner, node: actor.node, state: actor.state, restarts: actor.restarts } satisfies ActorRow);
  }

  /**
   * Loads the actors of a restarted head's tables: each alive one holds its
   * resources on its node again; answers go to a stand-in until its owner
   * comes back (`ownerBack`). Rows that do not parse are skipped.
   */
  restore(rows: Map<string, unknown>): void {
    for (const [id, row] of rows) {
      if (!isActorRow(row) || row.create.actor.actorId !== id) continue;
      const driver: Submitter = { send: () => undefined };
      this.ownership.nameOwner(driver, row.owner);
      const actor: HeadActor = { create: row.create, owner: row.owner, driver, node: row.node, state: row.state, restarts: row.restarts, waiting: [], creating: undefined, restored: true, ...this.lifetimeOf(row.create) };
      this.actors.set(id, actor);
      if (actor.name !== undefined) this.names.set(actor.name, id);
      const n = row.state === 'alive' && row.node ? this.nodes.get(row.node) : undefined;
      if (n) this.nodes.reserve(n, row.create.actor.request);
      else if (row.state === 'alive') { actor.state = 'pending'; actor.node = undefined; }
    }
  }

  /** An actor's name and lifetime, from its creation (the options by the public API's rules; a malformed one is neither). */
  private lifetimeOf(f: ActorCreateFrame): { name?: string; detached: boolean } {
    let detached = false;
    try { detached = normalizeActorOptions(f.actor.options as ActorOptions).detached; } catch { /* refused at creation */ }
    return { ...(typeof f.actor.name === 'string' ? { name: f.actor.name } : {}), detached };
  }

  /**
   * `tsray.findActor(name)`: the actor named `name`, for a driver; finding
   * it lets that driver call and kill it, as Ray's get_actor does.
   */
  lookup(f: ActorLookupFrame, peer: Peer, hello: Hello): void {
    if (hello.role !== 'driver') { peer.close(CLOSE.MALFORMED, 'only drivers look actors up by name'); return; }
    const id = this.names.get(f.name);
    const a = id ? this.actors.get(id) : undefined;
    if (!a || a.state === 'dead') { peer.send({ t: 'actor-lookup-reply', id: f.id, error: `no actor named '${f.name}' in this cluster` }); return; }
    this.ownership.grantFound(peer, a.create.actor.actorId);
    const { actorId, hash, resource, maxTaskRetries } = a.create.actor;
    peer.send({ t: 'actor-lookup-reply', id: f.id, actorId, hash, resource, ...(maxTaskRetries ? { maxTaskRetries } : {}) });
  }

  /** `owner` came back on `peer`: answers about its actors go there. */
  ownerBack(owner: string, peer: Submitter): void {
    for (const a of this.actors.values()) if (a.owner === owner) a.driver = peer;
  }

  /**
   * A node came back to a restarted head, hosting `hosted`: an actor the
   * tables put there that it no longer hosts died meanwhile (it restarts
   * elsewhere while its budget lasts); one it hosts that no table puts
   * there is not the cluster's any more and is killed.
   */
  nodeResumed(nodeId: string, hosted: readonly string[]): void {
    const here = new Set(hosted);
    for (const a of this.actors.values()) {
      if (a.state === 'alive' && a.node === nodeId && !here.has(a.create.actor.actorId)) this.end(a, `its node ${nodeId} no longer hosted it when the head came back`, true);
    }
    for (const id of here) {
      const a = this.actors.get(id);
      if (a?.state === 'pending' && !a.creating) {
        // Created there while the head was away: it lives there.
        const n = this.nodes.get(nodeId)!;
        a.node = nodeId;
        a.state = 'alive';
        this.nodes.reserve(n, a.create.actor.request);
        this.persist(a);
      } else if (!a || a.state === 'dead' || a.node !== nodeId) {
        this.nodes.send(nodeId, { t: 'actor-kill', actorId: id, noRestart: true });
      }
    }
  }

  /**
   * A restored actor's owner sends its creation again: one created already
   * (or being created again) is answered at once; one still pending is
   * matched to what its node reported, or placed now.
   */
  private resumeCreate(actor: HeadActor, f: ActorCreateFrame, peer: Peer): void {
    actor.restored = false;
    actor.driver = peer;
    // Created already, or being created again (its node died meanwhile): the driver's creation is answered; its calls wait for the actor.
    if (actor.state === 'alive' || actor.creating) {
      this.router.claim(f.createId); // a node's late answer to it adds nothing
      peer.send({ t: 'result', taskId: f.createId, ok: true, returns: [] });
      return;
    }
    this.place(actor, f.createId);
  }

  get size(): number {
    return this.actors.size;
  }

  get(actorId: string): HeadActor | undefined {
    return this.actors.get(actorId);
  }

  create(f: ActorCreateFrame, peer: Peer, hello: Hello): void {
    if (this.router.resent(f.createId, peer)) return;
    const a = f.actor;
    const restored = this.actors.get(a?.actorId);
    if (restored?.restored && restored.owner === this.ownership.ownerOf(peer) && typeof f.createId === 'string' && !this.router.has(f.createId)) {
      this.resumeCreate(restored, f, peer);
      return;
    }
    // A node creates the actors its guests create that it cannot host itself (see tasks-away.ts); it owns them as a driver would.
    if ((hello.role !== 'driver' && hello.role !== 'node') || typeof f.createId !== 'string' || !a || typeof a.actorId !== 'string' || !Array.isArray(a.args)
      || typeof a.request !== 'object' || this.actors.has(a.actorId) || this.router.has(f.createId)) {
      peer.close(CLOSE.MALFORMED, 'a malformed actor creation');
      return;
    }
    // What the head acts on comes from the options, by the public API's rules, not from the sender's copy.
    const norm = checked(peer, f.createId, () => normalizeActorOptions(a.options as ActorOptions));
    if (!norm) return;
    Object.assign(a, { request: norm.request, shape: shapeKey(norm.request), maxRestarts: norm.maxRestarts, strategy: norm.strategy });
    if (!norm.strategy) delete a.strategy;
    const actor: HeadActor = { create: f, owner: this.ownership.ownerOf(peer), driver: peer, node: undefined, state: 'pending', restarts: 0, waiting: [], creating: undefined, ...this.lifetimeOf(f) };
    this.actors.set(a.actorId, actor);
    const taken = actor.name !== undefined ? this.names.get(actor.name) : undefined;
    if (taken !== undefined) {
      actor.state = 'dead';
      const why = `an actor named '${actor.name}' already exists in this cluster; names must be unique (tsray.findActor finds it)`;
      actor.death = `its creation was refused: ${why}`;
      peer.send({ t: 'result', taskId: f.createId, ok: false, error: toWire(new InvalidArgumentError(why)) });
      return;
    }
    if (actor.name !== undefined) this.names.set(actor.name, a.actorId);
    this.persist(actor);
    const creator = hello.role === 'node' ? this.nodes.get(hello.node!.nodeId) : undefined;
    if (creator) this.nodes.grant(creator, a.actorId);
    if (!this.ownership.membersOnly(a.args, peer, f.createId)) { actor.state = 'dead'; actor.death = 'its creation was refused'; return; }
    this.place(actor, f.createId);
  }

  call(f: ActorCallFrame, peer: Peer, hello: Hello): void {
    if (this.router.resent(f.callId, peer)) return;
    const actor = this.actors.get(f.actorId);
    if ((hello.role !== 'driver' && hello.role !== 'node') || typeof f.callId !== 'string' || !Array.isArray(f.args) || this.router.has(f.callId)) {
      peer.close(CLOSE.MALFORMED, 'a malformed actor call');
      return;
    }
    if (!this.ownership.mayCall(peer, hello, f.actorId, f.callId)) return;
    if (!this.ownership.membersOnly(f.args, peer, f.callId)) return;
    const call: HeadTask = {
      id: f.callId, name: f.method, driver: peer, node: undefined, attempts: f.attempt ?? 0, request: {}, shape: '', actorId: f.actorId, maxRetries: 0,
      frame: () => f,
    };
    if (!actor || actor.state === 'dead') { this.actorGone(call, actor?.death ?? 'it does not exist'); return; }
    this.routed++;
    this.router.track(call);
    if (actor.state === 'pending') actor.waiting.push(call);
    else if (!this.router.adopt(call)) this.router.sendTo(call, actor.node!);
  }

  kill(f: ActorKillFrame, peer: Peer): void {
    const actor = this.actors.get(f.actorId);
    if (!actor || !this.ownership.mayUse(peer, actor.owner, f.actorId) || actor.state === 'dead') return;
    if (actor.node) this.nodes.send(actor.node, f);
    if (f.noRestart) this.end(actor, 'it was killed with tsray.kill()', false);
  }

  /** A driver (or node) that leaves, or does not come back to a restarted head, takes the actors it created with it (detached ones excepted). */
  ownerGone(owner: string): void {
    for (const [id, a] of this.actors) {
      if (a.owner !== owner || (a.detached && a.state !== 'dead')) continue;
      if (a.name !== undefined && this.names.get(a.name) === id) this.names.delete(a.name);
      if (a.node && a.state === 'alive') {
        this.nodes.send(a.node, { t: 'actor-kill', actorId: id, noRestart: true });
        this.nodes.unreserve(a.node, a.create.actor.request);
      }
      this.actors.delete(id);
      this.tables?.delete('actors', id);
    }
  }

  /** The actors that lived on a dead node restart elsewhere or die. */
  nodeDied(nodeId: string, why: string): void {
    for (const actor of this.actors.values()) {
      if (actor.node === nodeId && actor.state === 'alive') this.end(actor, `its ${why}`, true);
    }
  }

  placed(t: HeadTask, nodeId: string): void {
    const actor = t.actorId ? this.actors.get(t.actorId) : undefined;
    if (!actor || actor.state !== 'pending') return;
    actor.node = nodeId;
    actor.state = 'alive';
    this.persist(actor);
    for (const c of actor.waiting.splice(0)) this.router.sendTo(c, nodeId);
  }

  unschedulable(t: HeadTask, message: string): void {
    const actor = t.actorId ? this.actors.get(t.actorId) : undefined;
    if (actor && actor.creating === t) { actor.creating = undefined; this.end(actor, message, false); }
  }

  isCreation(t: HeadTask): boolean {
    return this.actors.get(t.actorId ?? '')?.creating === t;
  }

  answered(t: HeadTask): boolean {
    const owner = t.actorId ? this.actors.get(t.actorId) : undefined;
    if (owner?.creating !== t) return false;
    owner.creating = undefined;
    return true;
  }

  lost(t: HeadTask, why: string): void {
    // A creation is redone with its actor (nodeDied); calls in flight wait for the restarted actor
    // while its maxTaskRetries lasts, else fail (Ray's max_task_retries is 0 by default).
    const actor = this.actors.get(t.actorId!);
    if (actor?.creating === t) return;
    if (actor && this.resendsCall(actor, t)) actor.waiting.push(t);
    else this.actorGone(t, `its ${why}`);
  }

  cancelled(t: HeadTask): void {
    for (const a of this.actors.values()) a.waiting = a.waiting.filter((x) => x !== t);
  }

  /** The node hosting an actor restarted it (a trap, a kill with restart): the one budget loses a restart. */
  restarted(f: ActorRestartedFrame, hello: Hello): void {
    const actor = this.actors.get(f.actorId);
    if (actor && hello.role === 'node' && actor.node === hello.node?.nodeId) { actor.restarts++; this.persist(actor); }
  }

  /** Places an actor (again, after its node died): its creation goes to a node, then the calls that waited. */
  private place(actor: HeadActor, createId: string): void {
    const c = actor.create;
    const t: HeadTask = {
      id: createId, name: `${c.actor.resource} constructor`, driver: actor.driver, node: undefined, attempts: 0,
      request: c.actor.request, shape: c.actor.shape, actorId: c.actor.actorId, maxRetries: 0, frame: () => ({ ...c, createId, actor: { ...c.actor, maxRestarts: Math.max(0, c.actor.maxRestarts - actor.restarts) } }),
      ...(c.actor.strategy ? { strategy: c.actor.strategy } : {}), locality: argumentBytes(c.actor.args),
    };
    actor.creating = t;
    this.router.track(t);
    this.router.admit(t);
  }

  /** A call to an actor that is dead fails with ActorDiedError, as on the embedded node. */
  private actorGone(t: HeadTask, why: string): void {
    this.router.finish(t, toWire(new ActorDiedError(t.actorId!, why)));
  }

  /** Kills `actor`, or restarts it when its node died and its restart budget allows. */
  private end(actor: HeadActor, why: string, nodeDied: boolean): void {
    if (nodeDied && actor.restarts < actor.create.actor.maxRestarts) {
      // Ray restarts an actor whose node died while max_restarts allows: a fresh instance elsewhere.
      actor.restarts++;
      actor.node = undefined;
      actor.state = 'pending';
      this.persist(actor);
      if (actor.creating) this.router.dispatch(actor.creating); // never answered: the driver still waits on this one
      else this.place(actor, `${actor.create.createId}-r${actor.restarts}`);
      return;
    }
    if (!nodeDied && actor.state === 'alive') this.nodes.unreserve(actor.node, actor.create.actor.request);
    actor.state = 'dead';
    actor.death = why;
    if (actor.name !== undefined && this.names.get(actor.name) === actor.create.actor.actorId) this.names.delete(actor.name);
    this.persist(actor);
    const c = actor.creating;
    if (c && !c.node) {
      // Still waiting for a node: it leaves the demands and is never created when one joins.
      this.router.unpark(c);
      actor.creating = undefined;
      this.actorGone(c, why);
    }
    for (const w of actor.waiting.splice(0)) this.actorGone(w, why);
  }

  /** Whether call `t`, lost with its actor's node, goes to the actor once it restarts (counting the attempt). */
  private resendsCall(actor: HeadActor, t: HeadTask): boolean {
    const a = actor.create.actor;
    if (actor.restarts >= a.maxRestarts || t.attempts >= (a.maxTaskRetries ?? 0)) return false;
    t.attempts++;
    return true;
  }
}
