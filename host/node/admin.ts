/**
 * The node's admin endpoint, so `tsray memory` in another process can read
 * a running node: a Unix socket in a per-user directory (mode 0700, so only
 * the owner can connect). A client writes one request line and reads one
 * JSON reply. It never keeps the process alive.
 */
import { createServer, connect, type Server } from 'node:net';
import { readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { userSubdir } from '../util/private-dir.js';

/** Where running nodes put their sockets (a private directory: see `private-dir.ts`). */
export function sessionsDir(): string {
  return userSubdir('sessions');
}

export class AdminEndpoint {
  private constructor(private readonly server: Server, readonly path: string) {}

  /** Listens in `dir` (from `sessionsDir()`); `handle` answers each request line with a JSON-able value. */
  static start(dir: string, nodeId: string, handle: (request: string) => unknown): AdminEndpoint {
    const path = join(dir, `${process.pid}-${nodeId}.sock`);
    try { unlinkSync(path); } catch { /* none left over */ }
    const server = createServer((sock) => {
      let buf = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        let reply: unknown;
        try {
          reply = { ok: true, value: handle(buf.slice(0, nl).trim()) };
        } catch (e) {
          reply = { ok: false, error: (e as Error).message };
        }
        sock.end(JSON.stringify(reply));
      });
      sock.on('error', () => { /* the client went away */ });
    });
    server.listen(path);
    server.unref();
    return new AdminEndpoint(server, path);
  }

  close(): void {
    this.server.close();
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

/** Sends `request` to every running node on this machine; sockets of dead processes are removed. */
export async function queryNodes(request: string, timeoutMs = 5000): Promise<unknown[]> {
  const dir = sessionsDir();
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.endsWith('.sock')); } catch { return []; }
  const replies = await Promise.all(names.map((n) => ask(join(dir, n), request, timeoutMs)));
  return replies.filter((r) => r !== undefined);
}

function ask(path: string, request: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`node at ${path} did not answer within ${timeoutMs} ms`)); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${request}\n`));
    sock.on('data', (d: string) => { buf += d; });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(buf) as { ok: boolean; value?: unknown; error?: string };
        if (r.ok) resolve(r.value); else reject(new Error(r.error));
      } catch (e) {
        reject(e);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') {
        try { unlinkSync(path); } catch { /* raced */ }
        resolve(undefined);
      } else reject(e);
    });
  });
}
