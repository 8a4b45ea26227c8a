/**
 * TLS for a cluster: the head and every object server can listen with
 * `wss://` (a certificate and its key), and every connection to a `wss://`
 * address checks the server's certificate against `tlsCa` (or Node's trusted
 * CAs, which NODE_EXTRA_CA_CERTS extends). In a `wss://` cluster every member
 * that serves objects (nodes and drivers) needs a certificate of its own or a
 * shared one, so the token and object bytes never cross the network in clear.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer, type ClientOptions } from 'ws';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import { MAX_FRAME_BYTES } from './protocol.js';

/** TLS files as the CLI and `init()` take them: paths to PEM files. */
export interface TlsFiles {
  /** CA certificate(s) that sign the members' certificates (default: Node's trusted CAs plus NODE_EXTRA_CA_CERTS). */
  tlsCa?: string;
  /** This member's certificate, for the servers it runs (the head, its object server). */
  tlsCert?: string;
  /** The certificate's private key. */
  tlsKey?: string;
}

/** TLS material, read. */
export interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function readPem(option: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InvalidArgumentError(`cannot read ${option} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads the files; a certificate needs its key and the other way round. */
export function readTls(f: TlsFiles): Tls {
  if (!f.tlsCert !== !f.tlsKey) throw new InvalidArgumentError('TLS needs both a certificate and its key (--tls-cert and --tls-key, or init({ tlsCert, tlsKey }))');
  const out: Tls = {};
  if (f.tlsCa) out.ca = readPem('the TLS CA file', f.tlsCa);
  if (f.tlsCert) out.cert = readPem('the TLS certificate', f.tlsCert);
  if (f.tlsKey) out.key = readPem('the TLS key', f.tlsKey);
  return out;
}

/** Refuses to join a `wss://` cluster without a certificate to serve objects with. */
export function requireServing(address: string, tls: Tls | undefined, who: string): void {
  if (address.startsWith('wss:') && !tls?.cert) {
    throw new InvalidArgumentError(`${address} is a TLS cluster: ${who} serves objects to its nodes, so it needs a certificate and key too (${who === 'a driver' ? 'init({ tlsCert, tlsKey })' : '--tls-cert and --tls-key'}); the cluster's own certificate will do if it names this machine`);
  }
}

/** The scheme of a server with (`wss`) or without (`ws`) a certificate. */
export function scheme(tls: Tls | undefined): 'ws' | 'wss' {
  return tls?.cert ? 'wss' : 'ws';
}

/** A WebSocket server listening on `host:port` (every interface without `host`), over TLS when `tls` has a certificate. */
export function listen(port: number, host: string | undefined, tls: Tls | undefined): Promise<WebSocketServer> {
  const opts = { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false } as const;
  return new Promise((resolve, reject) => {
    const fail = (e: NodeJS.ErrnoException): void => reject(e.code !== 'EADDRINUSE' ? e : new RuntimeStateError(
      `port ${port}${host ? ` on ${host}` : ''} is already in use (another tsray head? \`tsray status\` shows one on this machine): choose another with --port, or stop it with \`tsray stop\``,
    ));
    if (!tls?.cert) {
      const wss = new WebSocketServer({ port, ...(host ? { host } : {}), ...opts });
      wss.once('error', fail);
      wss.once('listening', () => resolve(wss));
      return;
    }
    const server = createServer({ cert: tls.cert, key: tls.key });
    const wss = new WebSocketServer({ server, ...opts });
    server.once('error', fail);
    server.listen(port, host, () => resolve(wss));
    // The WebSocket server does not own a server it was given: closing it must close the listener too.
    const close = wss.close.bind(wss);
    wss.close = (cb?: (err?: Error) => void) => close(() => { server.close(() => cb?.()); server.closeAllConnections(); });
  });
}

/** How a client checks a `wss://` server: against `ca`, and (for a node dialing its own head on loopback) without a host name match. */
export interface ClientTls {
  ca?: Buffer;
  anyName?: boolean;
}

/** The `ws` client options for `tls` (they go on to `tls.connect`, where `checkServerIdentity` returns an error or undefined). */
export function clientOptions(tls: ClientTls | undefined): ClientOptions {
  const anyName = (() => undefined) as unknown as ClientOptions['checkServerIdentity'];
  return { ...(tls?.ca ? { ca: tls.ca } : {}), ...(tls?.anyName ? { checkServerIdentity: anyName } : {}) };
}
