/**
 * The worker's side of the Ray API inside guests (tsray:runtime/actors,
 * objects, tasks). Every call is a `GuestRequest` to the node's main thread,
 * which holds the task's references and does the work (node/guest-runtime.ts);
 * the guest's thread blocks until the reply. While it blocks it runs the
 * items the node sends it to run inline: the tasks it waits for, so a chain
 * of nested gets needs no more threads than CPUs (see node/inline-runs.ts).
 */
import { decode, encode, Tag } from 'cbor-x';
import type { WorkerClaims } from './claims.js';
import type { GuestRef, GuestRuntime, Res } from '../engine/host-imports.js';
import { collectHandles, handlesIn, notGiven } from '../core/given-handles.js';
import type { GuestOp, GuestRequest, ReplyMsg } from './protocol.js';
import type { DirectLinks } from './direct-links.js';
import { childId } from '../../store/object-ref.js';

/** What the client needs of its worker loop (injected, so the loop owns its queues). */
export interface ClientSite {
  /** Posts a request to the node at once. */
  post(req: GuestRequest): void;
  /** Reads what the node sent since (replies land in `replies`, inline items in the worker's inline queue). */
  drain(): void;
  /** Runs one item sent to run inline, if any is there; true if it ran one. */
  runInline(): boolean;
  /** The CBOR value of object `id` if an inline run here just made it (see `RunMsg.answers`); taken once. */
  madeHere(id: string): Uint8Array | undefined;
  /** Claims for submits this thread may run itself (see claims.ts); absent: none. */
  claims?: WorkerClaims;
  /** Whether the asking item may have nested tasks run here (a task, not too deep). */
  mayRunHere(): boolean;
  /** Runs a claimable submit here if it checks out and the claim is won; undefined otherwise (the usual way then). */
  runHere(s: LocalSubmit): Res<Uint8Array> | undefined;
  /** Throws when the asking task was cancelled. */
  checkpoint(): void;
  /** The number of the item asking (see `GuestRequest.n`). */
  asker(): number;
  /** The id of the task or actor asking: what it submits gets ids of its lineage (`childId`). */
  lineage(): string;
  /** The actor handles the asking item was given. */
  givenActors(): Set<string>;
  /** The doorbell's current count, and a wait for it to change (bounded, so cancels are seen); `spin`: an answer is due within microseconds. */
  doorbell(): number;
  sleep(seen: number, spin: boolean): void;
  /** Direct links to actors' workers (see direct-links.ts); absent: every call goes through the node. */
  links?: Pick<DirectLinks, 'send' | 'forget'>;
}

/** The most result ids drawn for one submit; a larger `numReturns` is refused by the node anyway (no WIT tuple is that long). */
const MAX_RETURNS = 1024;

/** The `numReturns` the options ask for, as far as this thread can tell (the node checks it properly). */
function returnsAsked(options: Uint8Array): number {
  if (options.length === 0) return 1;
  try {
    const n = (decode(options) as { numReturns?: unknown } | null)?.numReturns;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n <= MAX_RETURNS ? n : 1;
  } catch {
    return 1;
  }
}

/** A submit this thread may run itself when its guest gets the result (see claims.ts). */
export interface LocalSubmit { claim: number; fn: string; args: unknown[]; taskId: string }

/** The most claimable submits remembered at once (the rest go the usual way). */
const MAX_LOCAL = 4096;

/** Whether `v` holds a CBOR tag cbor-x left as a Tag (an object ref, or a tag it does not know). */
function hasTag(v: unknown, depth = 0): boolean {
  if (v instanceof Tag || depth > 64) return true;
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return false;
  return (Array.isArray(v) ? v : Object.values(v)).some((x) => hasTag(x, depth + 1));
}

type Answer = { ok: true; value: unknown } | { ok: false; code: string; error: string };

export class RuntimeClient implements GuestRuntime {
  private readonly replies = new Map<number, ReplyMsg>();
  /** Requests answered here, whose replies from the node are dropped when they come. */
  private readonly dropped = new Set<number>();
  /** Claimable submits by their result id, until their guest gets them or the item ends. */
  private readonly local = new Map<string, LocalSubmit>();
  private nextCid = 1;

