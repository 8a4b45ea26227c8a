/**
 * Opening a connection to the head: the handshake, and the errors a user
 * sees when it fails (`AuthError` for a refused token, `ConnectionError`
 * when nothing answers).
 */
import { WebSocket } from 'ws';
import { AuthError, ConnectionError, InvalidArgumentError } from '../errors.js';
import { Peer } from './peer.js';
import { clientOptions, type ClientTls } from './tls.js';
import { CLOSE, MAX_FRAME_BYTES, PROTOCOL_VERSION, type Frame, type Hello, type Role, type Welcome } from './protocol.js';

export interface Connected {
  peer: Peer;
  welcome: Welcome;
}

/** Checks an address is a ws:// or wss:// URL. */
export function checkAddress(address: string): string {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new InvalidArgumentError(`'${address}' is not a cluster address; use ws://HOST:PORT as printed by tsray start --head`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new InvalidArgumentError(`cluster addresses start with ws:// or wss://, got '${address}'`);
  return address;
}

/**
 * Connects and says hello. `onFrame` gets every frame after the welcome;
 * `onClose` runs when the connection ends after it was accepted. A `wss://`
 * server's certificate is checked against `tls.ca` (default: Node's trusted CAs).
 */
export function connect(
  address: string, token: string, role: Role,
  handlers: { onFrame?: (f: Frame, p: Peer) => void; onClose?: (code: number, reason: string) => void } = {},
  about: Pick<Hello, 'node' | 'objects' | 'resume'> = {},
  tls?: ClientTls,
): Promise<Connected> {
  checkAddress(address);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, handshakeTimeout: 5000, ...clientOptions(tls) });
    let welcome: Welcome | undefined;
    let refusal: string | undefined;
    const peer = new Peer(ws, (f, p) => {
      if (welcome) { handlers.onFrame?.(f, p); return; }
      if (f.t === 'welcome') { welcome = f; resolve({ peer, welcome }); return; }
      if (f.t === 'error') refusal = f.message;
    }, (code, reason) => {
      if (welcome) { handlers.onClose?.(code, reason); return; }
      if (code === CLOSE.AUTH || code === CLOSE.VERSION) reject(new AuthError(`the cluster at ${address} refused this connection: ${refusal ?? reason}`));
      else reject(new ConnectionError(`could not connect to the cluster at ${address}: ${refusal ?? connectError ?? `closed (${code}${reason ? `: ${reason}` : ''})`}`));
    });
    let connectError: string | undefined;
    ws.on('error', (e: Error) => {
      connectError = (e as NodeJS.ErrnoException).code ?? e.message;
      if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(connectError)) connectError += ` (${e.message}); trust the cluster's CA with --tls-ca, init({ tlsCa }) or NODE_EXTRA_CA_CERTS`;
    });
    ws.on('open', () => peer.send({ t: 'hello', v: PROTOCOL_VERSION, role, token, ...about }));
  });
}
