/**
 * The embedded node's dashboard (`init({ dashboard: true })`): served from
 * this process for as long as the node runs, with a token drawn at random.
 */
import { randomBytes } from 'node:crypto';
import { DashboardServer } from '../dashboard/server.js';
import { nodeSource } from '../dashboard/sources.js';
import type { EmbeddedNode, InitOptions } from '../node/node.js';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';

let served: DashboardServer | undefined;

/** Starts the dashboard `opts.dashboard` asks for (none when it asks for none). */
export async function startDashboard(node: EmbeddedNode, opts: InitOptions): Promise<void> {
  const want = opts.dashboard;
  if (!want) return;
  const where = want === true ? {} : want;
  if (typeof where !== 'object' || (where.port !== undefined && (!Number.isSafeInteger(where.port) || where.port < 0 || where.port > 65535))) {
    throw new InvalidArgumentError(`dashboard must be true or { port, host } with a port from 0 to 65535, got ${JSON.stringify(want)}`);
  }
  try {
    served = await DashboardServer.start({ source: nodeSource(node), token: randomBytes(24).toString('base64url'), ...where });
  } catch (e) {
    throw new RuntimeStateError(`the dashboard could not listen on ${where.host ?? '127.0.0.1'}:${where.port ?? 8265}: ${(e as Error).message}; pass dashboard: { port: 0 } for any free port`);
  }
  process.stderr.write(`tsray dashboard: ${served.loginUrl}\n`);
}

export async function stopDashboard(): Promise<void> {
  const d = served;
  served = undefined;
  await d?.close();
}

/** The embedded node's dashboard link, token included (undefined when it serves none). */
export function dashboardUrl(): string | undefined {
  return served?.loginUrl;
}
