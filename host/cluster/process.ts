/**
 * The long-running processes `tsray start` launches: a head (with a node of
 * its own, as Ray's head node runs work too) or a node joining a head. Each
 * leaves a record so `tsray stop` and `tsray status` on this machine can
 * find it, and removes it when it stops.
 */
import type { InitOptions } from '../node/node.js';
import { Head } from './head.js';
import { NodeAgent, type HeadLost } from './node-agent.js';
import { clusterDir, removeRecord, writeRecord } from './process-records.js';
import { join } from 'node:path';
import { isWildcard, publicHost } from './host-address.js';
import { scheme, type Tls } from './tls.js';
import { InvalidArgumentError } from '../errors.js';
import type { TableStore } from './head/tables/table-store.js';
import { FileTables } from './head/tables/file-tables.js';
import { RedisTables } from './head/tables/redis-tables.js';

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
  /** Where the cluster's tables outlive the head (see `headTables`). */
  storage?: StorageOptions;
}

export interface StorageOptions {
  /** Redis (`redis://[:password@]host:port[/db]`): the tables go there. */
  redisAddress?: string;
  /** The cluster's key prefix in Redis. */
  namespace?: string;
  /** A directory for the local tables file. */
  dir?: string;
}

/**
 * Where a head keeps its tables: Redis when given an address, else a local
 * file in `dir`, by default in this user's tsray directory under the port
 * (a head started again on its port finds them). A head on port 0 keeps
 * none by default: nothing could find it at its old address again.
 */
export function headTables(s: StorageOptions, port: number): TableStore | undefined {
  if (s.redisAddress) return new RedisTables(s.redisAddress, s.namespace);
  if (s.dir) return new FileTables(s.dir);
  return port === 0 ? undefined : new FileTables(join(clusterDir(), 'head-tables', String(port)));
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
  const tables = headTables(o.storage ?? {}, o.port);
  const head = await Head.start({
    port: o.port, host: o.host, ...(o.token ? { token: o.token } : {}), nodeTimeoutMs: o.nodeTimeoutMs, placement: placementFromEnv(), ...(o.tls ? { tls: o.tls } : {}),
    ...(tables ? { tables } : {}), say: (line) => process.stdout.write(`${line}\n`), warn: (line) => process.stderr.write(`${line}\n`),
  });
  // Given, kept in the tables of the head this one follows, or new.
  const token = head.token;
  const address = `${scheme(o.tls)}://${bracketed(publicHost(o.host))}:${head.port}`;
  // Its own node dials the head where the head listens, and listens there too (with the head's certificate).
  const own = `${scheme(o.tls)}://${bracketed(isWildcard(o.host) ? '127.0.0.1' : o.host!)}:${head.port}`;
  const agent = await NodeAgent.join(own, token, o.node, ({ why }) => {
    process.stderr.write(`tsray head: its own node lost the head (${why})\n`);
  }, { host: o.host ?? '0.0.0.0', ...(o.tls ? { tls: { ...o.tls, ca: o.tls.ca ?? o.tls.cert }, anyName: true } : {}) });
  head.setOwnNode(agent.nodeId);
  // Jobs join the cluster where its own node does.
  head.enableJobs(join(clusterDir(), 'jobs', head.clusterId), own, token);
  const dashboard = await o.serve?.(head, token);
  writeRecord({ pid: process.pid, role: 'head', address, token, ...(dashboard ? { dashboard } : {}), ...(o.log ? { log: o.log } : {}) });
  onStop(async () => {
    removeRecord('head', process.pid);
    await agent.close().catch(() => undefined);
    await head.close();
  });
  return { address, token };
}

/** How long a node that lost its head keeps trying to get it back by default (Ray's raylet waits 60 s for its GCS). */
export const DEFAULT_REJOIN_MS = 60_000;

/**
 * Runs a node joined to `address` until SIGTERM/SIGINT. Its object server
 * listens on `net.host`, by default on the interface that reaches the head,
 * with TLS when `net.tls` has a certificate (which a `wss://` head requires).
 *
 * A node that loses its head runs on (its tasks, its actors, its objects)
 * and dials the head again with backoff for `rejoinMs` (head-link.ts). A
 * head started again from its tables takes it back under the same id with
 * everything it had. A head that comes back without it (no tables, or it
 * declared this node dead meanwhile) has given its work and objects up:
 * the node drops them and joins again as a new node. If the head does not
 * come back in time, the node exits with code 1 (`rejoinMs` 0: at once).
 */
export async function runNode(address: string, token: string, node: InitOptions, log?: string, net: { host?: string; tls?: Tls } = {}, rejoinMs = DEFAULT_REJOIN_MS): Promise<string> {
  let agent: NodeAgent;
  let stopping = false;
  const join = (): Promise<NodeAgent> => NodeAgent.join(address, token, node, (l) => void lost(l), net, rejoinMs);
  const lost = async ({ why, headBack }: HeadLost): Promise<void> => {
    const old = agent;
    await old.close().catch(() => undefined);
    if (headBack && !stopping) {
      process.stderr.write(`tsray node ${old.nodeId}: ${why}; joining it as a new node\n`);
      try {
        agent = await join();
        process.stdout.write(`tsray node ${agent.nodeId} joined ${address} again (was ${old.nodeId})\n`);
        return;
      } catch (e) {
        why = `joining it again failed: ${(e as Error).message}`;
      }
    }
    if (stopping) return;
    process.stderr.write(`tsray node ${old.nodeId}: lost the head: ${why}; stopping this node\n`);
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
