/**
 * Named actors: a name is unique in its runtime (a driver's own on a
 * cluster), `getActor(name)` finds the actor, and the name is free again once
 * that actor is dead for good.
 */
import { InvalidArgumentError } from '../errors.js';

export class ActorNames {
  private readonly ids = new Map<string, string>();

  /** Checks that `name` is free (before anything is created). */
  check(name: string | undefined): void {
    if (name !== undefined && this.ids.has(name)) {
      throw new InvalidArgumentError(`an actor named '${name}' already exists; names must be unique (getActor finds it)`);
    }
  }

  /** `name` now means actor `actorId`. */
  claim(name: string | undefined, actorId: string): void {
    if (name === undefined) return;
    this.check(name);
    this.ids.set(name, actorId);
  }

  /** The actor `name` means, if any. */
  find(name: string): string | undefined {
    return this.ids.get(name);
  }

  /** Actor `actorId` is gone for good: its name is free. */
  release(name: string | undefined, actorId: string): void {
    if (name !== undefined && this.ids.get(name) === actorId) this.ids.delete(name);
  }
}
