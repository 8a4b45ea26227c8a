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

/** Events kept per node by default: a few seconds of a busy node's tiny tasks. */
export const EVENTS_KEPT = 100_000;

const TASK_STATES: readonly TaskState[] = ['PENDING_ARGS_AVAIL', 'PENDING_NODE_ASSIGNMENT', 'RUNNING', 'FINISHED', 'FAILED'];
const ACTOR_STATES: readonly ActorState[] = ['PENDING_CREATION', 'ALIVE', 'RESTARTING', 'DEAD'];
const TASK_CODE = new Map(TASK_STATES.map((s, i) => [s, i]));
const ACTOR_CODE = new Map(ACTOR_STATES.map((s, i) => [s, i]));

/** What an event may carry beyond its fixed fields: resources asked for, the error it failed with, why an actor died, an actor's name. */
export type EventDetail = Record<string, number> | Error | string | undefined;

/**
 * A node's recent state changes, oldest first once full. Stored as columns
 * (typed arrays, and references to strings and objects the runtime already
 * holds), so recording allocates nothing and keeps the old generation of the
 * heap free of event objects; `events()` builds the objects when read.
 */
export class EventRing {
  private readonly isActor: Uint8Array;
  private readonly state: Uint8Array;
  private readonly time: Float64Array;
  /** A task's attempt; an actor's restarts. */
  private readonly count: Int32Array;
  /** The worker thread, or -1. */
  private readonly worker: Int32Array;
  /** The task's or actor's id. */
  private readonly id: (string | undefined)[];
  /** The task's name; the actor's class. */
  private readonly name: (string | undefined)[];
  /** A call's actor id. */
  private readonly actor: (string | undefined)[];
  private readonly detail: EventDetail[];
  private next = 0;
  /** Events dropped to make room, since the node started. */
  dropped = 0;

  constructor(readonly capacity = EVENTS_KEPT) {
    this.isActor = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.time = new Float64Array(capacity);
    this.count = new Int32Array(capacity);
    this.worker = new Int32Array(capacity);
    this.id = new Array<string | undefined>(capacity).fill(undefined);
    this.name = new Array<string | undefined>(capacity).fill(undefined);
    this.actor = new Array<string | undefined>(capacity).fill(undefined);
    this.detail = new Array<EventDetail>(capacity).fill(undefined);
  }

  private slot(): number {
    if (this.next >= this.capacity) this.dropped++;
    return this.next++ % this.capacity;
  }

  task(taskId: string, name: string, state: TaskState, time: number, attempt: number, workerId: number, actorId: string | undefined, detail: EventDetail): void {
    const i = this.slot();
    this.isActor[i] = 0;
    this.state[i] = TASK_CODE.get(state)!;
    this.time[i] = time;
    this.count[i] = attempt;
    this.worker[i] = workerId;
    this.id[i] = taskId;
    this.name[i] = name;
    this.actor[i] = actorId;
    this.detail[i] = detail;
  }

  actorEvent(actorId: string, className: string, state: ActorState, time: number, restarts: number, workerId: number, detail: EventDetail, name?: string): void {
    const i = this.slot();
    this.isActor[i] = 1;
    this.state[i] = ACTOR_CODE.get(state)!;
    this.time[i] = time;
    this.count[i] = restarts;
    this.worker[i] = workerId;
    this.id[i] = actorId;
    this.name[i] = className;
    this.actor[i] = name;
    this.detail[i] = detail;
  }

  /** The events kept, oldest first. */
  events(): StateEvent[] {
    const out: StateEvent[] = [];
    const start = this.next > this.capacity ? this.next - this.capacity : 0;
    for (let k = start; k < this.next; k++) out.push(this.read(k % this.capacity));
    return out;
  }

  private read(i: number): StateEvent {
    const w = this.worker[i]!;
    const d = this.detail[i];
    if (this.isActor[i]) {
      return {
        kind: 'actor', actorId: this.id[i]!, className: this.name[i]!, state: ACTOR_STATES[this.state[i]!]!, time: this.time[i]!, restarts: this.count[i]!,
        ...(this.actor[i] !== undefined ? { name: this.actor[i]! } : {}), ...(w >= 0 ? { workerId: w } : {}), ...(typeof d === 'string' ? { death: d } : {}),
      };
    }
    const e: TaskEvent = { kind: 'task', taskId: this.id[i]!, name: this.name[i]!, state: TASK_STATES[this.state[i]!]!, time: this.time[i]!, attempt: this.count[i]! };
    if (w >= 0) e.workerId = w;
    if (this.actor[i] !== undefined) e.actorId = this.actor[i]!;
    if (d instanceof Error) {
      e.error = d.message;
      const code = (d as Error & { code?: unknown }).code;
      e.errorCode = typeof code === 'string' ? code : 'ERR_INTERNAL';
    } else if (d !== undefined && typeof d === 'object') {
      e.resources = { ...d };
    }
    return e;
  }
}
