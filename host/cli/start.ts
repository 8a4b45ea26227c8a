/** `tsray start` and `tsray stop`: cluster processes on this machine. */
import { Option, type Command } from 'commander';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import type { InitOptions } from '../node/node.js';
import { checkAddress } from '../cluster/connect.js';
import { readTls, requireServing } from '../cluster/tls.js';
import type { Head } from '../cluster/head.js';
import { DEFAULT_DASHBOARD_PORT } from '../dashboard/server.js';
import { clusterDir, records, savedHeadToken, type ProcessRecord } from '../cluster/process-records.js';
import { running } from '../util/process-alive.js';

interface StartOptions {
  head?: boolean;
  dashboardPort: string;
  dashboardHost?: string;
  /** False with --no-dashboard. */
  dashboard: boolean;
  address?: string;
  port: string;
  host?: string;
  numCpus?: string;
  numGpus?: string;
  resources?: string;
  objectStoreMemory?: string;
  dataRoot?: string[];
  rejoinTimeoutMs?: string;
  memory?: string;
  acceleratorType?: string;
  accelBackend?: string;
  acceleratorMemory?: string;
  token?: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  nodeTimeoutMs?: string;
  redisAddress?: string;
  storageNamespace?: string;
  storageDir?: string;
  block?: boolean;
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--${name} takes a number >= 0, got '${v}'`);
  return n;
}

function nodeOptions(o: StartOptions): InitOptions {
  let resources: Record<string, number> | undefined;
  if (o.resources !== undefined) {
    try {
      resources = JSON.parse(o.resources) as Record<string, number>;
    } catch {
      throw new InvalidArgumentError(`--resources takes JSON such as '{"TPU": 2}', got '${o.resources}'`);
    }
  }
  const out: InitOptions = {};
  const cpus = num('num-cpus', o.numCpus);
  const gpus = num('num-gpus', o.numGpus);
  const store = num('object-store-memory', o.objectStoreMemory);
  const memory = num('memory', o.memory);
  if (memory !== undefined) out.memory = memory;
  if (o.acceleratorType !== undefined) out.acceleratorType = o.acceleratorType;
  if (o.accelBackend !== undefined) out.accelBackend = o.accelBackend as InitOptions['accelBackend'];
  const accelMemory = num('accelerator-memory', o.acceleratorMemory);
  if (accelMemory !== undefined) out.acceleratorMemory = accelMemory;
  if (cpus !== undefined) out.numCpus = cpus;
  if (gpus !== undefined) out.numGpus = gpus;
  if (store !== undefined) out.objectStoreMemory = store;
  if (resources) out.resources = resources;
  // A started node reads files only where it is told: a driver with the token should not read the whole machine.
  out.dataRoots = o.dataRoot ?? [];
  return out;
}

/** The token in `--token-file`: its first line, which must not be empty. */
function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(`cannot read --token-file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const token = text.split('\n')[0]!.trim();
  if (!token) throw new InvalidArgumentError(`--token-file ${path} is empty; it must hold the cluster token on its first line`);
  return token;
}

/** The token given to this command: --token, then --token-file, then TSRAY_TOKEN. */
function givenToken(o: { token?: string; tokenFile?: string }): string | undefined {
  if (o.token) {
    process.stderr.write('tsray: warning: --token puts the token on the command line, where every local user can read it; prefer TSRAY_TOKEN or --token-file\n');
    return o.token;
  }
  if (o.tokenFile) return readTokenFile(o.tokenFile);
  return process.env.TSRAY_TOKEN || undefined;
}

/** The token for joining `address`: --token, --token-file, TSRAY_TOKEN, then this machine's head record for that address. */
export function tokenFor(address: string | undefined, given: { token?: string; tokenFile?: string }): string | undefined {
  const token = givenToken(given);
  if (token) return token;
  return savedHeadToken(address);
}

/** This command's arguments without the token options (the token travels in the environment instead). */
function argsWithoutToken(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--token' || a === '--token-file') { i++; continue; }
    if (a.startsWith('--token=') || a.startsWith('--token-file=')) continue;
    out.push(a);
  }
  return out;
}

/**
 * Launches this command again with --block as a background process, and
 * waits until it is up. The token goes to it as TSRAY_TOKEN, never in its
 * arguments: every local user can read a process's command line.
 */
