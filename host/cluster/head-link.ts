/**
 * A node's or driver's connection to the head that outlives the head: when
 * the connection ends, the link dials the head again with backoff, for up to
 * `reconnectMs`, saying `resume` with what its owner still has (a node: the
 * work it runs and the actors it hosts; a driver: the objects it holds). A
 * head started again from its tables (head/tables/) takes such a peer back
 * as it was and says `resumed`; the owner then sends again the work in
 * flight (`onResumed`), since the old head may have died holding it.
 *
 * While the head is away, frames are kept in order and sent once it is back,
 * except heartbeats and replies (of the moment only) and the work frames the
 * owner sends again itself. Requests wait for the head. A node's results
 * also stay here for `replayMs` after they were sent and go again on
 * resume: the old head may have died before passing them on, and the new
 * one drops any it has no use for.
 *
 * The link gives up (`onLost`) when the head does not come back in time,
 * takes the peer back as a stranger (`resumed` false: it restarted without
 * its tables, or declared this peer dead), or too much piles up meanwhile.
 */
import { connect, type Connected } from './connect.js';
import type { Peer } from './peer.js';
import type { ClientTls } from './tls.js';
import { ConnectionError } from '../errors.js';
import type { Frame, Hello, Resume, Role, Welcome } from './protocol.js';

/** What work sends to the head on: a connection, or a link that comes back. */
export interface HeadChannel {
  send(f: Frame): void;
  request<R extends Frame>(f: Frame & { id: number }): Promise<R>;
  /** False once nothing sent can arrive any more. */
  readonly isOpen: boolean;
}

export interface HeadLinkOptions {
  address: string;
  token: string;
  role: Role;
  /** What the hello says of this peer (its node info, its object server). */
  about: Pick<Hello, 'node' | 'objects'>;
  tls?: ClientTls;
  onFrame: (f: Frame) => void;
  /** How long to try to get the head back after the connection ends (0: give up at once). */
  reconnectMs: number;
  /** What to tell the head on reconnecting. */
  resume: () => Resume;
  /** The head took this peer back: send again the work that was in flight. */
  onResumed: () => void;
  /** The head is gone for good (`headBack` false), or came back without this peer (true); nothing sent arrives any more. */
  onLost: (why: string, headBack: boolean) => void;
  /** Told when the connection ends and the link starts to dial again. */
  onAway?: (why: string) => void;
  /** Kept `replayMs` after they were sent and sent again on resume (a node's results). */
  replay?: { types: ReadonlySet<string>; ms: number };
}

/** The first and the longest wait between two tries to reach the head again. */
export const RECONNECT_FIRST_MS = 250;
export const RECONNECT_MOST_MS = 5_000;
/** Frames (and about the bytes) kept while the head is away; past either the link gives up rather than grow without bound. */
export const MAX_KEPT_FRAMES = 200_000;
export const MAX_KEPT_BYTES = 256 * 2 ** 20;
/** At most this many frames, and about this many bytes, are kept to send again on resume (the oldest go first). */
export const MAX_REPLAY_FRAMES = 20_000;
export const MAX_REPLAY_BYTES = 64 * 2 ** 20;

/** About how many bytes `v` takes (strings, byte arrays, and what lists and maps hold, `depth` levels down). */
function roughBytes(v: unknown, depth: number): number {
  if (typeof v === 'string') return v.length;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v === null || typeof v !== 'object' || depth === 0) return 8;
  let n = 16;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += roughBytes(x, depth - 1);
  return n;
}

/** Frames that matter only at the moment they are sent. */
const OF_THE_MOMENT = new Set<Frame['t']>(['heartbeat', 'memory-reply', 'state-reply', 'logs-reply']);
/** Work frames: RemoteWork sends those in flight again on resume. */
const SENT_AGAIN = new Set<Frame['t']>(['submit', 'actor-create', 'actor-call', 'component']);

export class HeadLink implements HeadChannel {
  private peer: Peer;
  private away: Frame[] | undefined;
  private awayBytes = 0;
  private ended = false;
  private backWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  /** Frames sent lately that go again on resume (`replay`), oldest first from `recentStart`, and their rough bytes. */
  private recent: { at: number; f: Frame; bytes: number }[] = [];
  private recentStart = 0;
  private recentBytes = 0;
  /** The head's welcome on the current connection. */
  welcome: Welcome;
  /** The secret this peer comes back to the head with (from its first welcome). */
  private readonly resumeKey: string | undefined;

  private constructor(private readonly o: HeadLinkOptions, c: Connected) {
    this.peer = c.peer;
    this.welcome = c.welcome;
    this.resumeKey = c.welcome.resumeKey;
  }

