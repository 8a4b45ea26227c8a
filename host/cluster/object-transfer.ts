/**
 * Moving sealed objects between nodes (and to drivers). Each node runs an
 * object server; a puller asks for an object by id and receives its sealed
 * block in data frames written straight into its own store, then seals it
 * there. Each chunk is a small `chunk` frame (pull id, offset, length)
 * followed by a binary message of exactly those bytes, so the payload is
 * never copied to add a header. The server keeps a few chunks in flight and
 * sends the next as each one leaves (backpressure), and data flows server ->
 * client, so it is never masked. Concurrent pulls of one object collapse
 * into one.
 *
 * Many pullers of one object form a transfer tree (fanout.ts): a server
 * sends it to a few at a time and sends the others to nodes that finished
 * pulling it. A node's puller keeps what it pulled for `RETAIN_MS` (within
 * half of its store), serves it to others meanwhile, and tells the
 * object's server so (`holding`, then `dropped`); a later pull of the same
 * object on that node uses the kept copy.
 *
 * A server sends only objects whose location it handed out: each location
 * carries a key (an HMAC of the object id under the server's secret), and a
 * pull without the right key is refused. The cluster token admits a
 * connection; the key shows the object was passed to whoever pulls it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import type { ObjectStore, RemoteLocation } from '../../store/object-store.js';
import { ObjectLostError } from '../errors.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { connect } from './connect.js';
import { Peer } from './peer.js';
import { CLOSE, PROTOCOL_VERSION, type ChunkFrame, type Frame, type PullFrame, type PullReply } from './protocol.js';
import { FANOUT, Fanout, WAIT_MS } from './fanout.js';
import { acceptPeers } from './accept.js';
import { listen, scheme, type ClientTls, type Tls } from './tls.js';

const CHUNK = 4 * 2 ** 20;
const IN_FLIGHT = 4;
/** How long a node keeps an object it pulled, to serve it to other pullers and to its own later tasks. */
export const RETAIN_MS = 5_000;
/** How many holders a pull may be sent through before it goes back to the origin, served there. */
const MAX_HOPS = 4;

/** Pullers one server sends an object to at once (`TSRAY_PULL_FANOUT`; 0: every pull served by the server itself). */
function fanoutFromEnv(): number {
  const v = Number(process.env.TSRAY_PULL_FANOUT ?? FANOUT);
  return Number.isSafeInteger(v) && v >= 0 ? v : FANOUT;
}

/** A location as an object server hands it out: with the key that lets its holder pull it. */
export type KeyedLocation = RemoteLocation & { key?: string };

/** Other frames a node's object server takes (leased work, leased-work.ts): `frame` is true when it took `f`. */
export interface ServerWork {
  frame(f: Frame, peer: Peer): boolean;
  closed(peer: Peer): void;
}

/** Serves this node's sealed objects to pullers holding the cluster token and the object's key. */
export class ObjectServer {
  /** Objects sent so far (each pull counts once). */
  served = 0;
  private readonly secret = randomBytes(32);

  private constructor(private readonly wss: WebSocketServer, readonly address: string) {}

  /**
   * Listens on `host` (or on every interface with `listenAll`), over TLS
   * when `tls` has a certificate, and gives `host` to others as the address
   * to dial. `holders`: the addresses a puller may name as holding a copy
   * (the cluster's live nodes: pullers sent there dial it with the token);
   * absent: any.
   */
  static async start(store: ObjectStore, token: string, host: string, opts: { listenAll?: boolean; tls?: Tls; work?: ServerWork; holders?: (address: string) => boolean } = {}): Promise<ObjectServer> {
    const wss = await listen(0, opts.listenAll ? undefined : host, opts.tls);
    const server = new ObjectServer(wss, `${scheme(opts.tls)}://${host.includes(':') ? `[${host}]` : host}:${(wss.address() as AddressInfo).port}`);
    serve(wss, store, token, (id, key) => server.keyMatches(id, key), () => { server.served++; }, new Fanout(fanoutFromEnv()), opts.work, opts.holders);
    return server;
  }

  private key(objectId: string): Buffer {
    return createHmac('sha256', this.secret).update(objectId).digest();
  }

