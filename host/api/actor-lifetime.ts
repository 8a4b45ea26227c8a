/**
 * Actor lifetimes, as in Ray: an actor lives while a handle to it does. Each
 * runtime counts, per actor, the driver's live `ActorHandle`s and the tasks,
 * calls and actors it was passed to (a task or call while it runs, an actor
 * for its whole life). When the count reaches zero the actor is retired: it
 * ends once the calls already made on it finish (its backend counts those, so
 * a call costs no bookkeeping here), and its resources return. Named and
 * detached actors are not counted: they live until killed. A handle the
 * program forgets without `release()` is counted down when the garbage
 * collector takes it.
 */
import type { ObjectRef } from '../../store/object-ref.js';
import { currentNode } from './current.js';
import type { Backend } from '../core/backend.js';

export class ActorLifetimes {
  /** References per counted actor. */
  private readonly counts = new Map<string, number>();
  /** Handles each actor was constructed with: they are held while it lives. */
  private readonly held = new Map<string, string[]>();
  /** Handles the program dropped without `release()`. */
  private readonly registry = new FinalizationRegistry<string>((id) => this.drop(id));

  constructor(private readonly node: Backend) {}

  /** Counts a new actor (one that ends with its last handle); its first handle comes with `adopt`. */
  track(actorId: string): void {
    this.counts.set(actorId, 0);
  }

  /** A new driver handle to `actorId`; `release` (or the garbage collector) gives it up. */
  adopt(handle: object, actorId: string): void {
    if (!this.counts.has(actorId)) return;
    this.hold(actorId);
    this.registry.register(handle, actorId, handle);
  }

  /** The program released `handle` to `actorId`. */
  release(handle: object, actorId: string): void {
    if (this.registry.unregister(handle)) this.drop(actorId);
  }

  /** Holds each actor of `actorIds` until `ref` (the result of the work they were passed to) settles. */
  holdUntil(actorIds: readonly string[], ref: ObjectRef): void {
    const ids = actorIds.filter((id) => this.counts.has(id));
    if (ids.length === 0) return;
    for (const id of ids) this.hold(id);
    this.node.objects.onSettled(ref, () => { for (const id of ids) this.drop(id); });
  }

  /** Holds `actorIds` (handles in its constructor's arguments) while actor `holder` lives. */
  holdFor(holder: string, actorIds: readonly string[]): void {
    const ids = actorIds.filter((id) => this.counts.has(id));
    if (ids.length === 0) return;
    for (const id of ids) this.hold(id);
    this.held.set(holder, ids);
  }

  /** The actor ended for good (killed): it is no longer counted, and what it held is let go. */
  ended(actorId: string): void {
    this.counts.delete(actorId);
    const ids = this.held.get(actorId);
    if (!ids) return;
    this.held.delete(actorId);
    for (const id of ids) this.drop(id);
  }

  private hold(actorId: string): void {
    this.counts.set(actorId, this.counts.get(actorId)! + 1);
  }

  private drop(actorId: string): void {
    const n = this.counts.get(actorId);
    if (n === undefined) return;
    if (n > 1) { this.counts.set(actorId, n - 1); return; }
    this.ended(actorId);
    // A runtime that was shut down has nothing left to end.
    if (currentNode() === this.node) this.node.actors.retire(actorId, 'its last handle was released (or collected), so it was destroyed, as Ray destroys an actor that goes out of scope');
  }
}

const byRuntime = new WeakMap<Backend, ActorLifetimes>();

/** The lifetimes of actors created through `node`. */
export function lifetimesOf(node: Backend): ActorLifetimes {
  let l = byRuntime.get(node);
  if (!l) byRuntime.set(node, (l = new ActorLifetimes(node)));
  return l;
}
