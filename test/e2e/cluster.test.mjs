// Cluster membership with real processes on loopback: head, nodes, CLI, authentication, malformed frames.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { encode, decode } from 'cbor-x';
import { CLI, ROOT } from '../helpers/components.mjs';
import { start } from '../helpers/cluster.mjs';
import { sleep } from '../helpers/runtime.mjs';

// Sized for CI; TSRAY_FUZZ_FRAMES runs more.
const FRAMES = Number(process.env.TSRAY_FUZZ_FRAMES ?? 400);

// Each test file gets its own temp dir: its records and sockets are its own.
const TMP = mkdtempSync(join(tmpdir(), 'tsray-cluster-'));
const env = { ...process.env, TMPDIR: TMP, TSRAY_TOKEN: '' };

function tsray(args, extraEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...env, ...extraEnv } });
  if (r.error) throw r.error;
  return r;
}

const status = (...args) => JSON.parse(tsray(['status', '--json', ...args]).stdout);
const pick = (o, keys) => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
// A process killed here may linger as a zombie if nothing reaps it: only a live state counts.
const alive = (pid) => {
  try { process.kill(pid, 0); } catch { return false; }
  try { const st = readFileSync(`/proc/${pid}/stat`, 'utf8'); return st[st.lastIndexOf(')') + 2] !== 'Z'; } catch { return true; }
};

const startBlocking = (t, args, pattern) => start(t, env, args, pattern);

async function until(what, f, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Opens a raw WebSocket to the head. */
function raw(address) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const closed = (ws) => new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));

t.test('start a head and a node, see them in status, kill -9 the node, stop everything', async (t) => {
  const head = tsray(['start', '--head', '--port', '0', '--num-cpus', '1', '--object-store-memory', String(64 * 2 ** 20)]);
  t.equal(head.status, 0, `head starts in the background ${head.stderr}`);
  const address = /Started a tsray head at (ws:\/\/\S+) \(pid (\d+)\)/.exec(head.stdout);
  t.ok(address, 'it prints its address and pid');
  const token = /Token \(also saved for this user, mode 0600\): ([0-9a-f]{64})/.exec(head.stdout)?.[1];
  t.ok(token, 'and the generated token');
  t.match(head.stdout, /TSRAY_TOKEN=[0-9a-f]{64} tsray start --address ws:\/\/\S+/, 'and how to join (the token by environment, not on a command line)');
  const local = address[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const port = /:(\d+)$/.exec(address[1])[1];
  const again = tsray(['start', '--head', '--port', port, '--num-cpus', '1', '--object-store-memory', String(64 * 2 ** 20)]);
  t.not(again.status, 0, 'a second head on the same port fails');
  t.match(again.stderr, new RegExp(`port ${port} is already in use .*choose another with --port, or stop it with \`tsray stop\``), 'and says why and what to do');

  const node = tsray(['start', '--address', local, '--num-cpus', '2', '--resources', '{"TPU": 2}', '--object-store-memory', String(64 * 2 ** 20)]);
  t.equal(node.status, 0, `a node joins with the token this machine saved ${node.stderr}`);
  const nodePid = Number(/\(pid (\d+)\)/.exec(node.stdout)[1]);

  const s = await until('two nodes', () => { const x = status(); return x.nodes.filter((n) => n.state === 'ALIVE').length === 2 && x; });
  t.equal(s.nodes.length, 2, 'two nodes');
  const total = (k) => s.nodes.reduce((a, n) => a + (n.resources[k] ?? 0), 0);
  t.equal(total('CPU'), 3, 'CPUs add up across nodes');
  t.equal(total('TPU'), 2, 'custom resources are reported');
  // --json is the documented schema, not the head's wire frame.
  t.equal(s.schema, 'tsray.status/1', 'status --json names its schema');
  t.notOk('t' in s || 'id' in s, 'no wire fields leak into it');
  t.ok(!Number.isNaN(Date.parse(s.time)), 'it carries its time');
  t.same(s.resources.total, { CPU: 3, TPU: 2, ...pick(s.resources.total, ['memory', 'object_store_memory', 'GPU']) }, 'cluster totals sum the live nodes');
  t.same(s.resources.used, Object.fromEntries(Object.keys(s.resources.total).map((k) => [k, s.resources.total[k] - s.resources.available[k]])), 'used is total less available');
  for (const n of s.nodes) {
    t.match(n, { nodeId: /^[0-9a-f]{16}$/, state: 'ALIVE', objectAddress: /^wss?:\/\//, lastSeenMs: Number }, `node ${n.nodeId} has the documented fields`);
    t.same(Object.keys(n.used).sort(), Object.keys(n.resources).sort(), 'with what it uses of each resource');
  }
  const text = tsray(['status']).stdout;
  t.match(text, /======== Cluster status: /);
  t.match(text, /Active:\n 1 node_[0-9a-f]{16} .*\n 1 node_[0-9a-f]{16} /);
  t.match(text, / 0\.0\/3\.0 CPU/, 'usage over total, cluster-wide');
  t.match(text, / 0\.0\/2\.0 TPU/);
  t.match(text, /Demands:\n \(no resource demands\)/);

  // A driver pointed at this machine's head by TSRAY_ADDRESS alone finds the saved token, as the CLI does.
  const script = `import * as tsray from 'tsray';
    await tsray.init();
    process.stdout.write(String(await tsray.get(tsray.put(41)) + 1));
    await tsray.shutdown();`;
  const driver = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...env, TSRAY_ADDRESS: local } });
  t.equal(driver.stdout, '42', `a driver with only TSRAY_ADDRESS connects (${driver.stderr.trim().split('\n').pop()})`);

  process.kill(nodePid, 'SIGKILL');
  const after = await until('the node to be seen dead', () => { const x = status(); return x.nodes.some((n) => n.state === 'DEAD') && x; });
  const dead = after.nodes.find((n) => n.state === 'DEAD');
  t.equal(dead.pid, nodePid, 'the killed node is DEAD');
  t.match(dead.cause, /connection closed/, 'with the reason');
  t.match(tsray(['status']).stdout, /Dead:\n 1 node_[0-9a-f]{16} .*connection closed/);
  t.match(tsray(['status']).stdout, / 0\.0\/1\.0 CPU/, 'its resources left the cluster totals');

  const stop = tsray(['stop']);
  t.equal(stop.status, 0);
  t.match(stop.stdout, /Stopped 1 tsray process/);
  t.notOk(alive(Number(address[2])), 'the head process is gone');
  t.match(tsray(['stop']).stdout, /No tsray processes were running/);
  const none = tsray(['status']);
  t.equal(none.status, 1, 'status without a head fails');
  t.match(none.stderr, /no head started on this machine/);
});

