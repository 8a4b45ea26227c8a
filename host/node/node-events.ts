/**
 * A node's state events (core/state-events.ts): what its scheduler and
 * actor manager record as tasks and actors change state, read by
 * `tsray list` / `summary` / `timeline` through its admin socket or the head.
 */
import { TsrayError } from '../errors.js';
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

  task(t: EventTask, state: TaskState, extra?: { workerId?: number; actorId?: string; error?: unknown; resources?: Record<string, number> }): void {
    if (!this.ring) return;
    const err = extra?.error;
    this.ring.record({
      kind: 'task', taskId: t.taskId, name: t.name, state, time: now(), attempt: t.attempt,
      ...(extra?.workerId !== undefined ? { workerId: extra.workerId } : {}),
      ...(extra?.actorId !== undefined ? { actorId: extra.actorId } : {}),
      ...(extra?.resources ? { resources: extra.resources } : {}),
      ...(err !== undefined ? { error: err instanceof Error ? err.message : String(err), errorCode: err instanceof TsrayError ? err.code : 'ERR_INTERNAL' } : {}),
    });
  }

  actor(a: { actorId: string; className: string; name?: string; restarts: number }, state: ActorState, extra?: { workerId?: number; death?: string }): void {
    this.ring?.record({
      kind: 'actor', actorId: a.actorId, className: a.className, state, time: now(), restarts: a.restarts,
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(extra?.workerId !== undefined ? { workerId: extra.workerId } : {}),
      ...(extra?.death !== undefined ? { death: extra.death } : {}),
    });
  }

  /** This process's events, as `tsray list` reads them. */
  report(nodeId: string, address: string): ProcessState {
    return { nodeId, address, pid: process.pid, events: this.ring?.events() ?? [], dropped: this.ring?.dropped ?? 0 };
  }
}
