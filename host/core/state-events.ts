/**
 * Task and actor state changes, as Ray's state API records them: each node
 * keeps the latest in a bounded ring (the oldest are dropped, and counted),
 * and `tsray list` / `summary` / `timeline` read them from every node.
 *
 * Recording is on the scheduler's hot path: an event is one small object
 * pushed into a preallocated ring, with the time read once.
 */

/** Ray's task states. */
export type TaskState = 'PENDING_ARGS_AVAIL' | 'PENDING_NODE_ASSIGNMENT' | 'RUNNING' | 'FINISHED' | 'FAILED';

/** Ray's actor states. */
export type ActorState = 'PENDING_CREATION' | 'ALIVE' | 'RESTARTING' | 'DEAD';

export interface TaskEvent {
  kind: 'task';
  taskId: string;
  /** The function (or `Resource.method` for an actor call). */
  name: string;
  state: TaskState;
  /** Milliseconds since the epoch. */
  time: number;
  attempt: number;
  /** The worker thread that runs it (RUNNING and after). */
  workerId?: number;
  /** The actor whose call it is. */
  actorId?: string;
  /** Why it failed (FAILED). */
  error?: string;
  /** The error's code (FAILED). */
  errorCode?: string;
  /** Resources it asked for. */
  resources?: Record<string, number>;
}

export interface ActorEvent {
  kind: 'actor';
  actorId: string;
  /** The resource it is an instance of. */
  className: string;
  state: ActorState;
  time: number;
  name?: string;
  workerId?: number;
  restarts: number;
  /** Why it died (DEAD). */
  death?: string;
}

export type StateEvent = TaskEvent | ActorEvent;

/** Events kept per node by default (about 20 MB at worst): a few seconds of a busy node's tiny tasks. */
export const EVENTS_KEPT = 100_000;

/** A node's recent state changes, oldest first once full. */
export class EventRing {
  private readonly ring: (StateEvent | undefined)[];
  private next = 0;
  /** Events dropped to make room, since the node started. */
  dropped = 0;

  constructor(readonly capacity = EVENTS_KEPT) {
    this.ring = new Array<StateEvent | undefined>(capacity);
  }

  record(e: StateEvent): void {
    const i = this.next % this.capacity;
    if (this.ring[i] !== undefined) this.dropped++;
    this.ring[i] = e;
    this.next++;
  }

  /** The events kept, oldest first. */
  events(): StateEvent[] {
    const out: StateEvent[] = [];
    const start = this.next > this.capacity ? this.next - this.capacity : 0;
    for (let k = start; k < this.next; k++) out.push(this.ring[k % this.capacity]!);
    return out;
  }
}
