/**
 * A node's object store. Each object is pending (a task will produce it),
 * ready, or failed. A ready object's value lives inline in the table when
 * small, or as a sealed, immutable block in one of the node's shared arenas,
 * where the driver and workers read it in place. Objects are counted by the
 * five reference kinds of `references.ts` and freed when none remain.
 * Where blocks live (arenas, spill files) is `block-space.ts`'s business.
 *
 * Sealed objects are immutable for every reader: `value` hands out the
 * reader's own copy; `view` hands out zero-copy views of the shared block
 * (`views.ts`: pinned until released, fingerprinted so that a write through
 * one fails every later read instead of being read).
 *
 * Longer than 400 lines because it is the one owner of entries' states and
 * reference counts: every transition (create, seal, settle, read, free,
 * transfer) must see and keep all five counts consistent in one place.
 */
import type { SpillStats } from './spill.js';
import { ObjectRef, newId, setRefOwner, type RefOwner } from './object-ref.js';
import { snapshotValue } from './snapshot.js';
import { InvalidArgumentError, ObjectLostError } from '../host/errors.js';
import type { Arena } from './arena.js';
import { materialize, read, readCopy } from './codec.js';
import { RefKind } from './references.js';
import { captureSite } from './call-site.js';
import { STORED_ARG, type ArgPins } from './stored-arg.js';
import { BlockSpace } from './block-space.js';
import type { StoreOptions } from './store-options.js';
import { Entry, FAILED, OK, PENDING, PUT_SITE, READY, TASK_SITE, type RemoteLocation, type Settled } from './entry.js';
import { Views, noop, type SharedRead } from './views.js';
import { objectInfos, storeStats, type ObjectInfo, type StoreStats } from './stats.js';
import { incomingBlock, onlyRemote, type Incoming, type Rebuild } from './remote.js';
import { Sealer } from './seal.js';

export type { RemoteLocation, Settled, StoreOptions, SharedRead, ObjectInfo, StoreStats, Incoming, ArgPins, Rebuild };

export class ObjectStore implements RefOwner {
  private readonly entries = new Map<string, Entry>();
  /** Where sealed blocks are: arenas and spill files. */
  private readonly space: BlockSpace;
  private readonly localRefs = new FinalizationRegistry<string>((id) => this.dec(this.entries.get(id), RefKind.Local));
  /** Zero-copy views (`view`): their pins and the fingerprints of viewed blocks. */
  private readonly views = new Views({
    holds: (e) => this.entries.get(e.id) === e,
    pin: (e) => this.inc(e, RefKind.Pinned),
    unpin: (e) => this.dec(e, RefKind.Pinned),
  });
  /** Puts values inline or into blocks of `space`. */
  private readonly sealer: Sealer;
  private inlineBytes = 0;
  /** Told when an object whose primary copy is on another node is freed here (so the owner can free it). */
  onRemoteFree: ((loc: RemoteLocation) => void) | undefined = undefined;
  /** Told each object's id as it is freed (its owner's lineage lets go of the task that made it). */
  onFreed: ((id: string) => void) | undefined = undefined;

  constructor(readonly opts: StoreOptions) {
    this.space = new BlockSpace(opts);
    this.sealer = new Sealer(this.space, (id) => this.entries.get(id));
    setRefOwner(this);
  }

  // ---- references ----

  private newRef(e: Entry): ObjectRef {
    const r = new ObjectRef(e.id);
    this.inc(e, RefKind.Local);
    this.localRefs.register(r, e.id, r);
    return r;
  }

  private inc(e: Entry, kind: RefKind): void {
    e.counts[kind]!++;
    e.total++;
  }

  private dec(e: Entry | undefined, kind: RefKind): void {
    if (!e || e.counts[kind]! <= 0) return;
    e.counts[kind]!--;
    if (--e.total === 0 && e.state !== PENDING) this.free(e);
  }

  /** `ref.release()`: one local reference fewer. */
  release(ref: ObjectRef): void {
    this.localRefs.unregister(ref);
    this.dec(this.entries.get(ref.id), RefKind.Local);
  }

  /** A second local reference to `ref`'s object, for another holder to release on its own. */
  addRef(ref: ObjectRef): ObjectRef {
    const e = this.entries.get(ref.id);
    if (!e || ref.released) throw new Error(`internal: ${ref} has no object to share`);
    return this.newRef(e);
  }

  /** Counts a reference of `kind` (a pending task's argument, an actor's constructor argument). */
  hold(ref: ObjectRef, kind: RefKind.PendingTask | RefKind.ActorHandle): void {
    const e = this.entries.get(ref.id);
    if (e) this.inc(e, kind);
  }

  unhold(ref: ObjectRef, kind: RefKind.PendingTask | RefKind.ActorHandle): void {
    this.dec(this.entries.get(ref.id), kind);
  }

