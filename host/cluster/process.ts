/**
 * The long-running processes `tsray start` launches: a head (with a node of
 * its own, as Ray's head node runs work too) or a node joining a head. Each
 * leaves a record so `tsray stop` and `tsray status` on this machine can
 * find it, and removes it when it stops.
 */
import type { InitOptions } from '../node/node.js';
import { Head } from './head.js';
import { NodeAgent } from './node-agent.js';
import { newToken } from './token.js';
import { clusterDir, removeRecord, writeRecord } from './process-records.js';
import { join } from 'node:path';
import { isWildcard, publicHost } from './host-address.js';
import { scheme, type Tls } from './tls.js';
import { InvalidArgumentError } from '../errors.js';

export interface HeadProcessOptions {
  port: number;
  host?: string;
  token?: string;
  nodeTimeoutMs?: number;
  node: InitOptions;
  log?: string;
  /** With a certificate: the head and its node's object server listen with TLS (`wss://`). */
  tls?: Tls;
  /** Starts what else the head serves (its dashboard) once it is up; returns the address to record, if any. */
  serve?: (head: Head, token: string) => Promise<string | undefined>;
}

/** DEFAULT's knobs from the environment, as Ray's RAY_scheduler_spread_threshold and RAY_scheduler_top_k_*. */
export function placementFromEnv(env: NodeJS.ProcessEnv = process.env): { spreadThreshold?: number; topKFraction?: number; topKAbsolute?: number } {
  const out: { spreadThreshold?: number; topKFraction?: number; topKAbsolute?: number } = {};
  const read = (name: string, key: keyof typeof out, max: number): void => {
    const v = env[name];
    if (v === undefined || v === '') return;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || n > max) throw new InvalidArgumentError(`${name} must be a number from 0 to ${max}, got '${v}'`);
    out[key] = n;
  };
  read('TSRAY_SCHEDULER_SPREAD_THRESHOLD', 'spreadThreshold', 1);
  read('TSRAY_SCHEDULER_TOP_K_FRACTION', 'topKFraction', 1);
  read('TSRAY_SCHEDULER_TOP_K_ABSOLUTE', 'topKAbsolute', 1e9);
  return out;
}

/** An IPv6 literal in brackets, as URLs write it. */
function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function onStop(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (): void => {
    if (stopping) return;
    stopping = true;
    void stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Runs a head and its own node in this process until SIGTERM/SIGINT. Returns the address. */
export async function runHead(o: HeadProcessOptions): Promise<{ address: string; token: string }> {
  const token = o.token ?? newToken();
  const head = await Head.start({ port: o.port, host: o.host, token, nodeTimeoutMs: o.nodeTimeoutMs, placement: placementFromEnv(), ...(o.tls ? { tls: o.tls } : {}) });
  const address = `${scheme(o.tls)}://${bracketed(publicHost(o.host))}:${head.port}`;
  // Its own node dials the head where the head listens, and listens there too (with the head's certificate).
  const own = `${scheme(o.tls)}://${bracketed(isWildcard(o.host) ? '127.0.0.1' : o.host!)}:${head.port}`;
  const agent = await NodeAgent.join(own, token, o.node, (why) => {
    process.stderr.write(`tsray head: its own node lost the head (${why})\n`);
  }, { host: o.host ?? '0.0.0.0', ...(o.tls ? { tls: { ...o.tls, ca: o.tls.ca ?? o.tls.cert }, anyName: true } : {}) });
  // Jobs join the cluster where its own node does.
  head.enableJobs(join(clusterDir(), 'jobs', String(process.pid)), own, token);
  const dashboard = await o.serve?.(head, token);
  writeRecord({ pid: process.pid, role: 'head', address, token, ...(dashboard ? { dashboard } : {}), ...(o.log ? { log: o.log } : {}) });
  onStop(async () => {
    removeRecord('head', process.pid);
    await agent.close().catch(() => undefined);
    await head.close();
  });
  return { address, token };
}

/** How long a node that lost its head keeps trying to rejoin it by default (Ray's raylet waits 60 s for its GCS). */
export const DEFAULT_REJOIN_MS = 60_000;
/** The first and the longest wait between two tries to rejoin. */
const REJOIN_FIRST_MS = 250;
const REJOIN_MOST_MS = 5_000;

/**
 * Runs a node joined to `address` until SIGTERM/SIGINT. Its object server
 * listens on `net.host`, by default on the interface that reaches the head,
 * with TLS when `net.tls` has a certificate (which a `wss://` head requires).
 *
 * A node that loses its head (the head died or restarted, or a partition
 * made it declare the node dead) stops its work and tries to join again,
 * with backoff, for `rejoinMs`: as a new node, since the head has given the
 * old one's work and objects up. Then it exits with code 1 (`rejoinMs` 0:
 * at once).
 */
export async function runNode(address: string, token: string, node: InitOptions, log?: string, net: { host?: string; tls?: Tls } = {}, rejoinMs = DEFAULT_REJOIN_MS): Promise<string> {
  let agent: NodeAgent;
  let stopping = false;
  const join = (): Promise<NodeAgent> => NodeAgent.join(address, token, node, (why) => void lost(why), net);
  const lost = async (why: string): Promise<void> => {
    const old = agent;
    process.stderr.write(`tsray node ${old.nodeId}: lost the head: ${why}; ${rejoinMs > 0 ? `rejoining it for up to ${rejoinMs} ms` : 'stopping this node'}\n`);
    await old.close().catch(() => undefined);
    const until = Date.now() + rejoinMs;
    for (let wait = REJOIN_FIRST_MS; !stopping && Date.now() < until; wait = Math.min(2 * wait, REJOIN_MOST_MS)) {
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, until - Date.now()))));
      if (stopping) return;
      try {
        agent = await join();
        process.stdout.write(`tsray node ${agent.nodeId} joined ${address} again (was ${old.nodeId})\n`);
        return;
      } catch {
        // The head is not back yet: try again after a longer wait.
      }
    }
    if (stopping) return;
    process.stderr.write(`tsray node ${old.nodeId}: the head did not come back; stopping this node\n`);
    removeRecord('node', process.pid);
    process.exit(1);
  };
  agent = await join();
  writeRecord({ pid: process.pid, role: 'node', address, ...(log ? { log } : {}) });
  onStop(async () => {
    stopping = true;
    removeRecord('node', process.pid);
    await agent.close();
  });
  return agent.nodeId;
}