t.test('every command has --help; bad start arguments are refused', async (t) => {
  for (const c of ['start', 'stop', 'status']) {
    const h = tsray([c, '--help']);
    t.equal(h.status, 0, `${c} --help`);
    t.match(h.stdout, new RegExp(`Usage: tsray ${c}`));
  }
  t.match(tsray(['start', '--help']).stdout, /--head[\s\S]*--address[\s\S]*--port[\s\S]*--num-cpus[\s\S]*--num-gpus[\s\S]*--resources[\s\S]*--object-store-memory[\s\S]*--token/);
  const both = tsray(['start']);
  t.equal(both.status, 1);
  t.match(both.stderr, /exactly one of --head .* or --address/);
  const badRes = tsray(['start', '--head', '--resources', '{nope']);
  t.match(badRes.stderr, /--resources takes JSON/);
  const badAddr = tsray(['start', '--address', 'http://x:1', '--token', 'x']);
  t.match(badAddr.stderr, /ws:\/\/ or wss:\/\//);
});

t.test('authentication: a wrong or missing token is refused with AuthError and a close code; nothing is registered', async (t) => {
  const head = startBlocking(t, ['--head', '--port', '0', '--num-cpus', '1', '--token', 'sekrit-token'], /listening at (ws:\/\/\S+)/);
  const address = (await head.ready)[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const wrong = tsray(['status', '--address', address, '--token', 'wrong']);
  t.equal(wrong.status, 1);
  t.match(wrong.stderr, /error \[ERR_AUTH\]: the cluster at .* refused this connection: wrong or missing cluster token/);
  const right = status('--address', address, '--token', 'sekrit-token');
  t.equal(right.nodes.length, 1, 'the right token works');

  const ws = await raw(address);
  const gone = closed(ws);
  const frames = [];
  ws.on('message', (d) => frames.push(d));
  ws.send(encode({ t: 'hello', v: 1, role: 'node', token: 'wrong', node: { nodeId: 'evil', name: 'x', pid: 1, resources: { CPU: 99 } } }));
  const c = await gone;
  t.equal(c.code, 4001, 'closed with the auth code');
  t.match(String(frames.length), /1/, 'after one error frame');

  const ws2 = await raw(address);
  const gone2 = closed(ws2);
  ws2.send(encode({ t: 'hello', v: 99, role: 'cli', token: 'sekrit-token' }));
  t.equal((await gone2).code, 4002, 'another protocol version is refused');

  const ws3 = await raw(address);
  const gone3 = closed(ws3);
  ws3.send(encode({ t: 'status', id: 1 }));
  t.equal((await gone3).code, 4003, 'a request before hello closes the connection');

  const after = status('--address', address, '--token', 'sekrit-token');
  t.equal(after.nodes.length, 1, 'the refused node was never registered');
  t.notOk(after.nodes.some((n) => n.nodeId === 'evil'));

  const { TsrayError, AuthError } = await import('tsray');
  t.ok(new AuthError('x') instanceof TsrayError && new AuthError('x').code === 'ERR_AUTH', 'AuthError is exported with its code');
});

/**
 * Fires `FRAMES` random malformed frames at `address`, each on its own connection
 * (half of them after a good hello as `role`); returns the close codes seen.
 */
async function fuzz(address, role, token, extraKinds) {
  let seed = 4242;
  const rand = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => rand(256)));
  const kinds = [
    () => bytes(1 + rand(200)),                                   // garbage
    () => encode([1, 2, 3]),                                      // CBOR, not a map
    () => encode({ x: 1 }),                                       // a map without t
    () => encode({ t: 42 }),                                      // t not a string
    () => encode({ t: 'made-up', id: rand(9) }),                  // unknown frame
    () => 'a text frame',
    () => Buffer.concat([encode({ t: 'status', id: 1 }).subarray(0, 3)]), // truncated CBOR
    () => encode({ t: 'batch', frames: [{ t: 'batch', frames: [] }] }),  // a batch in a batch
    () => encode({ t: 'batch', frames: 5 }),                      // a batch of nothing
    ...extraKinds,
  ];
  const codes = new Map();
  const batch = 50;
  for (let i = 0; i < FRAMES; i += batch) {
    await Promise.all(Array.from({ length: batch }, async (_, k) => {
      const ws = await raw(address);
      const done = closed(ws);
      if (rand(2) === 1) ws.send(encode({ t: 'hello', v: 1, role, token }));
      ws.send(kinds[(i + k) % kinds.length](rand));
      const { code } = await done;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }));
  }
  return codes;
}