  private keyMatches(objectId: string, key: unknown): boolean {
    return typeof key === 'string' && key.length === 64 && timingSafeEqual(Buffer.from(key, 'hex'), this.key(objectId));
  }

  /** The location of object `objectId` here, to pass to whoever may pull it. */
  location(nodeId: string, objectId: string, size: number): KeyedLocation {
    return { nodeId, address: this.address, objectId, size, key: this.key(objectId).toString('hex') };
  }

  /** Whether `loc` is a location this server handed out (its key matches). */
  handedOut(loc: KeyedLocation): boolean {
    return loc.address === this.address && this.keyMatches(loc.objectId, loc.key);
  }

  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}

function serve(wss: WebSocketServer, store: ObjectStore, token: string, given: (objectId: string, key: unknown) => boolean, onServe: () => void, fanout: Fanout, work?: ServerWork,
  holders: (address: string) => boolean = () => true): void {
  const pull = (f: PullFrame, peer: Peer): void => {
    if (!peer.isOpen) return;
    const d = fanout.decide(f.objectId, { sharer: f.share === true, direct: f.direct === true });
    if ('wait' in d) {
      // Woken when a holder appears or a transfer here ends, and every WAIT_MS (the server may send it itself by then).
      let woken = false;
      const retry = (): void => { if (!woken) { woken = true; clearTimeout(timer); pull(f, peer); } };
      const timer = setTimeout(retry, WAIT_MS);
      fanout.wait(f.objectId, retry);
      return;
    }
    if ('redirect' in d) { peer.send({ t: 'pull-reply', id: f.id, redirect: d.redirect }); return; }
    const out = store.sealedBytes(f.objectId);
    if (!out) {
      fanout.served(f.objectId);
      peer.send({ t: 'pull-reply', id: f.id, error: `object ${f.objectId} is not here` });
      return;
    }
    onServe();
    peer.send({ t: 'pull-reply', id: f.id, size: out.bytes.byteLength });
    stream(peer, f.id, out.bytes, () => { out.done(); fanout.served(f.objectId); });
  };
  acceptPeers(wss, token, {
    hello: (_h, peer) => { peer.send({ t: 'welcome', v: PROTOCOL_VERSION, clusterId: '', headPid: 0 }); return true; },
    frame: (f, peer) => {
      if (f.t === 'holding' || f.t === 'dropped') {
        // Only a puller that was given the object speaks of its copies.
        if (!given(f.objectId, f.key)) { peer.close(CLOSE.MALFORMED, `a '${f.t}' for an object this puller was not given`); return; }
        // A copy somewhere else than a node of the cluster is not one to send pullers to (they would dial it with the token).
        if (f.t === 'holding') { if (holders(f.at.address)) fanout.hold(f.objectId, f.at, f.via); }
        else fanout.drop(f.objectId, f.address);
        return;
      }
      if (f.t !== 'pull' && work?.frame(f, peer)) return;
      if (f.t !== 'pull' || typeof f.id !== 'number' || typeof f.objectId !== 'string') { peer.close(CLOSE.MALFORMED, 'object servers answer pull only'); return; }
      if (!given(f.objectId, f.key)) { peer.send({ t: 'pull-reply', id: f.id, error: `object ${f.objectId} was not passed to this puller (its key does not match)` }); return; }
      pull(f, peer);
    },
    close: (_code, _reason, peer) => work?.closed(peer),
  });
}

/** Sends `bytes` in chunks, keeping IN_FLIGHT of them queued in the socket. */
function stream(peer: Peer, id: number, bytes: Uint8Array, done: () => void): void {
  let next = 0;
  let inFlight = 0;
  let finished = false;
  const finish = (): void => { if (!finished) { finished = true; done(); } };
  const pump = (): void => {
    while (inFlight < IN_FLIGHT && next < bytes.byteLength) {
      if (!peer.isOpen) { finish(); return; }
      const off = next;
      const end = Math.min(bytes.byteLength, off + CHUNK);
      next = end;
      inFlight++;
      peer.send({ t: 'chunk', id, offset: off, length: end - off });
      peer.sendRaw(bytes.subarray(off, end), (err) => {
        inFlight--;
        if (err) { finish(); return; }
        if (next >= bytes.byteLength && inFlight === 0) finish();
        else pump();
      });
    }
  };
  if (bytes.byteLength === 0) finish(); else pump();
}

