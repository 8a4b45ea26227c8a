/**
 * The files that let commands on this machine find the processes `tsray
 * start` launched (and a head's token). Files are created 0600 (never
 * through a link or into an existing file) in a private directory (see
 * `util/private-dir.ts`).
 */
import { closeSync, constants, openSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CREATE_NEW, userSubdir } from '../util/private-dir.js';
import { running } from '../util/process-alive.js';

/** This user's cluster files on this machine; `InsecurePathError` if the directory is not private. */
export function clusterDir(): string {
  return userSubdir('cluster');
}

/** What `tsray start` leaves behind for `stop`, `status` and joining nodes on this machine. */
export interface ProcessRecord {
  pid: number;
  role: 'head' | 'node';
  /** The head's address (for a node: the head it joined). */
  address: string;
  /** Present on the head's record only. */
  token?: string;
  /** The head's dashboard, when it serves one (without the token). */
  dashboard?: string;
  log?: string;
}

export function writeRecord(r: ProcessRecord): string {
  const path = join(clusterDir(), `${r.role}-${r.pid}.json`);
  try { unlinkSync(path); } catch { /* none from an earlier process with this pid */ }
  const fd = openSync(path, constants.O_WRONLY | CREATE_NEW, 0o600);
  try { writeFileSync(fd, JSON.stringify(r)); } finally { closeSync(fd); }
  return path;
}

export function removeRecord(role: 'head' | 'node', pid: number): void {
  try { unlinkSync(join(clusterDir(), `${role}-${pid}.json`)); } catch { /* already gone */ }
}

/** Records of processes started on this machine that are still running (stale ones are removed). */
export function records(): ProcessRecord[] {
  const out: ProcessRecord[] = [];
  const dir = clusterDir();
  for (const name of readdirSync(dir)) {
    if (!/^(head|node)-\d+\.json$/.test(name)) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessRecord;
      if (running(r.pid)) out.push(r);
      else unlinkSync(join(dir, name));
    } catch { /* half-written or removed meanwhile */ }
  }
  return out;
}

/** The token this machine's head at `address` saved (any head when `address` is undefined), if one runs here. */
export function savedHeadToken(address: string | undefined): string | undefined {
  return records().find((r) => r.role === 'head' && (address === undefined || sameAddress(r.address, address)))?.token;
}

/** Whether two head addresses reach the same head on this machine (one may say 127.0.0.1 for the other's interface). */
function sameAddress(a: string, b: string): boolean {
  let x: URL;
  let y: URL;
  try { x = new URL(a); y = new URL(b); } catch { return false; }
  const local = (h: string): boolean => h === '127.0.0.1' || h === 'localhost';
  return x.port === y.port && (x.hostname === y.hostname || local(x.hostname) || local(y.hostname));
}