t.test(`${FRAMES} random malformed frames at the head, and at a node: each closes only its own connection`, async (t) => {
  const head = startBlocking(t, ['--head', '--port', '0', '--num-cpus', '1', '--token', 'tok'], /listening at (ws:\/\/\S+)/);
  const address = (await head.ready)[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const good = await raw(address);
  const goodFrames = [];
  good.on('message', (d) => goodFrames.push(d));
  good.send(encode({ t: 'hello', v: 1, role: 'cli', token: 'tok' }));
  await until('welcome', () => goodFrames.length > 0);

  const headCodes = await fuzz(address, 'cli', 'tok', [
    () => encode({ t: 'heartbeat', available: { CPU: 1 } }),      // a heartbeat from a non-node
    () => encode({ t: 'hello', v: 1, role: 'node', token: 'tok' }), // a node without its description
    () => encode({ t: 'hello', v: 1, role: 'root', token: 'tok' }), // unknown role
    () => encode({ t: 'submit', task: { taskId: 7 } }),           // a malformed task
  ]);
  const total = [...headCodes.values()].reduce((a, b) => a + b, 0);
  t.equal(total, FRAMES, `all ${FRAMES} connections were closed by the head`);
  t.ok([...headCodes.keys()].every((c) => c === 4003 || c === 4001), `each with the malformed (or auth) code: ${JSON.stringify([...headCodes])}`);
  t.equal(head.child.exitCode, null, 'the head did not crash');
  t.equal(good.readyState, WebSocket.OPEN, 'the good connection is still open');
  const replies = goodFrames.length;
  good.send(encode({ t: 'status', id: 7 }));
  await until('a status reply on the good connection', () => goodFrames.length > replies);
  const s = status('--address', address, '--token', 'tok');
  t.equal(s.nodes.filter((n) => n.state === 'ALIVE').length, 1, "the head's own node is still alive");

  // The node's own listening endpoint: its object server.
  const objectAddress = s.nodes[0].objectAddress.replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const nodeCodes = await fuzz(objectAddress, 'peer', 'tok', [
    () => encode({ t: 'pull', objectId: 5 }),                     // a pull without an id
    () => encode({ t: 'hello', v: 1, role: 'peer', token: 'nope' }), // a wrong token
  ]);
  t.equal([...nodeCodes.values()].reduce((a, b) => a + b, 0), FRAMES, `all ${FRAMES} connections to the node were closed`);
  t.ok([...nodeCodes.keys()].every((c) => c === 4003 || c === 4001), `each with the malformed (or auth) code: ${JSON.stringify([...nodeCodes])}`);
  const after = status('--address', address, '--token', 'tok');
  t.equal(after.nodes.filter((n) => n.state === 'ALIVE').length, 1, 'the node is still alive');
  const peer = await raw(objectAddress);
  const frames = [];
  // Frames sent in one turn travel as one `batch` message.
  peer.on('message', (d) => { const f = decode(d); frames.push(...(f.t === 'batch' ? f.frames : [f])); });
  peer.send(encode({ t: 'hello', v: 1, role: 'peer', token: 'tok' }));
  peer.send(encode({ t: 'pull', id: 1, objectId: 'ffffffff00000000ffff' }));
  await until('a pull reply', () => frames.length >= 2);
  t.match(frames.map((f) => f.t), ['welcome', 'pull-reply'], 'and its object server still answers a good puller');
  peer.close();
  good.close();
});

t.test('a node whose head dies says so, runs on and dials it again with backoff, and stops when it does not come back', async (t) => {
  const head = startBlocking(t, ['--head', '--port', '0', '--num-cpus', '1', '--token', 'tok2'], /listening at (ws:\/\/\S+)/);
  const address = (await head.ready)[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const node = startBlocking(t, ['--address', address, '--token', 'tok2', '--num-cpus', '1', '--rejoin-timeout-ms', '1500'], /tsray node ([0-9a-f]{16}) joined/);
  await node.ready;
  head.child.kill('SIGKILL');
  const code = await new Promise((resolve) => node.child.on('exit', resolve));
  t.equal(code, 1, 'the node exits with code 1');
  t.match(node.output().err, /the head at ws:\/\/127\.0\.0\.1:\d+ closed the connection .*; running on and reconnecting for up to 1500 ms/, 'and says why');
  t.match(node.output().err, /lost the head: .*it did not come back within 1500 ms; stopping this node/, 'and that it gave up');
});

t.test('a head killed and started again at its address takes its node back under its id (tables in a local file by default)', async (t) => {
  const port = await new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const args = ['--head', '--port', String(port), '--host', '127.0.0.1', '--num-cpus', '1', '--token', 'tok3'];
  const first = startBlocking(t, args, /listening at (ws:\/\/\S+)/);
  const address = (await first.ready)[1];
  const node = startBlocking(t, ['--address', address, '--token', 'tok3', '--num-cpus', '1'], /tsray node ([0-9a-f]{16}) joined/);
  const oldId = (await node.ready)[1];
  first.child.kill('SIGKILL');
  await until('the node to notice', () => /reconnecting for up to/.test(node.output().err));
  const second = startBlocking(t, args, /listening at (ws:\/\/\S+)/);
  await second.ready;
  t.match(second.output().out, /restored cluster \w+ from file \S+head-tables\/\d+\/tables\.log: 1 node\(s\)/, 'the new head finds the tables the old one left');
  const nodes = await until('the node to come back', () => {
    const status = spawnSync(process.execPath, [CLI, 'status', '--address', address, '--json'], { env: { ...env, TSRAY_TOKEN: 'tok3' }, encoding: 'utf8' });
    const alive = JSON.parse(status.stdout).nodes.filter((n) => n.state === 'ALIVE').map((n) => n.nodeId);
    return alive.includes(oldId) && alive;
  }, 15_000);
  t.equal(nodes.length, 2, `the new head lists it under its own id, beside its own new node (${nodes})`);
  t.equal(node.child.exitCode, null, 'the node process never stopped');
  // A head stopped cleanly ends its cluster: it leaves no tables behind.
  second.child.kill('SIGTERM');
  await new Promise((r) => second.child.on('exit', r));
  const third = startBlocking(t, args, /listening at (ws:\/\/\S+)/);
  await third.ready;
  t.notMatch(third.output().out, /restored cluster/, 'a head started after a clean stop begins a new cluster');
});

t.test('tsray start --head in the background, killed and started again without a token, keeps the cluster token: its node comes back', async (t) => {
  const port = await new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
  const head = ['start', '--head', '--port', String(port), '--host', '127.0.0.1', '--num-cpus', '1', '--no-dashboard'];
  const first = tsray(head);
  const token = /Token \(also saved for this user, mode 0600\): (\w+)/.exec(first.stdout)?.[1];
  const pid = Number(/\(pid (\d+)\)/.exec(first.stdout)?.[1]);
  t.ok(token && pid, `started (${first.stdout}${first.stderr})`);
  t.teardown(() => tsray(['stop', '--force']));
  const node = tsray(['start', '--address', `ws://127.0.0.1:${port}`, '--num-cpus', '1']);
  t.equal(node.status, 0, `a node joined (${node.stderr})`);
  const nodeId = await until('the node to be listed', () => status('--address', `ws://127.0.0.1:${port}`).nodes.find((n) => n.state === 'ALIVE' && !/head/.test(n.name) && n.pid !== pid)?.nodeId);
  process.kill(pid, 'SIGKILL');
  const again = tsray(head);
  t.equal(/Token \(also saved for this user, mode 0600\): (\w+)/.exec(again.stdout)?.[1], token, 'the head started again uses the token its tables kept');
  await until('the node to come back', () => {
    const n = status('--address', `ws://127.0.0.1:${port}`).nodes.find((x) => x.nodeId === nodeId);
    return n?.state === 'ALIVE' && n.cause === undefined;
  }, 20_000);
  t.pass('the node is back under its id');
});
