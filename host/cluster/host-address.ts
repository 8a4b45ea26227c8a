/** The addresses this machine listens on and gives others to dial. */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

/** Whether `host` means every interface rather than one. */
export function isWildcard(host: string | undefined): boolean {
  return host === undefined || host === '' || host === '0.0.0.0' || host === '::';
}

/** This machine's address for others to dial: `bound` itself, else the first external IPv4, else loopback. */
export function publicHost(bound?: string): string {
  if (!isWildcard(bound)) return bound!;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

/**
 * The local address of the interface this machine uses to reach the host
 * of `address` (a ws:// URL): where a node or driver listens by default, so
 * it is reachable from the cluster and from nowhere else. A connected UDP
 * socket asks the routing table; no packet is sent.
 */
export function routeTo(address: string): Promise<string> {
  const u = new URL(address);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const s = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const done = (a: string): void => { s.close(); resolve(a); };
    s.once('error', () => done(publicHost()));
    s.connect(Number(u.port) || 443, host, () => done(s.address().address));
  });
}
