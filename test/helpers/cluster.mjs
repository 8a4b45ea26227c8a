// Helpers for tests of a cluster made of real processes: `tsray start ... --block` children.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from './components.mjs';

export const MiB = 2 ** 20;

/** An environment with a private temp dir, so each test file's records and sockets are its own. */
export function isolatedEnv(name) {
  return { ...process.env, TMPDIR: mkdtempSync(join(tmpdir(), `tsray-${name}-`)), TSRAY_TOKEN: '', TSRAY_ADDRESS: '' };
}

/** `tsray start ... --block` as a child; `ready` resolves with the match of `pattern` on its output. */
export function start(t, env, args, pattern) {
  const child = spawn(process.execPath, [CLI, 'start', ...args, '--block'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const ready = new Promise((resolve, reject) => {
    const timer = setInterval(() => { const m = pattern.exec(out); if (m) { clearInterval(timer); resolve(m); } }, 20);
    child.on('exit', (code) => { clearInterval(timer); reject(new Error(`exited ${code}: ${err}`)); });
  });
  return { child, ready, output: () => ({ out, err }) };
}

/** A head (with its own node) and one node per entry of `nodeArgs`, all joined with `token`. */
export async function cluster(t, env, token, { headArgs = ['--num-cpus', '1'], nodeArgs = [['--num-cpus', '1']] } = {}) {
  // One dashboard on 8265 at a time: heads of tests ask for one when they test it.
  if (!headArgs.includes('--dashboard-port')) headArgs = [...headArgs, '--no-dashboard'];
  // The token travels in the environment, never on a command line.
  const head = start(t, { ...env, TSRAY_TOKEN: token }, ['--head', '--port', '0', '--object-store-memory', String(256 * MiB), ...headArgs], /listening at (ws:\/\/\S+)/);
  const address = (await head.ready)[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const nodes = [];
  for (const a of nodeArgs) nodes.push(await joinNode(t, env, address, token, a));
  return { head, address, nodes };
}

/** Starts a node joined to `address`; resolves with its process and node id. */
export async function joinNode(t, env, address, token, args) {
  const n = start(t, { ...env, TSRAY_TOKEN: token }, ['--address', address, '--object-store-memory', String(256 * MiB), ...args], /tsray node ([0-9a-f]{16}) joined/);
  return { child: n.child, nodeId: (await n.ready)[1], output: n.output };
}

/** FNV-1a of bytes, the `blobs` example's checksum. */
export function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h >>> 0;
}
