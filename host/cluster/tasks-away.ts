/**
 * A cluster node's nested tasks that it does not run itself go to the head,
 * which places them on any node (Ray's spillback): those with a SPREAD or
 * another node's affinity, those this node can never hold, and, while it
 * has no room, those their parent's worker could not run itself when it
 * waits (a claimable one stays: its parent runs it inline, which is faster
 * than any hop and cannot deadlock). Results come back to this node and
 * are pulled here at once, so guests and the local scheduler only ever read
 * local objects; this node owns them at the head until its guests let go.
 * Actors its guests create go the same way when this node should not host
 * them (the same rules, less "no room now": an actor waits for room here).
 * Plain tasks go on worker leases when the head has them (lease-pool.ts):
 * this node is then their owner, as a driver is, and the head is off their path.
 */
import type { ObjectRef } from '../../store/object-ref.js';
import type { RemoteLocation } from '../../store/object-store.js';
import type { EmbeddedNode } from '../node/node.js';
import type { TasksElsewhere } from '../node/guest-runtime.js';
import type { NormalizedOptions } from '../core/options.js';
import type { ActorSpec, TaskSpec } from '../core/specs.js';
import { RemoteActors } from './remote-actors.js';
import { DEFAULT_LOG_FILTER } from '../engine/guest-log.js';
import { fits } from '../core/resources.js';
import { RemoteWork } from './remote-work.js';
import type { ObjectPuller, ObjectServer } from './object-transfer.js';
import type { HeadChannel } from './head-link.js';
import type { FreeFrame, LogFrame, ResultFrame } from './protocol.js';
import { LeasePool } from './lease-pool.js';
import type { ClientTls } from './tls.js';
import type { Members } from './members.js';

export class TasksAway implements TasksElsewhere {
  private readonly work: RemoteWork;
  /** Actors its guests created that the head placed (calls to them go through the head, as to any actor not hosted here). */
  private readonly actors: RemoteActors;
  /** Task sent away -> the log route of the work that sent it (its lines go on to that driver). */
  private readonly routes = new Map<string, string>();

  /** Worker leases for the plain tasks it sends away. */
  private readonly pool: LeasePool | undefined;

  /** `forwardLog`: where a log line of a task sent away goes (on to the driver of the work that sent it); `leases`: how to reach leased nodes. */
  constructor(private readonly node: EmbeddedNode, private readonly peer: HeadChannel, server: ObjectServer, private readonly puller: ObjectPuller,
    private readonly forwardLog: (f: LogFrame) => void, leases?: { token: string; tls: ClientTls | undefined; members: Members }) {
    this.work = new RemoteWork(peer, node.objects, server, node.nodeId, { shipComponents: false, land: (r, loc) => this.land(r, loc) });
    this.actors = new RemoteActors(peer, this.work, node.objects, DEFAULT_LOG_FILTER);
    if (leases) {
      this.pool = new LeasePool(peer, leases.token, leases.tls, {
        result: (f) => this.onResult(f),
        log: (f) => { this.onLog(f); },
        lost: (t, why) => this.work.lost(t.id, why, t.viaHead),
        viaHead: (t) => this.work.unleased(t.id, t.viaHead),
      }, leases.members);
      this.work.pool = this.pool;
    }
  }

  /** The head says node `nodeId` died: what this node's guests sent there on leases is lost now. */
  nodeDead(nodeId: string, cause: string): void {
    this.pool?.nodeDead(nodeId, cause);
  }

  /** A `free` of objects held elsewhere: to the node that made a leased result, else to the head. */
  routeFree(f: FreeFrame): void {
    if (this.pool) this.pool.routeFree(f); else this.peer.send(f);
  }

  /** The head came back from a restart: what was sent away and not answered goes again. */
  resend(): void {
    this.work.resend();
  }

  wants(opts: Pick<NormalizedOptions, 'strategy' | 'request'>, claimable: boolean): boolean {
    const s = opts.strategy;
    if (s === 'SPREAD') return true;
    if (typeof s === 'object') return s.nodeId !== this.node.nodeId;
    const here = this.node.scheduler;
    if (!fits(here.totalResources(), opts.request)) return true;
    return !claimable && !fits(here.availableResources(), opts.request);
  }

  submit(spec: TaskSpec): ObjectRef[] {
    const route = spec.log?.route;
    return this.work.add(spec.name, spec.component, spec.args, spec.opts.numReturns, (taskId, args, refs) => {
      if (route !== undefined) this.routes.set(taskId, route);
      return {
        t: 'submit',
        task: {
          taskId, hash: spec.component.hash, name: spec.name, fn: spec.fn, args, opts: spec.opts,
          ...(spec.log ? { log: spec.log.level } : {}), ...(refs ? { refs } : {}),
        },
      };
    }, { ...(spec.opts.strategy || spec.opts.streaming ? {} : { lease: { shape: spec.opts.shape, request: spec.opts.request } }), ...(spec.borrowed?.length ? { borrowed: spec.borrowed } : {}), ...(spec.returnIds ? { returnIds: spec.returnIds } : {}), ...(spec.taskId ? { id: spec.taskId } : {}) });
  }

  cancel(ref: ObjectRef, force: boolean, recursive: boolean): boolean {
    return this.work.cancel(ref, force, false, recursive);
  }

  createActor(spec: ActorSpec): string {
    return this.actors.create(spec);
  }

  killActor(actorId: string, noRestart: boolean): boolean {
    if (!this.actors.spec(actorId)) return false;
    this.actors.kill(actorId, noRestart);
    return true;
  }

  /** A result from the head (ignored unless it is one of ours). */
  onResult(f: ResultFrame): void {
    this.routes.delete(f.taskId);
    this.work.onResult(f);
  }

  /** A log line of a task sent away goes on to the driver of the work that sent it; false when it is not ours. */
  onLog(f: LogFrame): boolean {
    const route = this.routes.get(f.route);
    if (route === undefined) return false;
    this.forwardLog({ t: 'log', route, level: f.level, who: f.who, text: f.text });
    return true;
  }

  /** The head is gone: what was sent away cannot come back. */
  failAll(error: Error): void {
    this.work.failAll(error);
    this.pool?.close();
  }

  /** The result's bytes come here before its ref is ready, so nothing here ever reads a remote object. */
  private land(r: ObjectRef, loc: RemoteLocation): void {
    const { objects } = this.node;
    this.puller.pull(loc, r).then((got) => {
      if (got !== r) got.release();
      // Marked remote too: when it is freed here, its owner is told (sendFrees).
      objects.resolveRemote(r, loc);
    }, (e: Error) => objects.fail(r, e));
  }
}