  constructor(private readonly site: ClientSite) {}

  /** The top-level item ended: claimable submits its guests never got run the usual way. */
  endItem(): void {
    this.local.clear();
  }

  /** A reply read from the port. */
  take(r: ReplyMsg): void {
    if (this.dropped.delete(r.cid)) return;
    this.replies.set(r.cid, r);
  }

  /** Sends `req` to the node and blocks until it is answered. */
  private ask(req: GuestOp): Answer {
    const cid = this.nextCid++;
    this.site.post({ ev: 'rt', cid, n: this.site.asker(), req });
    return this.await(cid, req.op === 'get' ? req.id : undefined, false);
  }

  /**
   * Blocks until call `cid` is answered, running inline work meanwhile.
   * `gets`: the object a get waits for (an inline run may make it here).
   */
  private await(cid: number, gets: string | undefined, direct: boolean): Answer {
    try {
      return this.awaitReply(cid, gets, direct);
    } catch (e) {
      // Cancelled while waiting: the answer, when it comes, is dropped.
      this.dropped.add(cid);
      if (direct) this.site.links?.forget(cid);
      throw e;
    }
  }

  private awaitReply(cid: number, gets: string | undefined, direct: boolean): Answer {
    for (;;) {
      const seen = this.site.doorbell();
      this.site.drain();
      const r = this.replies.get(cid);
      if (r) {
        this.replies.delete(cid);
        return r.ok ? { ok: true, value: r.value } : { ok: false, code: r.code ?? 'ERR_INTERNAL', error: r.error ?? 'failed' };
      }
      if (this.site.runInline()) {
        // The task this get waits for ran right here: its value needs no trip through the node.
        const here = gets === undefined ? undefined : this.site.madeHere(gets);
        if (here) { this.dropped.add(cid); return { ok: true, value: here }; }
        continue;
      }
      this.site.checkpoint();
      this.site.sleep(seen, direct);
    }
  }

  private result<T>(req: GuestOp, val: (v: unknown) => T): Res<T> {
    const a = this.ask(req);
    return a.ok ? { tag: 'ok', val: val(a.value) } : { tag: 'err', val: { code: a.code, message: a.error } };
  }

  callActor(actor: string, method: string, args: Uint8Array): { tag: 'ok'; val: Uint8Array } | { tag: 'err'; val: string } {
    let decoded: unknown;
    try {
      decoded = decode(args);
    } catch (e) {
      return { tag: 'err', val: `arguments are not valid CBOR: ${(e as Error).message}` };
    }
    if (!Array.isArray(decoded)) return { tag: 'err', val: 'arguments must be a CBOR array' };
    const given = this.site.givenActors();
    if (!given.has(actor)) return { tag: 'err', val: notGiven(actor) };
    // Handles passed on must be ones it holds, as for a child task.
    for (const id of handlesIn(decoded)) if (!given.has(id)) return { tag: 'err', val: notGiven(id) };
    const a = this.callDirect(actor, method, decoded) ?? this.ask({ op: 'call', actor, method, args: decoded });
    if (!a.ok) return { tag: 'err', val: a.error };
    collectHandles(a.value, given);
    return { tag: 'ok', val: new Uint8Array(encode(a.value)) };
  }

  /** A call over a direct link to the actor's worker; undefined when there is none, or refs in the arguments need the node. */
  private callDirect(actor: string, method: string, args: unknown[]): Answer | undefined {
    const links = this.site.links;
    if (!links || hasTag(args)) return undefined;
    const cid = this.nextCid++;
    return links.send(actor, { cid, method, args }) ? this.await(cid, undefined, true) : undefined;
  }

  /**
   * Arguments a guest passes on (to a child task or an actor's constructor),
   * decoded (undefined when not CBOR: the node says so), and the first actor
   * handle in them it was not given. Checked here, where its given set lives.
   */
  private passedOn(args: Uint8Array): { decoded: unknown; notGiven?: string } {
    let decoded: unknown;
    try { decoded = decode(args); } catch { /* not CBOR */ }
    const given = this.site.givenActors();
    for (const id of handlesIn([decoded])) if (!given.has(id)) return { decoded, notGiven: notGiven(id) };
    return { decoded };
  }

