/**
 * A failure a worker thread reported, as the typed error the user catches.
 * The worker's codec (core/error-codec.ts) carries the class and fields; the
 * node adds what only it knows: the task's name and the actor's id.
 */
import { ActorDiedError, TaskCancelledError } from '../errors.js';
import { fromWire, type WireError } from '../core/error-codec.js';

export function workerError(name: string, w: WireError, actorId?: string): Error {
  if (w.code === 'ERR_TASK_CANCELLED') return new TaskCancelledError(name);
  if (w.code === 'ERR_ACTOR_DIED') return new ActorDiedError(actorId ?? '?', w.message);
  return fromWire(w, `'${name}' hit an internal error in its worker`);
}
