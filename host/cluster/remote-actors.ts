/**
 * Actors through a cluster driver. The head places each actor on a node
 * that can hold its resources; its creation and calls travel in the order
 * the driver made them (a call waiting for its arguments holds back the
 * calls after it, as on the embedded node), and the node runs them on its
 * own actor manager. Once the actor is alive, its calls go straight to
 * that node on a route, in the same order (actor-path.ts). Names are the
 * driver's own.
 */
import { ComponentError, InvalidArgumentError } from '../errors.js';
import { loadComponent } from '../component/load.js';
import { exportedResource } from '../component/module.js';
import type { ActorLookupReply, ComponentReply } from './protocol.js';
import { newId, type ObjectRef } from '../../store/object-ref.js';
import { shapeKey } from '../core/resources.js';
import type { ActorSpec } from '../core/specs.js';
import type { ActorBackend } from '../core/backend.js';
import type { FuncDef } from '../wit/types.js';
import type { RemoteWork, WorkQueue } from './remote-work.js';
import type { HeadChannel } from './head-link.js';
import type { ObjectStore } from '../../store/object-store.js';
import { ActorNames } from '../core/actor-names.js';
import type { LogFilter } from '../engine/guest-log.js';

interface RemoteActor {
  spec: ActorSpec;
  /** Creation and calls, in submission order. */
  queue: WorkQueue;
  /** Calls made on it that have not settled. */
  open: number;
  /** Its last handle went: it is killed once `open` reaches zero. */
  retiring: boolean;
}

export class RemoteActors implements ActorBackend {
  private readonly actors = new Map<string, RemoteActor>();
  private readonly names = new ActorNames();

  constructor(private readonly peer: HeadChannel, private readonly work: RemoteWork, private readonly objects: ObjectStore, private readonly log: LogFilter) {}

  create(spec: ActorSpec): string {
    this.names.check(spec.name);
    // A guest's actor comes with an id of its creator's lineage.
    const actorId = spec.id ?? newId();
    const a: RemoteActor = { spec, queue: this.work.lane({ actorId, maxTaskRetries: spec.maxTaskRetries }), open: 0, retiring: false };
    this.actors.set(actorId, a);
    this.names.claim(spec.name, actorId);
    const { name: _name, ...options } = spec.options ?? {};
    this.work.add(`${spec.resource.name} constructor`, spec.component, spec.args, 0, (createId, args) => ({
      t: 'actor-create',
      createId,
      actor: {
        actorId, hash: spec.component.hash, resource: spec.resource.name, args, options,
        request: spec.request, shape: shapeKey(spec.request), maxRestarts: Number.isFinite(spec.maxRestarts) ? spec.maxRestarts : 2 ** 30,
        maxTaskRetries: Number.isFinite(spec.maxTaskRetries) ? spec.maxTaskRetries : 2 ** 30,
        ...(spec.strategy ? { strategy: spec.strategy } : {}), log: this.log, ...(spec.name !== undefined ? { name: spec.name } : {}),
      },
    }), { queue: a.queue });
    return actorId;
  }

  call(actorId: string, method: FuncDef, args: unknown[], numReturns: number): ObjectRef[] {
    const a = this.actors.get(actorId);
    if (!a) throw new InvalidArgumentError(`no actor ${actorId} in this runtime`);
    const refs = this.work.add(method.name, a.spec.component, args, numReturns, (callId, sent) => ({
      t: 'actor-call', actorId, callId, method: method.shortName, args: sent, numReturns,
    }), { queue: a.queue });
    a.open++;
    this.objects.onSettled(refs[0]!, () => {
      if (--a.open === 0 && a.retiring) this.kill(actorId, true);
    });
    return refs;
  }

  /** No handle to the actor remains: it is killed once the calls already made on it settle. */
  retire(actorId: string): void {
    const a = this.actors.get(actorId);
    if (!a) return;
    if (a.open === 0) this.kill(actorId, true);
    else a.retiring = true;
  }

  named(name: string): { id: string; spec: ActorSpec } | undefined {
    const id = this.names.find(name);
    const a = id ? this.actors.get(id) : undefined;
    return a && id ? { id, spec: a.spec } : undefined;
  }

  /**
   * The actor named `name` anywhere in the cluster (another driver's, or a
   * detached one whose creator is gone), through the head; undefined when
   * there is none. Its component comes from the head, by hash.
   */
  async find(name: string): Promise<{ id: string; spec: ActorSpec } | undefined> {
    const mine = this.named(name);
    if (mine) return mine;
    const r = await this.peer.request<ActorLookupReply>({ t: 'actor-lookup', id: 0, name });
    if (r.actorId === undefined || r.hash === undefined || r.resource === undefined) return undefined;
    const known = this.actors.get(r.actorId);
    if (known) return { id: r.actorId, spec: known.spec };
    const bytes = (await this.peer.request<ComponentReply>({ t: 'need-component', id: 0, hash: r.hash })).bytes;
    if (!bytes) throw new ComponentError(`the head does not have the component of actor '${name}' (${r.hash})`);
    const component = await loadComponent(bytes);
    const res = exportedResource(component.world, r.resource);
    const funcs = res.funcs.map((x) => x.func);
    const ctor = funcs.find((f) => f.kind === 'constructor')!;
    // Its methods, and how often its creator let a call lost with its node go again; the rest was its creator's to say.
    const maxTaskRetries = r.maxTaskRetries ?? 0;
    const spec: ActorSpec = { component, resource: res.def, ctor, methods: funcs.filter((f) => f.kind === 'method'), args: [], request: {}, maxRestarts: 0, maxTaskRetries, detached: true, id: r.actorId };
    this.actors.set(r.actorId, { spec, queue: this.work.lane({ actorId: r.actorId, maxTaskRetries }), open: 0, retiring: false });
    return { id: r.actorId, spec };
  }

  spec(actorId: string): ActorSpec | undefined {
    return this.actors.get(actorId)?.spec;
  }

  /** Ends the actor through the head (which gives its own reason: the wire carries none). */
  kill(actorId: string, noRestart: boolean): void {
    const a = this.actors.get(actorId);
    if (!a) return;
    if (noRestart) {
      this.names.release(a.spec.name, actorId);
      this.work.unroute(a.queue);
    }
    this.peer.send({ t: 'actor-kill', actorId, noRestart });
  }

  cancel(ref: ObjectRef, force: boolean): boolean {
    return this.work.isQueued(ref) && this.work.cancel(ref, force, true);
  }
}
