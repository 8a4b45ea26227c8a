/**
 * Calls a node's guests make to actors hosted on other nodes: each goes
 * through the head and is answered by a `result` frame; a large answer is
 * pulled from where it was left. A head that restarts and takes the node
 * back gets every call not answered yet again (`resend`).
 */
import { newId } from '../../store/object-ref.js';
import type { ObjectStore } from '../../store/object-store.js';
import { fromWire } from '../core/error-codec.js';
import type { ObjectPuller } from './object-transfer.js';
import type { ActorCallFrame, Frame, ResultFrame } from './protocol.js';

interface Pending { resolve: (v: unknown) => void; reject: (e: Error) => void; frame: ActorCallFrame }

export class CallsElsewhere {
  private readonly calls = new Map<string, Pending>();

  constructor(private readonly head: { send(f: Frame): void }, private readonly puller: ObjectPuller, private readonly objects: ObjectStore) {}

  /** Calls `method` of actor `actorId` with `args`; resolves with its one return value. */
  call(actorId: string, method: string, args: unknown[]): Promise<unknown> {
    const callId = newId();
    return new Promise((resolve, reject) => {
      const frame: ActorCallFrame = { t: 'actor-call', actorId, callId, method, args, numReturns: 1 };
      this.calls.set(callId, { resolve, reject, frame });
      this.head.send(frame);
    });
  }

  /** A result from the head (one that answers none of these calls is left alone). */
  async answered(f: ResultFrame): Promise<void> {
    const w = this.calls.get(f.taskId);
    if (!w || !this.calls.delete(f.taskId)) return;
    if (!f.ok || !f.returns?.[0]) { w.reject(f.error ? fromWire(f.error) : new Error('no result')); return; }
    const r = f.returns[0];
    if (!('object' in r)) { w.resolve(r.value); return; }
    try {
      const ref = await this.puller.pull(r.object);
      try { w.resolve(this.objects.value(ref)); } finally { ref.release(); }
    } catch (e) {
      w.reject(e as Error);
    }
  }

  /** The head restarted and took this node back: every call not answered goes again. */
  resend(): void {
    for (const w of this.calls.values()) this.head.send(w.frame);
  }
}
