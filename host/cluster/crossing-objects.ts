/**
 * The objects that cross a cluster node's boundary for the work it runs:
 * arguments held elsewhere, pulled into its store (remote arguments, and
 * refs passed at `object-ref` positions, see wire-refs.ts), and results
 * kept here for submitters on other nodes until they let go: once per time
 * each was handed out, as the head counts them.
 */
import type { ObjectRef } from '../../store/object-ref.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { FuncDef } from '../wit/types.js';
import type { StreamSink } from '../core/specs.js';
import { mapRefs } from '../core/ref-values.js';
import type { ObjectPuller, ObjectServer } from './object-transfer.js';
import type { ReturnValue, WireRef } from './protocol.js';
import { remoteLocation } from './remote-arg.js';
import { landRefs, markRefs, wireRef, type RefSource } from './wire-refs.js';

export class CrossingObjects {
  /** Objects kept for submitters elsewhere, by id: one ref per hand-out. */
  private readonly held = new Map<string, ObjectRef[]>();
  private readonly src: RefSource;

  constructor(private readonly objects: ObjectStore, private readonly nodeId: string, private readonly server: ObjectServer, private readonly puller: ObjectPuller) {
    this.src = { objects, location: (id, size) => server.location(nodeId, id, size) };
  }

  /** Arguments as the local runtime takes them: those held by other nodes are pulled into this store first (and added to `pulled`). */
  async localArgs(args: unknown[], pulled: ObjectRef[]): Promise<unknown[]> {
    return Promise.all(args.map(async (a) => {
      const loc = remoteLocation(a);
      if (!loc) return a;
      // An object this node holds is passed as it is, not pulled from itself.
      const here = loc.nodeId === this.nodeId && this.server.handedOut(loc) ? this.held.get(loc.objectId)?.[0] : undefined;
      if (here) return here;
      const r = await this.puller.pull(loc);
      pulled.push(r);
      return r;
    }));
  }

  /**
   * Refs passed at `object-ref` positions of function `f`: each becomes an
   * object here (pulled, or put when small; added to `pulled`), and the
   * `{ objectId }` placeholders of `args` name those instead of the
   * sender's. A placeholder for an id that was not sent is left as it is:
   * the guest cannot read it (ERR_NOT_GIVEN).
   */
  async borrowedArgs(f: FuncDef, args: unknown[], wire: unknown, pulled: ObjectRef[]): Promise<{ args: unknown[]; borrowed: ObjectRef[] }> {
    const landed = await Promise.allSettled(landRefs(this.objects, wire, (loc) => this.puller.pull(loc)));
    const borrowed: ObjectRef[] = [];
    const byId = new Map<string, ObjectRef>();
    landed.forEach((s, i) => {
      if (s.status !== 'fulfilled') return;
      pulled.push(s.value);
      borrowed.push(s.value);
      const id = (wire as WireRef[])[i]!.id;
      if (id !== undefined) byId.set(id, s.value);
    });
    const lost = landed.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (lost) throw lost.reason;
    const out = args.map((a, i) => {
      const p = f.params[i];
      return p ? mapRefs(p.type, a, (r) => {
        const id = (r as { objectId?: unknown } | null)?.objectId;
        const here = typeof id === 'string' ? byId.get(id) : undefined;
        return here ? { objectId: here.id } : r;
      }) : a;
    });
    return { args: out, borrowed };
  }

  /**
   * How result `x` travels: a sealed block stays here (the submitter
   * fetches it, or another node pulls it, when needed; `keep` gets it); a
   * value holding refs goes as a value with its refs marked, once they are
   * ready, the blocks among them kept here for the submitter.
   */
  async returnValue(x: ObjectRef, keep: ObjectRef[]): Promise<ReturnValue> {
    const { objects } = this;
    if (!objects.capturesRefs(x)) {
      const size = objects.blockSize(x);
      if (size === undefined) return { value: objects.value(x) };
      keep.push(x);
      this.hold(x);
      return { object: this.server.location(this.nodeId, x.id, size) };
    }
    const { value, refs: found, extra } = markRefs(objects.value(x));
    for (const c of extra) c.release();
    let refs: WireRef[];
    try {
      await Promise.all(found.map((c) => new Promise((ready) => objects.onSettled(c, ready))));
      refs = found.map((c) => wireRef(this.src, c));
    } catch (e) {
      for (const c of found) c.release();
      throw e;
    }
    found.forEach((c, i) => { if ('at' in refs[i]!) this.hold(c); else c.release(); });
    return { value, refs };
  }

  /**
   * A streaming task's sink: each value it emits goes out by `send`, in
   * order, as a result would (blocks kept here). `flushed()` resolves once
   * every value so far went, or rejects with why one could not.
   */
  emitter(send: (index: number, value: ReturnValue) => void): StreamSink & { flushed(): Promise<void> } {
    let chain = Promise.resolve();
    return {
      push: (index, ref) => {
        chain = chain.then(async () => {
          const keep: ObjectRef[] = [];
          try {
            send(index, await this.returnValue(ref, keep));
          } finally {
            if (!keep.includes(ref)) ref.release();
          }
        });
      },
      flushed: () => chain,
    };
  }

  /** Keeps `r` here for a submitter elsewhere, once more. */
  private hold(r: ObjectRef): void {
    const list = this.held.get(r.id);
    if (list) list.push(r); else this.held.set(r.id, [r]);
  }

  /** A submitter let go of one hand-out of object `id`. */
  letGo(id: string): void {
    const list = this.held.get(id);
    list?.pop()?.release();
    if (list?.length === 0) this.held.delete(id);
  }
}