interface Transfer {
  size: number;
  received: number;
  /** The server's reply: the size, and data frames follow. */
  start: (r: PullReply) => void;
  write: (at: number, data: Buffer) => void;
  fail: (e: Error) => void;
}

const unreachable = new WeakMap<Error, string>();

/** The node a pull's ObjectLostError found unreachable (so every object it holds is lost too), if that is why it failed. */
export function unreachableNode(e: unknown): string | undefined {
  return e instanceof Error ? unreachable.get(e) : undefined;
}

/** How a node shares what it pulls (see the top of this file). */
export interface Sharing {
  /** This node's location of its own object `ref`, as its object server hands it out. */
  location(ref: ObjectRef, size: number): KeyedLocation;
  /** At most this many bytes kept to share at once. */
  maxBytes: number;
}

/** Pulls objects from other nodes' object servers into `store`. */
export class ObjectPuller {
  private readonly peers = new Map<string, Promise<Peer>>();
  private readonly transfers = new Map<number, Transfer>();
  private readonly inProgress = new Map<string, Promise<ObjectRef>>();
  /** Objects pulled lately and kept to share, by their origin's address and id. */
  private readonly kept = new Map<string, { ref: ObjectRef; timer: NodeJS.Timeout }>();
  private keptBytes = 0;
  /** The holder each pull sent elsewhere came from (its load drops when this one says it holds the object). */
  private readonly via = new WeakMap<ObjectRef, string>();
  private nextId = 1;

  constructor(private readonly store: ObjectStore, private readonly token: string, private readonly tls?: ClientTls, private readonly sharing?: Sharing) {}

  private peer(address: string): Promise<Peer> {
    let p = this.peers.get(address);
    if (!p) {
      p = connect(address, this.token, 'peer', {
        // Handled synchronously: the data frames right behind a reply may arrive in the same read.
        onFrame: (f, peer) => {
          if (f.t === 'pull-reply') this.transfers.get(f.id)?.start(f);
          else if (f.t === 'chunk') peer.expectData = (buf) => this.data(f, buf);
        },
        onClose: () => {
          this.peers.delete(address);
          for (const t of [...this.transfers.values()]) t.fail(new Error(`the connection to ${address} closed`));
        },
      }, {}, this.tls).then(({ peer }) => peer);
      p.catch(() => this.peers.delete(address));
      this.peers.set(address, p);
    }
    return p;
  }

  private data(f: ChunkFrame, body: Buffer): void {
    const t = this.transfers.get(f.id);
    if (!t) return;
    if (t.size < 0) { t.fail(new Error('data before the reply')); return; }
    if (body.byteLength !== f.length || f.offset + body.byteLength > t.size) { t.fail(new Error('a chunk that does not match its announcement')); return; }
    t.write(f.offset, body);
  }

  /**
   * Brings the object at `loc` into this store: as the bytes of `into` (a
   * ref already resolved to that location), or as a new local object (a
   * copy kept from a recent pull, if there is one).
   * Fails with ObjectLostError when its owner is gone.
   */
  pull(loc: RemoteLocation, into?: ObjectRef): Promise<ObjectRef> {
    const kept = into ? undefined : this.kept.get(`${loc.address}/${loc.objectId}`);
    if (kept) return Promise.resolve(this.store.addRef(kept.ref));
    const key = `${loc.address}/${loc.objectId}/${into?.id ?? ''}`;
    let p = this.inProgress.get(key);
    if (!p) {
      p = this.transfer(loc, into).finally(() => this.inProgress.delete(key));
      this.inProgress.set(key, p);
      // Pullers that shared a new object each got a ref of their own (below) by the time this runs.
      if (!into) p.then((base) => { this.share(loc, base); setImmediate(() => base.release()); }, () => undefined);
    }
    return into ? p : p.then((base) => this.store.addRef(base));
  }

