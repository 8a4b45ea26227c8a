/**
 * The records the actor manager keeps: an actor (state, worker, restart
 * budget, queued and in-flight calls) and a call on it.
 */
import type { ActorDiedError } from '../errors.js';
import type { FuncDef } from '../wit/types.js';
import type { ObjectRef } from '../../store/object-ref.js';
import type { Lane } from '../core/pending-work.js';
import type { ActorSpec } from '../core/specs.js';
import type { DeviceIds } from '../core/resources.js';
import type { WorkerHandle } from '../worker/worker-handle.js';

/** One method call on an actor, from submission until its result is settled. */
export class Call {
  pendingDeps = 0;
  state: 'pending' | 'sent' | 'done' = 'pending';
  cancelled = false;
  timer: NodeJS.Timeout | undefined = undefined;
  /** Whether the call counts as a pending-task reference on its ref arguments. */
  holds = false;
  /** Arguments pinned in the store while the actor's worker reads them. */
  readonly pinned: ObjectRef[] = [];
  pinTid = 0;
  /** Sends left after the actor dies with this call in flight and restarts. */
  retriesLeft: number;
  constructor(readonly n: number, readonly actor: Actor, readonly method: FuncDef, readonly args: unknown[], readonly returns: ObjectRef[]) {
    this.retriesLeft = actor.spec.maxTaskRetries;
  }

  /** Its id in state events: its actor's id and its number. */
  get taskId(): string {
    return this.actor.id.slice(0, 20) + this.n.toString(16).padStart(12, '0');
  }

  get name(): string {
    return `${this.actor.spec.resource.name}.${this.method.shortName}`;
  }

  /** Sends of it so far beyond the first (a call resent after its actor restarted). */
  get attempt(): number {
    return this.actor.spec.maxTaskRetries - this.retriesLeft;
  }
}

/** One actor on this node: its state, worker, queued and in-flight calls, and what it holds. */
export class Actor {
  state: 'starting' | 'waiting' | 'alive' | 'dead' = 'starting';
  pendingDeps = 0;
  worker: WorkerHandle | undefined = undefined;
  devices: DeviceIds | undefined = undefined;
  restartsLeft: number;
  readonly inflight = new Map<number, Call>();
  death: ActorDiedError | undefined = undefined;
  /** Constructor arguments pinned for the actor's worker (it rebuilds the actor from them on restart). */
  readonly pinned: ObjectRef[] = [];
  pinTid = 0;
  /** Whether its constructor arguments are held (they are, from creation until it dies). */
  holds = false;
  /** Calls made on it that have not finished. */
  open = 0;
  /** Set when its last handle went: it ends, saying this, once `open` reaches zero. */
  retiring: string | undefined = undefined;
  /** `pending`: its calls not sent yet, in the order they were made. */
  constructor(readonly aid: number, readonly id: string, readonly spec: ActorSpec, readonly pending: Lane<Call>) {
    this.restartsLeft = spec.maxRestarts;
  }

  get args(): readonly unknown[] {
    return this.spec.args;
  }
}

/** What a cluster node gives its actor manager: the rest of the cluster. */
export interface ActorPeers {
  /** A guest here calls an actor this node does not host. */
  call(actorId: string, method: string, args: unknown[]): Promise<unknown>;
  /** Actor `localId` restarted here, spending one restart of its budget. */
  restarted(localId: string): void;
}
