// Guest output on a cluster: lines written on nodes (separate processes)
// travel to the driver that submitted the work, filtered on the node by the
// driver's level; a node cannot forge the driver's output or flood it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ROOT } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';
import { authed, encode, until } from '../helpers/raw-wire.mjs';
import { FORGED } from '../helpers/hostile-results.mjs';

const DRIVER = join(ROOT, 'test', 'helpers', 'log-driver.mjs');
const TOKEN = 'guest-log-cluster-token';
const env = isolatedEnv('guest-log-cluster');

function runDriver(opts, address) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER, JSON.stringify(opts)], { cwd: ROOT, env: { ...env, TSRAY_ADDRESS: address, TSRAY_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => (code === 0 ? resolve({ out, err, pid: child.pid }) : reject(new Error(`driver exited ${code}: ${err}`))));
  });
}

/** `shout`'s lines in `text`: their level, node and pid. */
function shouted(text) {
  return [...text.matchAll(/^\(shout pid=(\d+) node=([0-9a-f]{8})\) \[(\w+)\] (\w+) hello$/gm)].map((m) => ({ pid: Number(m[1]), node: m[2], level: m[3], said: m[4] }));
}

const { address, head, nodes } = await cluster(t, env, TOKEN);
const nodePids = new Set([head.child.pid, nodes[0].child.pid]);

t.test('lines from a node process reach the driver that submitted the task', async (t) => {
  const { out, err, pid } = await runDriver({}, address);
  t.match(out, /done 6 1/);
  const lines = [...shouted(out), ...shouted(err)];
  t.strictSame(lines.map((l) => l.level), ['info', 'warn', 'error', 'fatal'], 'info and above, by default');
  t.ok(lines.every((l) => l.level === l.said), 'each at its level');
  t.ok(lines.every((l) => l.pid !== pid && nodePids.has(l.pid)), 'the pid is the node process that ran it, not the driver');
  t.ok(shouted(out).every((l) => l.level === 'info') && shouted(err).every((l) => l.level !== 'info'), 'info to stdout, warnings and errors to stderr');
  t.match(out, /^\(talker pid=\d+ node=[0-9a-f]{8}\) \[info\] ann is here$/m, 'an actor\'s constructor on a node');
  t.match(out, /^\(talker\.say pid=\d+ node=[0-9a-f]{8}\) \[info\] ann says hi$/m, 'an actor call on a node');
});

t.test("logLevel 'trace' brings all six levels across; off brings none", async (t) => {
  const all = await runDriver({ logLevel: 'trace' }, address);
  t.strictSame([...shouted(all.out), ...shouted(all.err)].map((l) => l.level).sort(), ['debug', 'error', 'fatal', 'info', 'trace', 'warn']);
  const none = await runDriver({ logToDriver: false }, address);
  t.match(none.out, /done 6 1/);
  t.notMatch(none.out + none.err, /hello|ann/, 'no guest line with logToDriver: false');
});

/** What this process writes to stdout and stderr while `body` runs. */
async function outputOf(body) {
  const chunks = [];
  const writes = [process.stdout.write, process.stderr.write];
  process.stdout.write = process.stderr.write = function (chunk) { chunks.push(String(chunk)); return true; };
  try {
    await body();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    [process.stdout.write, process.stderr.write] = writes;
  }
  return chunks.join('');
}

t.test('a hostile node cannot forge driver output, reach other drivers\' work, or flood it', async (t) => {
  const mod = await tsray.load(readFileSync(join(ROOT, 'build', 'chatty.wasm')));
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const nodeId = randomBytes(8).toString('hex');
  const rogue = await authed(address, TOKEN, 'node', { node: { nodeId, name: 'rogue', pid: 4242, resources: { CPU: 0, ROGUE: 1 }, objectAddress: 'ws://127.0.0.1:9' } });
  // Assertions wait until the output is given back: tap writes its own report to stdout.
  const seen = {};
  const output = await outputOf(async () => {
    const ref = mod.fn('shout').options({ numCpus: 0, resources: { ROGUE: 1 }, maxRetries: 0 }).remote('hello');
    const run = await until('the task at the rogue node', () => rogue.frames.find((f) => f.t === 'run'));
    seen.level = run.task.log;
    const line = (over) => encode({ t: 'log', route: run.task.taskId, level: 'warn', who: 'shout', text: 'x', ...over });
    rogue.send(line({ text: FORGED, who: 'shout\x1b[2J', node: 'ffffffff', pid: 1 }));
    rogue.send(line({ level: 'debug', text: 'below the driver level' }));
    rogue.send(line({ route: 'f'.repeat(32), text: 'not its task' }));
    rogue.send(line({ text: 'a'.repeat(1_000_000) }));
    seen.closed = await rogue.closed;
    seen.error = await tsray.get(ref).catch((x) => x);
  });
  t.equal(seen.level, 'info', 'the driver\'s level travels with the task');
  t.equal(seen.closed.code, 4003, 'an oversized log line closes the node as malformed');
  t.equal(seen.error?.code, 'ERR_WORKER_CRASHED', 'its task fails as lost with its node');
  const lines = output.split('\n').filter((l) => l.includes('pid='));
  t.equal(lines.length, 1, `one line arrives (${JSON.stringify(lines)})`);
  t.match(lines[0], new RegExp(`^\\(shout\\\\x1b\\[2J pid=4242 node=${nodeId.slice(0, 8)}\\) \\[warn\\] harmless\\\\n`), 'escaped, with the node and pid the head knows, not the ones the node claimed');
  t.notMatch(output, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, 'no raw control character reaches the output');
  t.notMatch(output, /below the driver level|not its task|aaaa/, 'lines below the level, for other work, or oversized are not printed');
  let again;
  const after = await outputOf(async () => { again = await tsray.get(mod.fn('shout').remote('again')).catch((x) => x); });
  t.equal(again, 6, 'the driver goes on running tasks');
  t.match(after, /^\(shout pid=\d+ node=[0-9a-f]{8}\) \[info\] info again$/m, 'and printing their lines');
});
