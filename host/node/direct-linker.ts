/**
 * Opens and closes direct links between a node's workers (see
 * worker/direct-links.ts): one per caller worker and actor, opened after a
 * first call from that worker to that actor went through the node, when the
 * actor may take calls that way. Closed when either worker goes: callers of
 * an actor that died or restarted on a new thread get `why` for any call in
 * flight, as a call through the node would.
 *
 * Bounds: `MAX_LINKS_IN` callers per actor and `MAX_LINKS_OUT` actors per
 * caller; calls beyond them go through the node, as before.
 */
import { MessageChannel } from 'node:worker_threads';
import type { FuncDef } from '../wit/types.js';
import type { WorkerHandle } from '../worker/worker-handle.js';
import { MAX_LINKS_IN, MAX_LINKS_OUT } from '../worker/direct-links.js';

/** The actor a link leads to. */
export interface LinkedActor {
  id: string;
  /** Its number on its worker. */
  aid: number;
  className: string;
  methods: FuncDef[];
}

interface Out { actorWorker: WorkerHandle; slot: number }

export class DirectLinker {
  /** Caller worker -> actor id -> where its link goes. */
  private readonly out = new Map<WorkerHandle, Map<string, Out>>();
  /** Actor worker -> its actor's id and the caller in each mail slot. */
  private readonly in = new Map<WorkerHandle, { actorId: string; callers: (WorkerHandle | undefined)[] }>();

  /** Links `caller` to `actor` on `actorWorker`, unless linked already, the same thread, gone, or over the bounds. */
  link(caller: WorkerHandle, actorWorker: WorkerHandle, actor: LinkedActor): void {
    if (caller === actorWorker || !caller.isAlive || !actorWorker.isAlive) return;
    let outs = this.out.get(caller);
    if (outs?.has(actor.id) || (outs?.size ?? 0) >= MAX_LINKS_OUT) return;
    let into = this.in.get(actorWorker);
    if (!into) {
      this.in.set(actorWorker, (into = { actorId: actor.id, callers: [] }));
      actorWorker.whenGone(() => this.actorGone(actorWorker, 'its worker ended'));
    }
    let slot = 0;
    while (slot < MAX_LINKS_IN && into.callers[slot] !== undefined) slot++;
    if (slot === MAX_LINKS_IN) return;
    if (!outs) {
      this.out.set(caller, (outs = new Map()));
      caller.whenGone(() => this.callerGone(caller));
    }
    into.callers[slot] = caller;
    outs.set(actor.id, { actorWorker, slot });
    const { port1, port2 } = new MessageChannel();
    // The actor's end first, so it holds the link before the first call over it arrives.
    actorWorker.send({ t: 'link', side: 'actor', aid: actor.aid, port: port2, ctl: caller.shared.ctl, slot, className: actor.className, methods: actor.methods }, [port2]);
    actorWorker.flush();
    caller.send({ t: 'link', side: 'caller', actor: actor.id, port: port1, ctl: actorWorker.shared.ctl, mail: actorWorker.shared.mail, slot }, [port1]);
  }

  /** The actor on `actorWorker` is gone from it (dead, or restarting on a new thread): its callers' calls in flight fail with `why`. */
  actorGone(actorWorker: WorkerHandle, why: string): void {
    const into = this.in.get(actorWorker);
    if (!into) return;
    this.in.delete(actorWorker);
    for (const caller of into.callers) {
      if (!caller) continue;
      this.out.get(caller)?.delete(into.actorId);
      caller.send({ t: 'unlink', side: 'caller', actor: into.actorId, why });
      caller.flush();
    }
  }

  private callerGone(caller: WorkerHandle): void {
    const outs = this.out.get(caller);
    if (!outs) return;
    this.out.delete(caller);
    for (const { actorWorker, slot } of outs.values()) {
      const into = this.in.get(actorWorker);
      if (!into || into.callers[slot] !== caller) continue;
      into.callers[slot] = undefined;
      actorWorker.send({ t: 'unlink', side: 'actor', slot });
      actorWorker.flush();
    }
  }

  /** Links open now (for tests and `tsray memory`'s worker rows). */
  get size(): number {
    let n = 0;
    for (const outs of this.out.values()) n += outs.size;
    return n;
  }
}