async function daemonize(role: 'head' | 'node', token: string | undefined): Promise<ProcessRecord> {
  const log = join(clusterDir(), `${role}-${Date.now()}.log`);
  const fd = openSync(log, 'a', 0o600);
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  const env = { ...process.env, TSRAY_TOKEN: token ?? '' };
  const child = spawn(process.execPath, [cli, ...argsWithoutToken(process.argv.slice(2)), '--block', '--log', log], { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  let exited: number | null | undefined;
  child.on('exit', (code) => { exited = code; });
  child.unref();
  for (let waited = 0; waited < 30_000; waited += 100) {
    const r = records().find((x) => x.pid === child.pid);
    if (r) return r;
    if (exited !== undefined) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-10).join('\n');
  try { process.kill(child.pid!, 'SIGTERM'); } catch { /* already gone */ }
  throw new RuntimeStateError(`the ${role} did not start${exited !== undefined ? ` (exit code ${exited})` : ''}:\n${tail}`);
}

/** The head's dashboard, with the cluster token; a port that cannot be had is reported, and the head runs on without it. */
async function serveDashboard(head: Head, token: string, port: number, host: string): Promise<string | undefined> {
  const { DashboardServer } = await import('../dashboard/server.js');
  const { headSource } = await import('../dashboard/sources.js');
  try {
    const d = await DashboardServer.start({ source: headSource(head), token, port, host });
    process.stdout.write(`tsray dashboard at ${d.url}\n`);
    return d.url;
  } catch (e) {
    process.stderr.write(`tsray head: no dashboard: ${host}:${port}: ${(e as Error).message} (--dashboard-port 0 takes any free port)\n`);
    return undefined;
  }
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start a cluster head (--head) or a node joining one (--address), in the background')
    .option('--head', 'start a head: the cluster tables, plus a node of its own')
    .option('--address <ws://HOST:PORT>', 'the head to join')
    .option('--port <port>', 'port for the head to listen on (0: any free port)', '6380')
    .option('--host <ip>', 'interface to listen on: the head\'s port and this node\'s object server (head default: every interface; node default: the interface that reaches the head)')
    .option('--num-cpus <n>', 'CPUs this node offers (default: all)')
    .option('--num-gpus <n>', 'GPUs this node offers (default: as many as nvidia-smi lists, else 0)')
    .option('--accelerator-type <type>', "this node's accelerator type, e.g. H100 (default: detected)")
    .option('--accel-backend <auto|webgpu|cpu>', 'what drives the GPUs for tsray:accel: webgpu (Dawn; SwiftShader when the machine has no GPU), cpu (tensor kernels only), or auto (default: webgpu when Dawn finds an adapter)')
    .option('--accelerator-memory <bytes>', 'memory of each GPU where the backend cannot tell it (default 1 GiB); task budgets are shares of it')
    .option('--memory <bytes>', 'memory this node offers to memory requests (default 70% of RAM; admission only)')
    .option('--resources <json>', 'custom resources, e.g. \'{"TPU": 2}\'')
    .option('--object-store-memory <bytes>', 'object store size (default 30% of RAM)')
    .option('--data-root <dir...>', 'directories tsray.data read tasks may read files under on this node (default: none: file reads fail here)')
    .option('--token <token>', 'cluster token; visible to every local user in the process list, so prefer TSRAY_TOKEN or --token-file')
    .option('--token-file <path>', 'a file holding the cluster token (head default: TSRAY_TOKEN, else a new random one; node default: TSRAY_TOKEN, else this machine\'s head)')
    .option('--tls-cert <file>', 'PEM certificate: the head (and this node\'s object server) listen with TLS, wss://; a node of a wss:// cluster needs one too')
    .option('--tls-key <file>', 'the private key of --tls-cert')
    .option('--tls-ca <file>', 'PEM CA certificate(s) that sign the cluster\'s certificates (default: Node\'s trusted CAs and NODE_EXTRA_CA_CERTS)')
    .option('--node-timeout-ms <ms>', 'head: a node silent this long is dead', '10000')
    .option('--rejoin-timeout-ms <ms>', 'node: how long to keep running and dialing the head again, with backoff, after losing it (0: stop at once)', '60000')
    .option('--redis-address <redis://[:PASSWORD@]HOST:PORT>', 'head: keep the cluster tables in Redis, so a head started again takes the cluster back (default: TSRAY_REDIS_ADDRESS, else a local file)')
    .option('--storage-namespace <name>', 'head: the cluster\'s key prefix in Redis (several clusters may share one Redis)', 'default')
    .option('--storage-dir <dir>', 'head: directory of the local tables file (default: this user\'s tsray directory, per port; --port 0 keeps none)')
    .option('--dashboard-port <port>', 'head: port of the web dashboard (0: any free port)', String(DEFAULT_DASHBOARD_PORT))
    .option('--dashboard-host <ip>', 'head: interface the dashboard listens on', '127.0.0.1')
    .option('--no-dashboard', 'head: serve no dashboard')
    .option('--block', 'run in the foreground until stopped (Ctrl-C or tsray stop)')
    .addOption(new Option('--log <file>').hideHelp())
    .action(async (o: StartOptions & { log?: string }) => {
      if (!!o.head === !!o.address) throw new InvalidArgumentError('give exactly one of --head (start a cluster) or --address ws://HOST:PORT (join one)');
      const node = nodeOptions(o);
      const tls = readTls(o);
      if (o.head) {
        const port = num('port', o.port)!;
        const token = givenToken(o);
        if (!o.block) {
          const r = await daemonize('head', token);
          process.stdout.write([
            `Started a tsray head at ${r.address} (pid ${r.pid}).`,
            `Token (also saved for this user, mode 0600): ${r.token}`,
            '',
            'To add a node (on another machine, or this one):',
            `  TSRAY_TOKEN=${r.token} tsray start --address ${r.address}`,
            'To connect a driver:',
            `  await tsray.init({ address: '${r.address}', token: process.env.TSRAY_TOKEN })`,
            ...(r.dashboard ? [`Dashboard: ${r.dashboard}#token=${encodeURIComponent(r.token ?? '')}`] : []),
            'To see the cluster: tsray status    To stop what this machine started: tsray stop',
            '',
          ].join('\n'));
          return;
        }
        const { runHead } = await import('../cluster/process.js');
        const dashboardPort = num('dashboard-port', o.dashboardPort)!;
        const { address } = await runHead({
          port, ...(o.host ? { host: o.host } : {}), ...(token ? { token } : {}), nodeTimeoutMs: num('node-timeout-ms', o.nodeTimeoutMs), node, ...(tls.cert ? { tls } : {}), ...(o.log ? { log: o.log } : {}),
          storage: { redisAddress: o.redisAddress ?? (process.env.TSRAY_REDIS_ADDRESS || undefined), namespace: o.storageNamespace ?? 'default', ...(o.storageDir ? { dir: o.storageDir } : {}) },
          ...(o.dashboard ? { serve: (head, t) => serveDashboard(head, t, dashboardPort, o.dashboardHost ?? '127.0.0.1') } : {}),
        });
        process.stdout.write(`tsray head listening at ${address} (pid ${process.pid})\n`);
        return;
      }
      const address = checkAddress(o.address!);
      const token = tokenFor(address, o);
      if (!token) throw new InvalidArgumentError('no cluster token: set TSRAY_TOKEN, pass --token-file, or start the head on this machine');
      requireServing(address, tls, 'a node');
      if (!o.block) {
        const r = await daemonize('node', token);
        process.stdout.write(`Started a tsray node (pid ${r.pid}) joined to ${r.address}.\n`);
        return;
      }
      const { runNode } = await import('../cluster/process.js');
      const nodeId = await runNode(address, token, node, o.log, { ...(o.host ? { host: o.host } : {}), tls }, num('rejoin-timeout-ms', o.rejoinTimeoutMs));
      process.stdout.write(`tsray node ${nodeId} joined ${address} (pid ${process.pid})\n`);
    });

  program
    .command('stop')
    .description('stop the tsray heads and nodes this machine started')
    .option('--force', 'kill at once (SIGKILL) instead of asking them to stop')
    .action(async (o: { force?: boolean }) => {
      const list = records();
      // Nodes first, so they do not report a lost head.
      list.sort((a, b) => (a.role === b.role ? 0 : a.role === 'node' ? -1 : 1));
      for (const r of list) { try { process.kill(r.pid, o.force ? 'SIGKILL' : 'SIGTERM'); } catch { /* gone */ } }
      for (let waited = 0; waited < 10_000 && list.some((r) => running(r.pid)); waited += 100) await new Promise((res) => setTimeout(res, 100));
      const stuck = list.filter((r) => running(r.pid));
      for (const r of stuck) { try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone */ } }
      records();
      process.stdout.write(list.length === 0 ? 'No tsray processes were running.\n' : `Stopped ${list.length} tsray process${list.length === 1 ? '' : 'es'}${stuck.length ? ` (${stuck.length} killed)` : ''}.\n`);
    });
}
