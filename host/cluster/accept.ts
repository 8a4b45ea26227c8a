/**
 * The server side of the handshake, shared by the head and every node's
 * object server: the first frame must be a `hello` with this protocol
 * version and the cluster token, within HANDSHAKE_MS; anything else is
 * refused (with the close codes of `protocol.ts`) before it can do anything.
 */
import type { WebSocket } from 'ws';
import { Peer } from './peer.js';
import { CLOSE, HANDSHAKE_MS, PROTOCOL_VERSION, type Frame, type Hello } from './protocol.js';
import { tokensEqual } from './token.js';

export interface AcceptHandlers {
  /** An authenticated hello: true admits the peer (the handler sends the welcome), false refuses it (the handler closes it). */
  hello(h: Hello, peer: Peer): boolean;
  /** Every frame after an admitted hello. */
  frame(f: Frame, peer: Peer, hello: Hello): void;
  /** An admitted peer went away. */
  close?(code: number, reason: string, peer: Peer, hello: Hello): void;
}

export function acceptPeer(ws: WebSocket, token: string, h: AcceptHandlers): Peer {
  let hello: Hello | undefined;
  let answered = false;
  const timer = setTimeout(() => peer.close(CLOSE.HANDSHAKE_TIMEOUT, `no hello within ${HANDSHAKE_MS} ms`), HANDSHAKE_MS);
  const peer: Peer = new Peer(ws, (f) => {
    if (hello) { h.frame(f, peer, hello); return; }
    if (answered) return; // frames behind a refused hello, before the close lands
    answered = true;
    clearTimeout(timer);
    if (admitted(f, token, peer) && h.hello(f as Hello, peer)) hello = f as Hello;
  }, (code, reason) => {
    clearTimeout(timer);
    if (hello) h.close?.(code, reason, peer, hello);
  });
  return peer;
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
