/**
 * The dashboard's web server: the page (plain ES modules from `dashboard/`,
 * no build step, no server-side rendering) and its live feed. The page's
 * files are public (they hold no data); every byte of cluster data needs the
 * token: the WebSocket at `/ws?token=...` (a browser cannot set headers on
 * one) pushes a `Snapshot` at once and then every `intervalMs` while any page
 * is open, and `GET /api/snapshot` with `Authorization: Bearer <token>`
 * answers one for scripts.
 *
 * Hostile input costs little: a bad token is refused before the upgrade,
 * so is a page from another origin, messages from pages are ignored (and
 * capped at 1 KiB), and the page writes data with `textContent` only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { snapshot, type DashboardSource } from './snapshot.js';

/** Ray's dashboard port. */
export const DEFAULT_DASHBOARD_PORT = 8265;

export interface DashboardOptions {
  source: DashboardSource;
  /** Who may read the cluster through it. */
  token: string;
  /** Default `DEFAULT_DASHBOARD_PORT`; 0: any free port. */
  port?: number;
  /** Default 127.0.0.1 (this machine only). */
  host?: string;
  /** How often open pages get a new snapshot, in ms (default 1000). */
  intervalMs?: number;
}

const STATIC = new URL('../../../dashboard/', import.meta.url);
const FILES: Record<string, string> = {
  '/': 'index.html', '/index.html': 'index.html', '/app.js': 'app.js', '/views.js': 'views.js', '/charts.js': 'charts.js', '/style.css': 'style.css',
  '/favicon.svg': 'favicon.svg', '/favicon.ico': 'favicon.svg',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', svg: 'image/svg+xml' };
const HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** JSON that carries bigints as numbers (a page cannot parse them otherwise). */
const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x));

export class DashboardServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly files = new Map<string, Buffer>();
  private readonly want: Buffer;
  private timer: NodeJS.Timeout | undefined;
  private pushing = false;

  private constructor(private readonly http: Server, private readonly o: DashboardOptions) {
    this.want = digest(o.token);
    for (const name of new Set(Object.values(FILES))) this.files.set(name, readFileSync(new URL(name, STATIC)));
    http.on('request', (req, res) => void this.request(req, res));
    http.on('upgrade', (req, sock, head) => this.upgrade(req, sock, head));
    this.wss.on('connection', (ws) => this.opened(ws));
  }

  /** Listens; rejects (EADDRINUSE and the like) when the port cannot be had. */
  static start(o: DashboardOptions): Promise<DashboardServer> {
    const http = createServer();
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port ?? DEFAULT_DASHBOARD_PORT, o.host ?? '127.0.0.1', () => {
        http.off('error', reject);
        http.unref();
        resolve(new DashboardServer(http, o));
      });
    });
  }

  /** Where it listens (without the token). */
  get url(): string {
    const a = this.http.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  }

  /** The page's address with the token in its fragment (which browsers never send to servers). */
  get loginUrl(): string {
    return `${this.url}#token=${encodeURIComponent(this.o.token)}`;
  }

  private allowed(token: string | undefined | null): boolean {
    return typeof token === 'string' && timingSafeEqual(digest(token), this.want);
  }

  private async request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.send(res, 405, 'text/plain', 'GET only');
    const file = FILES[path];
    if (file) return this.send(res, 200, TYPES[file.split('.').pop()!]!, this.files.get(file)!);
    // Probes (a Kubernetes liveness and readiness probe): no token, and nothing said but whether it serves.
    if (path === '/healthz') return this.send(res, 200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      const ready = await this.o.source.status().then((s) => s.nodes.some((n) => n.state === 'ALIVE'), () => false);
      return this.send(res, ready ? 200 : 503, 'text/plain', ready ? 'ready\n' : 'no live node yet\n');
    }
    if (path === '/api/snapshot') {
      const auth = req.headers.authorization;
      if (!this.allowed(auth?.startsWith('Bearer ') ? auth.slice(7) : undefined)) return this.send(res, 401, 'text/plain', 'a valid token is required');
      try {
        return this.send(res, 200, 'application/json', toJson(await snapshot(this.o.source)));
      } catch (e) {
        return this.send(res, 500, 'text/plain', (e as Error).message);
      }
    }
    this.send(res, 404, 'text/plain', 'not found');
  }

  private send(res: ServerResponse, code: number, type: string, body: string | Buffer): void {
    res.writeHead(code, { ...HEADERS, 'content-type': type });
    res.end(body);
  }

  private upgrade(req: IncomingMessage, sock: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (code: number, why: string): void => {
      sock.end(`HTTP/1.1 ${code} ${why}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    // A page elsewhere must not read the cluster through a browser that holds the token.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return refuse(403, 'Forbidden');
    if (!this.allowed(url.searchParams.get('token'))) return refuse(401, 'Unauthorized');
    this.wss.handleUpgrade(req, sock, head, (ws) => this.wss.emit('connection', ws, req));
  }

  private opened(ws: WebSocket): void {
    ws.on('message', () => { /* pages only listen */ });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => { if (this.wss.clients.size === 0) this.stop(); });
    void this.push([ws]);
    this.timer ??= setInterval(() => void this.push([...this.wss.clients]), this.o.intervalMs ?? 1000);
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One snapshot for every page open now; a push still running is not doubled. */
  private async push(to: WebSocket[]): Promise<void> {
    if (this.pushing || to.length === 0) return;
    this.pushing = true;
    try {
      const text = toJson(await snapshot(this.o.source));
      for (const ws of to) if (ws.readyState === ws.OPEN) ws.send(text);
    } catch (e) {
      const text = toJson({ schema: 'tsray.dashboard/1', error: (e as Error).message });
      for (const ws of to) if (ws.readyState === ws.OPEN) ws.send(text);
    } finally {
      this.pushing = false;
    }
  }

  async close(): Promise<void> {
    this.stop();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
