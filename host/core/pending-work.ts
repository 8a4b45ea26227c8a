/**
 * Pending work, one mechanism for every kind of work: waiting for its
 * ObjectRef arguments and settling its returns. It serves the embedded node's tasks, actor creations and actor calls, and
 * the cluster driver's submitter. While an item waits (and until its owner
 * lets go) each of its ref arguments is held with one reference kind (Ray's
 * USED_BY_PENDING_TASK, or ACTOR_HANDLE for a constructor's arguments, which
 * live as long as the actor); the item is ready once every argument is, and
 * fails with the first argument that fails, without waiting for the rest.
 *
 * The owner gives its callbacks once, so starting an item allocates nothing
 * but one settle callback per argument still pending.
 */
import { InvalidArgumentError } from '../errors.js';
import { ObjectRef } from '../../store/object-ref.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { RefKind } from '../../store/references.js';
import { Fifo } from './fifo.js';

/** What an item carries for its wait. */
export interface Waiting {
  readonly args: readonly unknown[];
  /** Refs it carries as values that must also be ready before it goes (a cluster sends them as sealed objects). */
  readonly refArgs?: readonly ObjectRef[];
  /** Arguments not ready yet. */
  pendingDeps: number;
  /** Whether its ref arguments are held. */
  holds: boolean;
}

export interface ArgWaitHooks<T extends Waiting> {
  /** Whether `item` still waits (it may have been cancelled or failed meanwhile). */
  waiting(item: T): boolean;
  /** Every argument of `item` is ready. */
  ready(item: T): void;
  /** An argument of `item` failed (or was never known here): `error` says which. */
  failed(item: T, error: Error): void;
  /** How errors name the item, e.g. `task 'sum'`. */
  name(item: T): string;
}

/** Everything `item` waits for: its arguments, then the refs it carries as values. */
const refsOf = (item: Waiting): readonly unknown[] => (item.refArgs?.length ? [...item.args, ...item.refArgs] : item.args);

export class ArgWaits<T extends Waiting> {
  constructor(private readonly objects: ObjectStore, private readonly kind: RefKind.PendingTask | RefKind.ActorHandle, private readonly hooks: ArgWaitHooks<T>) {}

  /** Holds `item`'s ref arguments and waits for them; `ready` or `failed` may be called before this returns. */
  start(item: T): void {
    const { objects, hooks } = this;
    const args = refsOf(item);
    for (const a of args) {
      if (a instanceof ObjectRef && !objects.has(a)) {
        hooks.failed(item, new InvalidArgumentError(`${hooks.name(item)} got ${a}, which ${a.released ? 'was released' : 'this runtime does not know (was it created before a shutdown?)'}`));
        return;
      }
    }
    item.holds = true;
    for (const a of args) if (a instanceof ObjectRef) objects.hold(a, this.kind);
    // A failed argument fails the item; a failed ref it carries as a value is passed on as it is (its reader meets the error).
    const values = item.args.length;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (!(a instanceof ObjectRef)) continue;
      const fails = i < values;
      const settled = objects.peek(a);
      if (settled) {
        if (!settled.ok && fails) { hooks.failed(item, settled.error); return; }
        continue;
      }
      item.pendingDeps++;
      objects.onSettled(a, (s) => {
        if (!hooks.waiting(item)) return;
        if (!s.ok && fails) hooks.failed(item, s.error);
        else if (--item.pendingDeps === 0) hooks.ready(item);
      });
    }
    if (item.pendingDeps === 0) hooks.ready(item);
  }

  /** Lets go of `item`'s ref arguments (once; later calls do nothing). */
  release(item: T): void {
    if (!item.holds) return;
    item.holds = false;
    for (const a of refsOf(item)) if (a instanceof ObjectRef) this.objects.unhold(a, this.kind);
  }
}

/** A value for the returns of work: one ref takes the value; several take the parts of a tuple. */
export type Outcome = { value: unknown } | Error;

/** Settles `returns` with `outcome`: every ref fails with an error; one ref takes the value; several take its parts. */
export function settleReturns(objects: ObjectStore, returns: readonly ObjectRef[], outcome: Outcome): void {
  if (outcome instanceof Error) {
    for (const r of returns) objects.fail(r, outcome);
  } else if (returns.length === 1) {
    objects.resolve(returns[0]!, outcome.value);
  } else {
    const parts = outcome.value as unknown[];
    returns.forEach((r, i) => objects.resolve(r, parts[i]));
  }
}

/**
 * An ordered lane of work (an actor's creation and calls): items leave from
 * the front only, each once its arguments are ready, so a call waiting for
 * an argument holds back the calls made after it, as Ray orders an actor's
 * calls. Items that stopped waiting (cancelled, failed) are dropped when met.
 */
export class Lane<T extends Waiting> {
  private readonly items = new Fifo<T>();

  /** `waiting(t)`: whether `t` still wants to go; `send(t)`: it goes. */
  constructor(private readonly waiting: (t: T) => boolean, private readonly send: (t: T) => void) {}

  push(t: T): void {
    this.items.push(t);
  }

  /** Puts `t` back at the front (a call resent after a restart). */
  unshift(t: T): void {
    this.items.unshift(t);
  }

  /** The first item still waiting, dropping the ones in front of it that are not. */
  peek(): T | undefined {
    for (let t = this.items.peek(); t; t = this.items.peek()) {
      if (this.waiting(t)) return t;
      this.items.shift();
    }
    return undefined;
  }

  /** Takes every item, in order (to fail them all). */
  takeAll(): T[] {
    const out: T[] = [];
    for (let t = this.items.shift(); t; t = this.items.shift()) out.push(t);
    return out;
  }

  /** Sends items from the front while the front one's arguments are ready and `more()` allows another. */
  drain(more: () => boolean = always): void {
    for (let t = this.peek(); t && t.pendingDeps === 0 && more(); t = this.peek()) {
      this.items.shift();
      this.send(t);
    }
  }
}

const always = (): boolean => true;