  private free(e: Entry): void {
    // Once only: a waiter run by `settle` may release the last ref and free it before `settle` checks.
    if (this.entries.get(e.id) !== e) return;
    this.entries.delete(e.id);
    this.space.forget(e);
    if (e.isInline) { this.inlineBytes -= e.size; e.inline = undefined; }
    e.privateBytes = undefined;
    if (e.captured) for (const id of e.captured) this.dec(this.entries.get(id), RefKind.Captured);
    if (e.remote) this.onRemoteFree?.(e.remote);
    this.onFreed?.(e.id);
  }

  // ---- creating objects ----

  /** A new pending object: a task's or actor call's return value (`id`: a new one its submitter drew). */
  create(id?: string): ObjectRef {
    if (id !== undefined && (this.entries.has(id) || !/^[0-9a-f]{32}$/.test(id))) throw new Error(`internal: object id ${id.slice(0, 64)} is taken or malformed`);
    const e = new Entry(id ?? newId(), this.opts.recordTaskCallSites ? captureSite('(task call)', true) : TASK_SITE);
    this.entries.set(e.id, e);
    return this.newRef(e);
  }

  /** Stores a copy of `value`; refs inside it keep their objects alive (CAPTURED_IN_OBJECT). */
  put(value: unknown): ObjectRef {
    const e = new Entry(newId(), PUT_SITE);
    this.seal(e, value, false);
    // A stack costs a few microseconds: worth it for objects in the arenas (the ones that fill a store).
    if (!e.isInline || this.opts.recordTaskCallSites) e.site = captureSite('(put object)', true);
    this.entries.set(e.id, e);
    return this.newRef(e);
  }

  /** A task's value arrived (owned: nothing else holds it, so no copy is needed when inline). */
  resolve(ref: ObjectRef, value: unknown): void {
    const e = this.entries.get(ref.id);
    if (!e || e.state !== PENDING) return;
    try {
      this.seal(e, value, true);
    } catch (err) {
      this.settle(e, FAILED, err as Error);
      return;
    }
    this.settle(e, READY);
  }

  fail(ref: ObjectRef, error: Error): void {
    const e = this.entries.get(ref.id);
    if (e && e.state === PENDING) this.settle(e, FAILED, error);
  }

  private settle(e: Entry, state: number, error?: Error): void {
    e.state = state;
    e.error = error;
    const w = e.waiters;
    e.waiters = undefined;
    const s: Settled = state === READY ? OK : { ok: false, error: error! };
    if (w) for (const f of w) f(s);
    if (e.total === 0) this.free(e);
  }

  /** `Sealer` places the value; the table keeps the inline total and counts the refs it captures. */
  private seal(e: Entry, value: unknown, owned: boolean): void {
    const captured = this.sealer.seal(e, value, owned);
    if (e.isInline) this.inlineBytes += e.size;
    for (const c of captured) this.inc(c, RefKind.Captured);
  }

  // ---- moving sealed blocks between nodes ----

  /** A task's value is a sealed object on another node: the ref is ready, its bytes come on demand (`fetch`). */
  resolveRemote(ref: ObjectRef, loc: RemoteLocation): void {
    const e = this.entries.get(ref.id);
    if (!e || e.state !== PENDING) return;
    e.remote = loc;
    e.size = loc.size;
    this.settle(e, READY);
  }

  /** Where to fetch `ref`'s bytes from, when they are on another node and not here yet. */
  remoteOf(ref: ObjectRef): RemoteLocation | undefined {
    const e = this.entries.get(ref.id);
    return e && onlyRemote(e) && e.state === READY ? e.remote : undefined;
  }

