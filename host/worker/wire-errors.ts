/** Turns an error reported by a worker back into the typed error a user catches. */
import {
  ActorDiedError, ArgumentTypeError, ComponentError, OutOfMemoryError, TaskCancelledError, TaskError, TsrayError,
} from '../errors.js';
import type { WireError } from './protocol.js';

export function rebuildError(name: string, e: WireError, actorId?: string): Error {
  switch (e.kind) {
    case 'task': {
      const opts: { payload?: unknown; guestStack?: string } = {};
      if (e.hasPayload) opts.payload = e.payload;
      if (e.guestStack) opts.guestStack = e.guestStack;
      return new TaskError(e.functionName ?? name, e.guestMessage ?? e.message, opts);
    }
    case 'cancelled': return new TaskCancelledError(name);
    case 'oom': return new OutOfMemoryError(name, e.message);
    case 'argument': return new ArgumentTypeError(e.message);
    case 'component': return new ComponentError(e.message);
    case 'actor-died': return new ActorDiedError(actorId ?? '?', e.message);
    default: return new TsrayError('ERR_INTERNAL', `'${name}' hit an internal error in its worker: ${e.message}`);
  }
}