  /** Connects for the first time; throws (AuthError, ConnectionError) as `connect` does. */
  static async open(o: HeadLinkOptions): Promise<HeadLink> {
    let link: HeadLink | undefined;
    // Frames right behind the welcome go straight to the owner, which keeps them until it is built (it has a link then).
    const c = await connect(o.address, o.token, o.role, { onFrame: (f) => o.onFrame(f), onClose: (code, reason) => link?.dropped(code, reason) }, o.about, o.tls);
    link = new HeadLink(o, c);
    return link;
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Whether the head is connected now (not away). */
  get connected(): boolean {
    return !this.away && !this.ended;
  }

  send(f: Frame): void {
    if (this.ended) return;
    if (this.o.replay?.types.has(f.t)) this.remember(f);
    if (!this.away) { this.peer.send(f); return; }
    if (OF_THE_MOMENT.has(f.t) || SENT_AGAIN.has(f.t)) return;
    this.away.push(f);
    this.awayBytes += roughBytes(f, 4);
    if (this.away.length > MAX_KEPT_FRAMES || this.awayBytes > MAX_KEPT_BYTES) this.lose(`more than ${MAX_KEPT_FRAMES} frames or ${MAX_KEPT_BYTES >> 20} MiB piled up while the head was away`);
  }

  async request<R extends Frame>(f: Frame & { id: number }): Promise<R> {
    for (;;) {
      if (this.ended) throw new ConnectionError(`the head at ${this.o.address} is gone`);
      if (this.away) await new Promise<void>((resolve, reject) => this.backWaiters.push({ resolve, reject }));
      try {
        return await this.peer.request<R>(f);
      } catch (e) {
        // The connection ended under the request: ask again once the head is back.
        if (this.ended || !this.away) throw e;
      }
    }
  }

  /** Sends what `send` queued, now. */
  flush(): void {
    if (!this.away && !this.ended) this.peer.flush();
  }

  close(): void {
    this.ended = true;
    this.peer.close();
    this.failWaiters(new ConnectionError('the connection to the head was closed'));
  }

  private remember(f: Frame): void {
    const now = Date.now();
    const bytes = roughBytes(f, 4);
    this.recent.push({ at: now, f, bytes });
    this.recentBytes += bytes;
    const r = this.recent;
    while (this.recentStart < r.length && (now - r[this.recentStart]!.at > this.o.replay!.ms || r.length - this.recentStart > MAX_REPLAY_FRAMES || this.recentBytes > MAX_REPLAY_BYTES)) {
      this.recentBytes -= r[this.recentStart]!.bytes;
      this.recentStart++;
    }
    // Dropped from the front by an index, compacted now and then: O(1) per frame.
    if (this.recentStart > 1024 && this.recentStart * 2 > r.length) { this.recent = r.slice(this.recentStart); this.recentStart = 0; }
  }

  private dropped(code: number, reason: string): void {
    if (this.ended || this.away) return;
    const why = `the head at ${this.o.address} closed the connection (${code}${reason ? `: ${reason}` : ''})`;
    if (this.o.reconnectMs <= 0) { this.lose(why); return; }
    this.away = [];
    this.awayBytes = 0;
    this.o.onAway?.(why);
    void this.dialAgain(why);
  }

  private async dialAgain(why: string): Promise<void> {
    const until = Date.now() + this.o.reconnectMs;
    for (let wait = RECONNECT_FIRST_MS; !this.ended; wait = Math.min(2 * wait, RECONNECT_MOST_MS)) {
      if (Date.now() >= until) { this.lose(`${why}, and it did not come back within ${this.o.reconnectMs} ms`); return; }
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, until - Date.now()))));
      if (this.ended) return;
      let c: Connected;
      // The head may send work in the same message as its welcome: it waits here until this connection is the link's.
      const early: Frame[] = [];
      try {
        c = await connect(this.o.address, this.o.token, this.o.role, {
          onFrame: (f, p) => { if (this.peer === p) this.o.onFrame(f); else early.push(f); },
          onClose: (code, reason) => { if (this.peer === c.peer) this.dropped(code, reason); },
        }, { ...this.o.about, resume: { ...this.o.resume(), ...(this.resumeKey ? { key: this.resumeKey } : {}) } }, this.o.tls);
      } catch {
        continue; // not back yet
      }
      if (this.ended) { c.peer.close(); return; }
      if (!c.welcome.resumed) {
        c.peer.close();
        this.lose(`${why}; the head came back (cluster ${c.welcome.clusterId}) without this ${this.o.role}: it restarted without its tables, or gave this ${this.o.role} up`, true);
        return;
      }
      this.peer = c.peer;
      this.welcome = c.welcome;
      for (const f of early.splice(0)) this.o.onFrame(f);
      const kept = this.away!;
      this.away = undefined;
      // Results the old head may have died holding; then the work in flight; then what waited meanwhile.
      const waited = new Set(kept);
      for (let i = this.recentStart; i < this.recent.length; i++) if (!waited.has(this.recent[i]!.f)) c.peer.send(this.recent[i]!.f);
      this.o.onResumed();
      c.peer.send({ t: 'resume-done' });
      for (const f of kept) c.peer.send(f);
      for (const w of this.backWaiters.splice(0)) w.resolve();
      return;
    }
  }

  private lose(why: string, headBack = false): void {
    if (this.ended) return;
    this.ended = true;
    this.away = undefined;
    this.peer.close();
    this.failWaiters(new ConnectionError(why));
    this.o.onLost(why, headBack);
  }

  private failWaiters(e: Error): void {
    for (const w of this.backWaiters.splice(0)) w.reject(e);
  }
}
