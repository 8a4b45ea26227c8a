// A real redis-server for a test: on a free port, in a temp dir, killed at teardown.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** Starts redis-server (on `port`, default a free one); resolves with its `redis://` address once it accepts connections. */
export async function redisServer(t, port) {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tsray-redis-'));
  // No snapshots to disk: the test's Redis lives as long as the test.
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await new Promise((resolve, reject) => {
    const timer = setInterval(() => { if (/Ready to accept connections/.test(out)) { clearInterval(timer); resolve(); } }, 20);
    child.on('exit', (code) => { clearInterval(timer); reject(new Error(`redis-server exited ${code}: ${out}`)); });
  });
  return { address: `redis://127.0.0.1:${port}`, child };
}
