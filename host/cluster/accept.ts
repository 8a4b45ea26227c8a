/**
 * The server side of the handshake, shared by the head and every node's
 * object server: the first frame must be a `hello` with this protocol
 * version and the cluster token, within HANDSHAKE_MS; anything else is
 * refused (with the close codes of `protocol.ts`) before it can do anything.
 *
 * Until its hello is accepted a connection is cheap: it may send
 * PRE_HELLO_BYTES in all (counted on the socket as they arrive, so a large
 * frame is cut off before it piles up), and at most MAX_PENDING_CONNECTIONS
 * may wait at once per server. A connection refused or timed out that does
 * not answer the close is cut off after CLOSE_GRACE_MS.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { Peer } from './peer.js';
import { CLOSE, HANDSHAKE_MS, MAX_PENDING_CONNECTIONS, PRE_HELLO_BYTES, PROTOCOL_VERSION, type Frame, type Hello } from './protocol.js';
import { tokensEqual } from './token.js';

export interface AcceptHandlers {
  /** An authenticated hello: true admits the peer (the handler sends the welcome), false refuses it (the handler closes it). */
  hello(h: Hello, peer: Peer): boolean;
  /** Every frame after an admitted hello. */
  frame(f: Frame, peer: Peer, hello: Hello): void;
  /** An admitted peer went away. */
  close?(code: number, reason: string, peer: Peer, hello: Hello): void;
}

/** How long a refused connection has to complete the close before its socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** Closes `ws` with `code`, and cuts it off if the client does not answer the close soon. */
function shut(ws: WebSocket, code: number, reason: string): void {
  ws.close(code, reason);
  setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
}

/** Accepts every connection to `wss` through the handshake, within the limits above. */
export function acceptPeers(wss: WebSocketServer, token: string, h: AcceptHandlers): void {
  let pending = 0;
  wss.on('connection', (ws, req) => {
    if (pending >= MAX_PENDING_CONNECTIONS) {
      shut(ws, CLOSE.BUSY, `${MAX_PENDING_CONNECTIONS} connections are waiting for their hello; try again later`);
      return;
    }
    pending++;
    acceptPeer(ws, req.socket, token, h, () => { pending--; });
  });
}

/** One connection; `settled` runs once, when it is admitted or gone. */
function acceptPeer(ws: WebSocket, socket: Duplex, token: string, h: AcceptHandlers, settled: () => void): void {
  let hello: Hello | undefined;
  let answered = false;
  let seen = 0;
  const onData = (chunk: Buffer): void => {
    if (hello) return;
    seen += chunk.length;
    // Destroyed, not closed: a close handshake would keep reading what the client sends.
    if (seen > PRE_HELLO_BYTES) ws.terminate();
  };
  let waiting = true;
  const settle = (): void => {
    if (!waiting) return;
    waiting = false;
    clearTimeout(timer);
    socket.off('data', onData);
    settled();
  };
  socket.on('data', onData);
  const timer = setTimeout(() => shut(ws, CLOSE.HANDSHAKE_TIMEOUT, `no hello within ${HANDSHAKE_MS} ms`), HANDSHAKE_MS);
  const peer: Peer = new Peer(ws, (f) => {
    if (hello) { h.frame(f, peer, hello); return; }
    if (answered) return; // frames behind a refused hello, before the close lands
    answered = true;
    clearTimeout(timer);
    if (admitted(f, token, peer) && h.hello(f as Hello, peer)) { hello = f as Hello; settle(); return; }
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }, (code, reason) => {
    settle();
    if (hello) h.close?.(code, reason, peer, hello);
  });
}

/** Checks the first frame; closes the connection and returns false when it is not an acceptable hello. */
function admitted(f: Frame, token: string, peer: Peer): boolean {
  if (f.t !== 'hello') {
    peer.close(CLOSE.MALFORMED, 'the first frame must be hello');
    return false;
  }
  if (f.v !== PROTOCOL_VERSION) {
    peer.send({ t: 'error', code: 'ERR_AUTH', message: `protocol version ${String(f.v)} is not supported; this cluster speaks ${PROTOCOL_VERSION}` });
    peer.close(CLOSE.VERSION, 'unsupported protocol version');
    return false;
  }
  if (!tokensEqual(f.token, token)) {
    peer.send({ t: 'error', code: 'ERR_AUTH', message: 'wrong or missing cluster token; pass the token printed by `tsray start --head` (--token or TSRAY_TOKEN)' });
    peer.close(CLOSE.AUTH, 'authentication failed');
    return false;
  }
  return true;
}
