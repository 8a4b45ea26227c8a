/**
 * Direct links: a guest's call to an actor goes from its worker straight to
 * the actor's worker and back, with no hop through the node's main thread
 * (whose event loop would wake twice per call). The node opens a link after
 * a first call went its way (node/direct-linker.ts) and closes it when
 * either worker goes; it hears of each call afterwards (`DirectNote`).
 *
 * A link is a MessagePort pair. The caller posts a `DirectCall`, sets the
 * link's mail flag in the actor worker's shared flags and rings its doorbell;
 * the actor worker reads only flagged links, queues the call behind its
 * other work, runs it, posts the `ReplyMsg` back and rings the caller's
 * doorbell. A guest's call blocks its guest, so one caller never has two
 * calls in flight to one actor: per-caller order holds by construction.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CTL, type DirectCall, type DirectNote, type FromWorker, type LinkMsg, type Outcome, type ReplyMsg, type UnlinkMsg } from './protocol.js';
import { collectTransfer } from './crossing-values.js';
import type { FuncDef } from '../wit/types.js';
import { guestMethod } from '../core/specs.js';
import { TsrayError } from '../errors.js';

/** Links into one actor worker at most (its mail flags); more callers go through the node. */
export const MAX_LINKS_IN = 64;
/** Links out of one worker at most; calls to further actors go through the node. */
export const MAX_LINKS_OUT = 64;

/** The caller's end of a link. */
interface OutLink { port: MessagePort; ctl: Int32Array; mail: Int32Array; slot: number; waiting: Set<number> }
/** The actor's end of a link. */
interface InLink { port: MessagePort; ctl: Int32Array; aid: number }

const ring = (ctl: Int32Array): void => {
  Atomics.add(ctl, CTL.DOORBELL, 1);
  Atomics.notify(ctl, CTL.DOORBELL);
};

export class DirectLinks {
  /** Caller side: by actor id. */
  private readonly out = new Map<string, OutLink>();
  /** Caller side: the link each call in flight went over. */
  private readonly byCid = new Map<number, OutLink>();
  /** Actor side: by slot in `mail`. */
  private readonly in = new Map<number, InLink>();
  /** Actor side: the methods of each linked actor, by aid. */
  private readonly classes = new Map<number, { className: string; methods: readonly FuncDef[] }>();
  private readonly mail: Int32Array;

  /** `mail`: this worker's own mail flags. */
  constructor(mail: SharedArrayBuffer, private readonly take: (r: ReplyMsg) => void) {
    this.mail = new Int32Array(mail);
  }

  /** A `link` or `unlink` message from the node. */
  onMessage(m: LinkMsg | UnlinkMsg): void {
    if (m.t === 'link') {
      if (m.side === 'caller') {
        this.out.get(m.actor)?.port.close();
        this.out.set(m.actor, { port: m.port, ctl: new Int32Array(m.ctl), mail: new Int32Array(m.mail), slot: m.slot, waiting: new Set() });
      } else {
        this.in.get(m.slot)?.port.close();
        this.in.set(m.slot, { port: m.port, ctl: new Int32Array(m.ctl), aid: m.aid });
        this.classes.set(m.aid, { className: m.className, methods: m.methods });
      }
      return;
    }
    if (m.side === 'actor') {
      this.in.get(m.slot)?.port.close();
      this.in.delete(m.slot);
      return;
    }
    const l = this.out.get(m.actor);
    if (!l) return;
    this.out.delete(m.actor);
    // Answers posted before the actor went still count; the calls left are lost with it.
    this.readReplies(l);
    for (const cid of l.waiting) {
      this.byCid.delete(cid);
      this.take({ t: 'reply', cid, ok: false, code: 'ERR_ACTOR_DIED', error: m.why });
    }
    l.port.close();
  }

  // --- the caller's side ---

  /** Sends call `cid` over the link to `actor`; false when there is none (the call then goes through the node). */
  send(actor: string, c: DirectCall): boolean {
    const l = this.out.get(actor);
    if (!l) return false;
    l.port.postMessage(c);
    l.waiting.add(c.cid);
    this.byCid.set(c.cid, l);
    Atomics.store(l.mail, l.slot, 1);
    ring(l.ctl);
    return true;
  }

  /** Whether call `cid` went over a link and is not answered yet. */
  isDirect(cid: number): boolean {
    return this.byCid.has(cid);
  }

  /** The caller gave up on call `cid` (its task was cancelled): its answer will be dropped. */
  forget(cid: number): void {
    this.byCid.get(cid)?.waiting.delete(cid);
    this.byCid.delete(cid);
  }

  private readReplies(l: OutLink): void {
    for (let m = receiveMessageOnPort(l.port); m; m = receiveMessageOnPort(l.port)) {
      const r = m.message as ReplyMsg;
      if (!l.waiting.delete(r.cid)) continue;
      this.byCid.delete(r.cid);
      this.take(r);
    }
  }

  // --- the actor's side ---

  /** The method of actor `aid` a call over a link names, its arguments checked (typed errors otherwise). */
  method(aid: number, name: string, args: readonly unknown[]): FuncDef {
    const c = this.classes.get(aid);
    if (!c) throw new TsrayError('ERR_INTERNAL', `no direct link was opened to actor ${aid}`);
    return guestMethod(c.className, c.methods, name, args);
  }

  /** Reads answers to calls in flight, and calls on flagged links (handed to `queue`). */
  drain(queue: (c: DirectCall, slot: number, aid: number) => void): void {
    if (this.byCid.size) for (const l of this.out.values()) if (l.waiting.size) this.readReplies(l);
    if (this.in.size === 0) return;
    for (const [slot, l] of this.in) {
      if (Atomics.exchange(this.mail, slot, 0) === 0) continue;
      for (let m = receiveMessageOnPort(l.port); m; m = receiveMessageOnPort(l.port)) {
        queue(m.message as DirectCall, slot, l.aid);
      }
    }
  }

  /** Direct calls run here so far. */
  callsRun = 0;
  /** Notes of direct calls the node has not been sent yet. */
  private notes: DirectNote[] = [];

  /**
   * Answers a call that came over a link (dropped if its caller went
   * meanwhile), and notes it for the node. `start`: when it began (ms since the epoch).
   */
  answer(via: { slot: number; cid: number }, aid: number, method: string, o: Outcome, start: number): void {
    const l = this.in.get(via.slot);
    if (l) {
      const moved: ArrayBuffer[] = [];
      if (o.ok) collectTransfer(o.value, moved);
      l.port.postMessage(o.ok ? { t: 'reply', cid: via.cid, ok: true, value: o.value } : { t: 'reply', cid: via.cid, ok: false, code: o.error.code, error: o.error.message }, moved);
      ring(l.ctl);
    }
    const end = Date.now();
    this.notes.push({ ev: 'direct', aid, dn: ++this.callsRun, method, start: start || end, end, ...(o.ok ? {} : { error: o.error }) });
  }

  /**
   * Moves the notes into `batch` when `now`, or when they are many or old;
   * otherwise they wait, so a call loop does not wake the node every call.
   */
  takeNotes(now: boolean, batch: FromWorker[]): void {
    const n = this.notes;
    if (n.length === 0 || !(now || n.length >= 256 || Date.now() - n[0]!.end > 20)) return;
    for (const x of n) batch.push(x);
    this.notes = [];
  }
}
