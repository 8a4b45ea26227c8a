/**
 * A node's state events (core/state-events.ts): what its scheduler and
 * actor manager record as tasks and actors change state, read by
 * `tsray list` / `summary` / `timeline` through its admin socket or the head.
 */
import { EventRing, EVENTS_KEPT, type ActorState, type TaskState } from '../core/state-events.js';
import type { ProcessState } from '../core/state-views.js';

/** Milliseconds since the epoch, with the sub-millisecond part (a timeline needs it). */
const now = (): number => performance.timeOrigin + performance.now();

/** What a task event is read from (the scheduler's Task, an actor call). */
export interface EventTask {
  readonly taskId: string;
  readonly name: string;
  readonly attempt: number;
}

export class NodeEvents {
  private readonly ring: EventRing | undefined;

  /** `kept`: events kept (0: none recorded at all). */
  constructor(kept = EVENTS_KEPT) {
    this.ring = kept > 0 ? new EventRing(kept) : undefined;
  }

  /**
   * A task (or actor call) changed state. `detail`: the resources it asks
   * for (at submit) or the error it failed with; kept by reference, read
   * only when someone lists the events. `time`: when it changed, if not now.
   */
  task(t: EventTask, state: TaskState, workerId = -1, detail?: Record<string, number> | Error, actorId?: string, time = now()): void {
    this.ring?.task(t.taskId, t.name, state, time, t.attempt, workerId, actorId, detail);
  }

  actor(a: { actorId: string; className: string; name?: string; restarts: number }, state: ActorState, workerId = -1, death?: string): void {
    this.ring?.actorEvent(a.actorId, a.className, state, now(), a.restarts, workerId, death, a.name);
  }

  /** This process's events, as `tsray list` reads them. */
  report(nodeId: string, address: string): ProcessState {
    return { nodeId, address, pid: process.pid, events: this.ring?.events() ?? [], dropped: this.ring?.dropped ?? 0 };
  }
}
