/**
 * The guest log of the work item a worker runs now: named for what the user
 * submitted (the task's function, `resource.method` for an actor call, the
 * resource for its constructor), filtered by the level its driver asked for,
 * within the per-task budget, and posted to the node's main thread.
 */
import { TaskLog } from '../engine/log-line.js';
import type { LogFilter, LogLevel, LogTarget } from '../engine/guest-log.js';
import type { ActorNewMsg, LogMsg, WorkItem } from './protocol.js';

export class ItemLog {
  private readonly log: TaskLog;

  constructor(who: string, private readonly target: LogTarget, private readonly post: (m: LogMsg) => void, private readonly owner: { taskId?: string; actorId?: string }) {
    this.log = new TaskLog(who, target.level);
  }

  private send(r: LogMsg['log']): void {
    this.post({ log: r, ...(this.target.route !== undefined ? { route: this.target.route } : {}), ...this.owner });
  }

  /** A guest's `log` call. */
  write(level: LogLevel, message: string): void {
    const r = this.log.admit(level, message);
    if (r) this.send(r);
  }

  /** The item ended: the notice of dropped lines, if any. */
  end(): void {
    const r = this.log.end();
    if (r) this.send(r);
  }
}

/** The log of `item`; an actor call takes its actor's target (`actorOf`), work without one `fallback`'s level. */
export function logFor(item: WorkItem, actorOf: (aid: number) => ActorNewMsg | undefined, fallback: LogFilter, post: (m: LogMsg) => void): ItemLog {
  if (item.t === 'run') return new ItemLog(item.fn.slice(item.fn.lastIndexOf('#') + 1), item.log ?? { level: fallback }, post, { taskId: item.id });
  if (item.t === 'actor-new') return new ItemLog(item.resource, item.log ?? { level: fallback }, post, { actorId: item.id });
  const actor = actorOf(item.aid);
  return new ItemLog(`${actor?.resource ?? 'actor'}.${item.method}`, actor?.log ?? { level: fallback }, post, { actorId: item.id });
}