  /** Keeps a copy just pulled for `RETAIN_MS`, telling its origin, which sends other pullers here meanwhile. */
  private share(origin: KeyedLocation, ref: ObjectRef): void {
    const s = this.sharing;
    const k = `${origin.address}/${origin.objectId}`;
    if (!s || this.kept.has(k) || this.keptBytes + origin.size > s.maxBytes) return;
    const keep = this.store.addRef(ref);
    this.keptBytes += origin.size;
    const at = s.location(keep, origin.size);
    const tell = (f: Frame): void => { void this.peer(origin.address).then((p) => p.send(f), () => undefined); };
    const via = this.via.get(ref);
    tell({ t: 'holding', objectId: origin.objectId, ...(origin.key ? { key: origin.key } : {}), at, ...(via ? { via } : {}) });
    const timer = setTimeout(() => {
      // The origin stops sending pullers here before the copy goes; one already on its way falls back to the origin.
      this.kept.delete(k);
      this.keptBytes -= origin.size;
      tell({ t: 'dropped', objectId: origin.objectId, ...(origin.key ? { key: origin.key } : {}), address: at.address });
      keep.release();
    }, RETAIN_MS);
    timer.unref();
    this.kept.set(k, { ref: keep, timer });
  }

  /** A pull sent to `holder`; if that fails (it let the copy go, or is gone), back to the origin, served there. */
  private async viaHolder(origin: RemoteLocation, holder: KeyedLocation, into: ObjectRef | undefined, hops: number): Promise<ObjectRef> {
    if (hops < MAX_HOPS) {
      try {
        const ref = await this.transfer(holder, into, hops + 1);
        this.via.set(ref, holder.address);
        return ref;
      } catch {
        // Fall back below.
      }
    }
    return this.transfer(origin, into, hops, true);
  }

  private async transfer(loc: KeyedLocation, into?: ObjectRef, hops = 0, direct = false): Promise<ObjectRef> {
    let peer: Peer;
    try {
      peer = await this.peer(loc.address);
    } catch (e) {
      const lost = new ObjectLostError(loc.objectId, `its node ${loc.nodeId} cannot be reached at ${loc.address} (${(e as Error).message})`);
      unreachable.set(lost, loc.nodeId);
      throw lost;
    }
    const id = this.nextId++;
    return new Promise<ObjectRef>((resolve, reject) => {
      let incoming: ReturnType<ObjectStore['incoming']> | undefined;
      const t: Transfer = {
        size: -1,
        received: 0,
        write: (at, body) => {
          incoming!.bytes.set(body, at);
          t.received += body.byteLength;
          if (t.received === t.size) {
            this.transfers.delete(id);
            resolve(incoming!.commit(into));
          }
        },
        fail: (e) => {
          this.transfers.delete(id);
          incoming?.abort();
          reject(new ObjectLostError(loc.objectId, `its transfer from node ${loc.nodeId} failed: ${e.message}`));
        },
        start: (r) => {
          if (r.redirect && !direct) { this.transfers.delete(id); resolve(this.viaHolder(loc, r.redirect, into, hops)); return; }
          if (r.error !== undefined || typeof r.size !== 'number') { t.fail(new Error(r.error ?? 'no size')); return; }
          try {
            incoming = this.store.incoming(r.size);
          } catch (e) {
            this.transfers.delete(id);
            reject(e);
            return;
          }
          t.size = r.size;
          if (r.size === 0) t.write(0, Buffer.alloc(0));
        },
      };
      this.transfers.set(id, t);
      // A new object here is shared a while (see `share`), so this puller may join a transfer tree.
      const share = !!this.sharing && !into && this.keptBytes + loc.size <= this.sharing.maxBytes;
      peer.send({ t: 'pull', id, objectId: loc.objectId, ...(loc.key ? { key: loc.key } : {}), ...(direct ? { direct: true } : {}), ...(share ? { share } : {}) });
    });
  }

  close(): void {
    for (const k of this.kept.values()) { clearTimeout(k.timer); k.ref.release(); }
    this.kept.clear();
    for (const p of this.peers.values()) p.then((x) => x.close(), () => undefined);
    this.peers.clear();
  }
}
