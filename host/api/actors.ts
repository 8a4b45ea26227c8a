/**
 * Reaching actors by name, and ending them: `getActor` (this runtime's
 * own), `findActor` (anywhere in a cluster, through the head) and `kill`.
 */
import { InvalidArgumentError } from '../errors.js';
import { requireNode } from './current.js';
import { ActorHandle, handleFor, type ActorHandleOf } from './actor-handle.js';
import type { UntypedActor } from './typing.js';
import { lifetimesOf } from './actor-lifetime.js';

/**
 * The actor named `name` (see the `name` actor option). Throws
 * `InvalidArgumentError` if there is none. `A` types its methods, as
 * `getActor<Component['actors']['counter']>('c')` with a generated `Component`.
 */
export function getActor<A = UntypedActor>(name: string): ActorHandleOf<A> {
  const found = requireNode().actors.named(name);
  if (!found) throw new InvalidArgumentError(`no actor named '${name}'`);
  return handleFor(found.id, found.spec.methods) as ActorHandleOf<A>;
}

/**
 * The actor named `name` anywhere in the cluster, as Ray's `get_actor`: one
 * this driver created, another driver's, or a detached one whose creator is
 * gone. Finding it lets this driver call and kill it. On the embedded node
 * it is `getActor`. Rejects with InvalidArgumentError when there is none.
 */
export async function findActor<A = UntypedActor>(name: string): Promise<ActorHandleOf<A>> {
  if (typeof name !== 'string') throw new InvalidArgumentError('findActor takes an actor name');
  const actors = requireNode().actors;
  const found = actors.find ? await actors.find(name) : actors.named(name);
  if (!found) throw new InvalidArgumentError(`no actor named '${name}'${actors.find ? ' in this cluster' : ''}`);
  return handleFor(found.id, found.spec.methods) as ActorHandleOf<A>;
}

export interface KillOptions {
  /** Do not restart the actor even if `maxRestarts` allows (default true). */
  noRestart?: boolean;
}

/** Ends an actor: queued calls fail with `ActorDiedError` and its resources are freed. */
export function kill(actor: ActorHandle, opts: KillOptions = {}): void {
  if (!(actor instanceof ActorHandle)) throw new InvalidArgumentError('kill() takes an ActorHandle');
  const node = requireNode();
  const noRestart = opts.noRestart ?? true;
  node.actors.kill(actor.id, noRestart);
  if (noRestart) lifetimesOf(node).ended(actor.id);
}