  createActor(resource: string, args: Uint8Array, options: Uint8Array): { tag: 'ok'; val: { id: string } } | { tag: 'err'; val: string } {
    const refused = this.passedOn(args).notGiven;
    if (refused) return { tag: 'err', val: refused };
    const given = this.site.givenActors();
    const a = this.ask({ op: 'create', resource, args: args.slice(), options: options.slice() });
    if (!a.ok) return { tag: 'err', val: `${a.code}: ${a.error}` };
    // The guest may call (and pass on) the actor it made.
    given.add(a.value as string);
    return { tag: 'ok', val: { id: a.value as string } };
  }

  killActor(actor: string, noRestart: boolean): { tag: 'ok'; val: undefined } | { tag: 'err'; val: string } {
    if (!this.site.givenActors().has(actor)) return { tag: 'err', val: notGiven(actor) };
    const a = this.ask({ op: 'kill', actor, noRestart });
    return a.ok ? { tag: 'ok', val: undefined } : { tag: 'err', val: `${a.code}: ${a.error}` };
  }

  put(value: Uint8Array): Res<GuestRef> {
    return this.result({ op: 'put', value: value.slice() }, (id) => ({ objectId: id as string }));
  }

  get(ref: GuestRef, timeoutMs: number | undefined): Res<Uint8Array> {
    // A get that may give up (a timeout) must not run what it waits for.
    const mine = timeoutMs === undefined ? this.local.get(ref.objectId) : undefined;
    if (mine) {
      this.local.delete(ref.objectId);
      const here = this.site.runHere(mine);
      if (here) return here;
    }
    return this.result({ op: 'get', id: ref.objectId, ...(timeoutMs === undefined ? {} : { timeoutMs }) }, (v) => v as Uint8Array);
  }

  wait(refs: GuestRef[], num: number, timeoutMs: number | undefined): Res<Uint32Array> {
    return this.result({ op: 'wait', ids: refs.map((r) => r.objectId), num, ...(timeoutMs === undefined ? {} : { timeoutMs }) }, (v) => Uint32Array.from(v as number[]));
  }

  cancel(ref: GuestRef, force: boolean, recursive: boolean): Res<undefined> {
    return this.result({ op: 'cancel', id: ref.objectId, force, recursive }, () => undefined);
  }

  release(ref: GuestRef): void {
    this.site.post({ ev: 'rt', cid: 0, n: this.site.asker(), req: { op: 'release', id: ref.objectId } });
  }

  emit(value: Uint8Array): Res<undefined> {
    return this.result({ op: 'emit', value: value.slice() }, () => undefined);
  }

  submit(fn: string, args: Uint8Array, options: Uint8Array): Res<GuestRef[]> {
    // A child gets only actor handles its parent holds.
    const { decoded, notGiven: refused } = this.passedOn(args);
    if (refused) return { tag: 'err', val: { code: 'ERR_NOT_GIVEN', message: refused } };
    // This thread draws the result ids, so the submit needs no answer: the node checks it and, if it is
    // refused, fails those results with the reason (the guest sees it at get).
    const lineage = this.site.lineage();
    const ids = Array.from({ length: returnsAsked(options) }, () => childId(lineage));
    // Without options or refs, it may run right here when its result is got (claims.ts).
    const claim = options.length === 0 && Array.isArray(decoded) && !hasTag(decoded) && this.local.size < MAX_LOCAL && this.site.mayRunHere() ? this.site.claims?.open() : undefined;
    let local: { claim: number; taskId: string } | undefined;
    if (claim !== undefined) {
      local = { claim, taskId: childId(lineage) };
      this.local.set(ids[0]!, { ...local, fn, args: decoded as unknown[] });
    }
    this.site.post({ ev: 'rt', cid: 0, n: this.site.asker(), req: { op: 'submit', fn, args: args.slice(), options: options.slice(), ids, ...(local ? { local } : {}) } });
    return { tag: 'ok', val: ids.map((objectId) => ({ objectId })) };
  }
}