  /** Every object held here for another node (ids as that node knows them), by node: what a driver tells a head it resumes with. */
  remoteHeld(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const e of this.entries.values()) if (e.remote) (out[e.remote.nodeId] ??= []).push(e.remote.objectId);
    return out;
  }

  /**
   * Marks remote objects lost (their owner died, or a transfer failed): each
   * goes back to pending where its owner's `rebuild` makes it again (lineage
   * reconstruction), else reads fail with ObjectLostError.
   */
  lose(which: { ref: ObjectRef } | { nodeId: string }, why: string, rebuild: Rebuild): void {
    const list = 'ref' in which ? [this.entries.get(which.ref.id)] : [...this.entries.values()].filter((e) => e.remote?.nodeId === which.nodeId);
    const lost = list.filter((e): e is Entry => !!e && onlyRemote(e) && e.state === READY);
    // All pending first: a task made again must wait for a lost argument that is made again too, whatever the order here.
    for (const e of lost) { e.remote = undefined; e.state = PENDING; e.size = 0; }
    for (const e of lost) {
      const again = rebuild(e.id);
      if (again !== true) this.settle(e, FAILED, new ObjectLostError(e.id, `${why}; ${again}`));
    }
  }

  /** Bytes of `ref`'s sealed block, when it has one here. */
  blockSize(ref: ObjectRef): number | undefined {
    const e = this.entries.get(ref.id);
    return e && e.state === READY && !e.isInline && (e.arena || e.spill) ? e.size : undefined;
  }

  /**
   * The sealed block of a local arena object (restored if spilled), pinned
   * until `done()`; undefined for inline, unknown or unready objects.
   */
  sealedBytes(id: string): { bytes: Uint8Array; done(): void } | undefined {
    const e = this.entries.get(id);
    if (!e || e.state !== READY || e.isInline || (!e.arena && !e.spill)) return undefined;
    const b = this.block(e);
    if (!b.shared || this.views.live(e)) return { bytes: b.shared ? b.bytes.slice() : b.bytes, done: noop };
    this.inc(e, RefKind.Pinned);
    let done = false;
    return { bytes: b.bytes, done: () => { if (!done) { done = true; this.dec(e, RefKind.Pinned); } } };
  }

  /** Room for a `size`-byte sealed block from another node (spilling to make it, as a put would). */
  incoming(size: number): Incoming {
    return incomingBlock(this.space, size, (ref) => this.receiver(ref));
  }

  /** The entry a block from another node lands in: `ref`'s, while it has no bytes here, else a new local object. */
  private receiver(ref: ObjectRef | undefined): [Entry, ObjectRef] {
    const e = ref ? this.entries.get(ref.id) : undefined;
    if (ref && e && !e.arena && !e.privateBytes) return [e, ref];
    const fresh = new Entry(newId(), TASK_SITE);
    fresh.state = READY;
    this.entries.set(fresh.id, fresh);
    return [fresh, this.newRef(fresh)];
  }

  // ---- reading ----

  has(ref: ObjectRef): boolean {
    return !ref.released && this.entries.has(ref.id);
  }

  /** Whether `ref`'s value is a block in an arena or on disk (not inline). */
  isStored(ref: ObjectRef): boolean {
    const e = this.entries.get(ref.id);
    return !!e && e.state === READY && !e.isInline;
  }

  /** Whether the object's value holds refs to other objects (CAPTURED_IN_OBJECT). */
  capturesRefs = (ref: ObjectRef): boolean => (this.entries.get(ref.id)?.captured?.length ?? 0) > 0;

  /** The settled state, or undefined while pending. */
  peek(ref: ObjectRef): Settled | undefined {
    const e = this.entries.get(ref.id);
    if (!e || e.state === PENDING) return undefined;
    return e.state === READY ? OK : { ok: false, error: e.error! };
  }

  /** Runs `f` once the object settles (at once if it has). */
  onSettled(ref: ObjectRef, f: (s: Settled) => void): void {
    const e = this.entries.get(ref.id);
    if (!e) return;
    if (e.state !== PENDING) f(e.state === READY ? OK : { ok: false, error: e.error! });
    else (e.waiters ??= []).push(f);
  }

  /** A ready entry; `userRef` refuses a ref its holder released (tasks and actors hold the object by id). */
  private ready(ref: ObjectRef, userRef: boolean): Entry {
    if (userRef && ref.released) throw new InvalidArgumentError(`${ref} was released; it cannot be read`);
    const e = this.entries.get(ref.id);
    if (!e) throw new InvalidArgumentError(`${ref} is not known to this runtime`);
    if (e.state === FAILED) throw e.error!;
    if (e.state === PENDING) throw new Error(`internal: ${ref} read before it was ready`);
    return e;
  }

  private local(e: Entry): void {
    if (onlyRemote(e)) throw new Error(`internal: object ${e.id} is on node ${e.remote.nodeId}; fetch it before reading`);
  }

  /** A ref for the reader to a captured object. */
  private readonly makeRef = (id: string): ObjectRef => {
    const c = this.entries.get(id);
    return c ? this.newRef(c) : new ObjectRef(id);
  };

  /**
   * `e`'s sealed block, checked against its fingerprint when a zero-copy
   * view of it was ever handed out. `owned`: the bytes are a fresh private
   * copy nobody else holds (read back from a spill file).
   */
  private block(e: Entry): { bytes: Uint8Array; shared: boolean; owned: boolean } {
    const b = this.space.bytesOf(e);
    this.views.check(e, b.bytes);
    return { bytes: b.bytes, shared: b.shared, owned: !b.shared && b.bytes !== e.privateBytes };
  }

  /** `e`'s value in memory of the reader's own: copied out, unless the block already is such a copy. */
  private ownValue(e: Entry, makeRef: (id: string) => unknown): unknown {
    const b = this.block(e);
    return b.owned ? read(b.bytes, makeRef) : readCopy(b.bytes, makeRef);
  }

  /**
   * The value for the driver, as its own copy: an arena object is copied
   * out in one block copy, an inline one re-made, so nothing the caller
   * writes reaches the store and nothing stays pinned. Primitives are free.
   * `userRef` false: read for work that holds the object by id (its
   * submitter may have released its own ref since).
   */
  value(ref: ObjectRef, userRef = true): unknown {
    const e = this.ready(ref, userRef);
    this.local(e);
    if (e.isInline) return e.captured ? materialize(e.inline, this.makeRef) : snapshotValue(e.inline);
    try {
      return this.ownValue(e, this.makeRef);
    } catch (err) {
      throw this.space.lost(e, err);
    }
  }

  /**
   * The value for the driver read in place: typed arrays of an arena object
   * view the shared memory (no copy) and pin it (PINNED_IN_MEMORY) until
   * `release()`, or, as a backstop, until they are all garbage-collected.
   * The first view fingerprints the block; every later read checks it.
   * Values with nothing to view (inline, private, no typed arrays) come as
   * copies, with nothing to release.
   */
  view(ref: ObjectRef): SharedRead {
    const e = this.ready(ref, true);
    this.local(e);
    if (e.isInline) return { value: this.value(ref), release: noop };
    try {
      const b = this.block(e);
      if (!b.shared) return { value: this.ownValue(e, this.makeRef), release: noop };
      return this.views.open(e, b.bytes, this.makeRef);
    } catch (err) {
      throw this.space.lost(e, err);
    }
  }

  /**
   * A task argument for a worker: inline values as they are, arena objects
   * as a `STORED_ARG` marker the worker reads in place (its guest gets a
   * copy in its own linear memory, so it cannot write into the store). The
   * object stays pinned for worker `tid` until `unpin`; `pinned` collects it.
   * An object with a live zero-copy view goes as a snapshot instead.
   */
  argFor(ref: ObjectRef, tid: number, pinned: ObjectRef[]): unknown {
    const e = this.ready(ref, false);
    this.local(e);
    if (e.isInline) return e.captured ? materialize(e.inline, (id) => ({ id })) : e.inline;
    try {
      // While a zero-copy view is live, a snapshot: a write through the view cannot reach the task.
      if (this.views.live(e)) return this.ownValue(e, (id) => ({ id }));
      const b = this.block(e);
      // Private bytes go by structured clone, which copies them.
      if (!b.shared) return read(b.bytes, (id) => ({ id }));
      this.inc(e, RefKind.Pinned);
      e.workerPins ??= new Map();
      e.workerPins.set(tid, (e.workerPins.get(tid) ?? 0) + 1);
      pinned.push(ref);
      return { [STORED_ARG]: [e.arena!.index, e.off, e.size] };
    } catch (err) {
      throw this.space.lost(e, err);
    }
  }

  /**
   * `args` with every ref replaced by `argFor`'s value (plain values pass
   * through), for worker `tid`: the pins go into `pins`, after ending any it
   * still held for an earlier worker (work sent again).
   */
  argsFor(args: readonly unknown[], tid: number, pins: ArgPins): unknown[] {
    this.unpin(pins);
    pins.pinTid = tid;
    return args.map((a) => (a instanceof ObjectRef ? this.argFor(a, tid, pins.pinned) : a));
  }

  /** Ends the pins `argsFor` put into `pins` (nothing when it holds none). */
  unpin(pins: ArgPins): void {
    if (pins.pinned.length === 0) return;
    const tid = pins.pinTid;
    for (const r of pins.pinned) {
      const e = this.entries.get(r.id);
      if (!e?.workerPins) continue;
      const n = (e.workerPins.get(tid) ?? 0) - 1;
      if (n > 0) e.workerPins.set(tid, n); else e.workerPins.delete(tid);
      this.dec(e, RefKind.Pinned);
    }
    pins.pinned.length = 0;
  }

  // ---- reporting and life ----

  /** Every object with its references, for `tsray memory`. */
  objects(): ObjectInfo[] {
    return objectInfos(this.entries.values());
  }

  stats(): StoreStats {
    return storeStats(this.entries, this.space, this.opts.capacity, this.inlineBytes);
  }

  /** The spill pager's counters alone (cheap: no walk over the objects). */
  get spillStats(): Readonly<SpillStats> {
    return this.space.spillStats;
  }

  /** Fails every pending object (at shutdown). */
  failPending(error: Error): void {
    for (const e of [...this.entries.values()]) if (e.state === PENDING) this.settle(e, FAILED, error);
  }

  /** Deletes this node's spill files; the arenas go with the last view of them. */
  close(): void {
    this.entries.clear();
    this.space.close();
    setRefOwner(undefined);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The node's shared arenas (workers map them). */
  get arenas(): Arena[] {
    return this.space.arenas;
  }

  get spillDir(): string {
    return this.space.spillDir;
  }
}

