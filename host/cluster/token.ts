/**
 * The cluster token: the cluster's only credential. It is stored in process
 * records (see process-records.ts), created 0600 in a private directory,
 * and in the head's tables (head/tables/), so a head started again keeps it.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';

/** A fresh random token (256 bits, hex). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Compares tokens in constant time (a timing difference would leak the token byte by byte). */
export function tokensEqual(a: unknown, b: string): boolean {
  if (typeof a !== 'string') return false;
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}
