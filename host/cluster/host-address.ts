/** The address this machine gives others to dial. */
import { networkInterfaces } from 'node:os';

/** This machine's address for others to dial: the first external IPv4, else loopback. */
export function publicHost(bound?: string): string {
  if (bound && bound !== '0.0.0.0' && bound !== '::') return bound;
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return '127.0.0.1';
}

