/**
 * How one actor's calls leave a driver: through the head, or straight to
 * the node that hosts the actor, on an actor route (lease-protocol.ts).
 *
 * An actor runs its calls in the order they were made, and the two ways do
 * not keep order between them; so a call goes one way only once every call
 * sent the other way was answered (`next` says `wait` until then, and the
 * lane behind it waits too). A switch costs one round trip, once per route.
 *
 * The driver asks for a route once a call through the head was answered
 * (the actor is alive on its node), again after a route ended (its node's
 * connection closed: the actor may restart elsewhere), and not sooner than
 * ASK_AGAIN_MS after the head refused one.
 */

/** How long a driver waits to ask for a route again after the head refused one. */
export const ASK_AGAIN_MS = 1000;

/** The way one actor call went. */
export type Way = 'head' | 'direct';

export class ActorPath {
  /** Calls sent each way and not answered yet. */
  private readonly inflight = { head: 0, direct: 0 };
  /** A call waits for the other way to drain; the lane behind it waits too. */
  blocked = false;
  private asking = false;
  private notBefore = 0;

  /** `maxTaskRetries`: how often a call lost with its node goes again (through the head). */
  constructor(readonly actorId: string, readonly maxTaskRetries: number) {}

  /** The way the next call goes (`direct`: a route is held and the call may use one), or `wait`. */
  next(direct: boolean): Way | 'wait' {
    const way: Way = direct ? 'direct' : 'head';
    return this.inflight[way === 'direct' ? 'head' : 'direct'] > 0 ? 'wait' : way;
  }

  sent(way: Way): void {
    this.inflight[way]++;
  }

  /** A call sent `way` was answered (or failed); true when a blocked lane may go on now. */
  answered(way: Way): boolean {
    this.inflight[way]--;
    if (!this.blocked || this.inflight[way] > 0) return false;
    this.blocked = false;
    return true;
  }

  /** A direct call lost with its route goes again through the head; true when a blocked lane may go on now. */
  rerouted(): boolean {
    this.inflight.head++;
    return this.answered('direct');
  }

  /** Whether to ask for a route now (none is held: `routed` false). */
  mayAsk(routed: boolean, now: number): boolean {
    return !routed && !this.asking && now >= this.notBefore;
  }

  asked(): void {
    this.asking = true;
  }

  /** The head's answer: a route (`true`), or a refusal. */
  settled(granted: boolean, now: number): void {
    this.asking = false;
    if (!granted) this.notBefore = now + ASK_AGAIN_MS;
  }
}
