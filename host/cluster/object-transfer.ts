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
import { CLOSE, PROTOCOL_VERSION, type ChunkFrame, type PullReply } from './protocol.js';
import { acceptPeers } from './accept.js';
import { listen, scheme, type ClientTls, type Tls } from './tls.js';

const CHUNK = 4 * 2 ** 20;
const IN_FLIGHT = 4;

/** A location as an object server hands it out: with the key that lets its holder pull it. */
export type KeyedLocation = RemoteLocation & { key?: string };

/** Serves this node's sealed objects to pullers holding the cluster token and the object's key. */
export class ObjectServer {
  /** Objects sent so far (each pull counts once). */
  served = 0;
  private readonly secret = randomBytes(32);

  private constructor(private readonly wss: WebSocketServer, readonly address: string) {}

  /**
   * Listens on `host` (or on every interface with `listenAll`), over TLS
   * when `tls` has a certificate, and gives `host` to others as the address to dial.
   */
  static async start(store: ObjectStore, token: string, host: string, opts: { listenAll?: boolean; tls?: Tls } = {}): Promise<ObjectServer> {
    const wss = await listen(0, opts.listenAll ? undefined : host, opts.tls);
    const server = new ObjectServer(wss, `${scheme(opts.tls)}://${host.includes(':') ? `[${host}]` : host}:${(wss.address() as AddressInfo).port}`);
    serve(wss, store, token, (id, key) => server.keyMatches(id, key), () => { server.served++; });
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

function serve(wss: WebSocketServer, store: ObjectStore, token: string, given: (objectId: string, key: unknown) => boolean, onServe: () => void): void {
  acceptPeers(wss, token, {
    hello: (_h, peer) => { peer.send({ t: 'welcome', v: PROTOCOL_VERSION, clusterId: '', headPid: 0 }); return true; },
    frame: (f, peer) => {
      if (f.t !== 'pull' || typeof f.id !== 'number' || typeof f.objectId !== 'string') { peer.close(CLOSE.MALFORMED, 'object servers answer pull only'); return; }
      if (!given(f.objectId, f.key)) { peer.send({ t: 'pull-reply', id: f.id, error: `object ${f.objectId} was not passed to this puller (its key does not match)` }); return; }
      const out = store.sealedBytes(f.objectId);
      if (!out) { peer.send({ t: 'pull-reply', id: f.id, error: `object ${f.objectId} is not here` }); return; }
      onServe();
      peer.send({ t: 'pull-reply', id: f.id, size: out.bytes.byteLength });
      stream(peer, f.id, out.bytes, out.done);
    },
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

/** Pulls objects from other nodes' object servers into `store`. */
export class ObjectPuller {
  private readonly peers = new Map<string, Promise<Peer>>();
  private readonly transfers = new Map<number, Transfer>();
  private readonly inProgress = new Map<string, Promise<ObjectRef>>();
  private nextId = 1;

  constructor(private readonly store: ObjectStore, private readonly token: string, private readonly tls?: ClientTls) {}

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
   * ref already resolved to that location), or as a new local object.
   * Fails with ObjectLostError when its owner is gone.
   */
  pull(loc: RemoteLocation, into?: ObjectRef): Promise<ObjectRef> {
    const key = `${loc.address}/${loc.objectId}/${into?.id ?? ''}`;
    let p = this.inProgress.get(key);
    if (!p) {
      p = this.transfer(loc, into).finally(() => this.inProgress.delete(key));
      this.inProgress.set(key, p);
      // Pullers that shared a new object each got a ref of their own (below) by the time this runs.
      if (!into) p.then((base) => setImmediate(() => base.release()), () => undefined);
    }
    return into ? p : p.then((base) => this.store.addRef(base));
  }

  private async transfer(loc: RemoteLocation, into?: ObjectRef): Promise<ObjectRef> {
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
      peer.send({ t: 'pull', id, objectId: loc.objectId, ...((loc as KeyedLocation).key ? { key: (loc as KeyedLocation).key } : {}) });
    });
  }

  close(): void {
    for (const p of this.peers.values()) p.then((x) => x.close(), () => undefined);
    this.peers.clear();
  }
}
