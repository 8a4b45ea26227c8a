// Ids and handles are capabilities, identities cannot be taken over, nodes dial
// only members, listeners bind where asked, and the token never reaches a command line.
import t from 'tap';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import * as tsray from 'tsray';
import { connect } from '../../dist/host/cluster/connect.js';
import { ObjectPuller } from '../../dist/host/cluster/object-transfer.js';
import { ObjectStore } from '../../dist/store/object-store.js';
import { REMOTE_ARG } from '../../dist/host/cluster/remote-arg.js';
import { CLI, ROOT, scratch, prebuilt } from '../helpers/components.mjs';
import { caught } from '../helpers/runtime.mjs';
import { MiB, fnv, isolatedEnv, start } from '../helpers/cluster.mjs';

const run = promisify(execFile);
const TOKEN = randomBytes(16).toString('hex');

/** A guest that makes up an actor handle from a string and calls `incr(1)` through it. */
async function forgerModule() {
  const dir = scratch({
    'w.wit': 'package demo:forge;\nworld forger {\n  include tsray:runtime/task;\n  export forge: func(id: string) -> s64;\n}\n',
    'g.ts': 'import { ActorHandle, CborWriter } from "tsray";\nexport function forge(id: string): i64 {\n  const h = new ActorHandle();\n  h.id = id;\n  return h.call("incr", new CborWriter().array(1).int(1)).int();\n}\n',
  });
  const r = await tsray.build({ entry: join(dir, 'g.ts'), wit: dir, world: 'forger' });
  return tsray.load(r.component);
}

/** Every process's command line on this machine that contains `s`. */
function cmdlinesWith(s) {
  const out = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try { if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(s)) out.push(pid); } catch { /* gone */ }
  }
  return out;
}

/** A raw connection in `role`; frames after the welcome land in `frames`. */
async function raw(address, role, about) {
  const frames = [];
  const waiters = [];
  const c = await connect(address, TOKEN, role, { onFrame: (f) => { frames.push(f); for (const w of waiters.splice(0)) w(); } }, about);
  const next = async (pred) => {
    for (;;) {
      const f = frames.find(pred);
      if (f) return f;
      await new Promise((r) => waiters.push(r));
    }
  };
  return { ...c, frames, next };
}

t.test('ids are 128 random bits; a guest calls only the actors it was given (embedded)', async (t) => {
  const [counter, client, forge] = await Promise.all([prebuilt('counter').then(tsray.load), prebuilt('counter-client').then(tsray.load), forgerModule()]);
  await tsray.init({ numCpus: 2, spillDir: mkdtempSync(join(tmpdir(), 'tsray-security-')) });
  t.teardown(() => tsray.shutdown());
  const refs = Array.from({ length: 64 }, (_, i) => tsray.put(i));
  t.ok(refs.every((r) => /^[0-9a-f]{32}$/.test(r.id)), 'object ids are 32 hex digits');
  t.ok(new Set(refs.map((r) => r.id.slice(0, 8))).size > 60, 'ids share no per-process prefix');
  const c = counter.actor('counter').remote(0n);
  t.match(c.id, /^[0-9a-f]{32}$/, 'an actor id too');

  t.equal(await tsray.get(client.fn('bump').remote(c, 1)), 1n, 'a task given the handle calls the actor');
  const e = await caught(t, () => tsray.get(forge.fn('forge').remote(c.id)));
  t.ok(e instanceof tsray.TaskError, `a made-up handle fails the task (got ${e?.constructor?.name})`);
  t.match(e.message, /ERR_NOT_GIVEN.*not passed to this task/);
  t.equal(await tsray.get(c.get.remote()), 1n, 'the actor was not reached');
});

t.test('a cluster: token off command lines, node identity, members-only dialing, object and handle isolation', async (t) => {
  const [counter, blobs, forge] = await Promise.all([prebuilt('counter').then(tsray.load), prebuilt('blobs').then(tsray.load), forgerModule()]);
  const env = { ...isolatedEnv('security'), TSRAY_TOKEN: TOKEN };
  // In the background `tsray start` launches itself again: the token must not go into that command line.
  const head = await run(process.execPath, [CLI, 'start', '--head', '--port', '0', '--num-cpus', '1', '--object-store-memory', String(256 * MiB)], { cwd: ROOT, env });
  t.teardown(() => run(process.execPath, [CLI, 'stop', '--force'], { cwd: ROOT, env }).catch(() => undefined));
  const address = /at (ws:\/\/\S+) \(pid/.exec(head.stdout)[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  t.match(head.stdout, `TSRAY_TOKEN=${TOKEN} tsray start --address`, 'the printed join command passes the token by environment');
  const tokenFile = join(env.TMPDIR, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const joined = start(t, { ...env, TSRAY_TOKEN: '' }, ['--address', address, '--token-file', tokenFile, '--num-cpus', '1', '--object-store-memory', String(256 * MiB)], /tsray node ([0-9a-f]{16}) joined/);
  const nodeId = (await joined.ready)[1];
  t.strictSame(cmdlinesWith(TOKEN), [], 'no process on this machine has the token on its command line');

  // A second hello with a live node's id is refused; the node keeps its work.
  const dup = await connect(address, TOKEN, 'node', {}, { node: { nodeId, name: 'impostor', pid: 1, resources: { CPU: 8 }, objectAddress: 'ws://127.0.0.1:1' } }).catch((e) => e);
  t.ok(dup instanceof tsray.ConnectionError, `a duplicate node id is refused (got ${dup?.constructor?.name})`);
  t.match(dup.message, /already in this cluster/);

  await tsray.init({ address, token: TOKEN, spillDir: mkdtempSync(join(env.TMPDIR, 'spill-')) });
  t.teardown(() => tsray.shutdown());
  const big = blobs.fn('fill').remote(2 * MiB, 7);
  const sum = await tsray.get(blobs.fn('checksum').remote(big));
  const status = await raw(address, 'cli');
  t.teardown(() => status.peer.close());
  status.peer.send({ t: 'status', id: 1 });
  const nodes = (await status.next((f) => f.t === 'status-reply')).nodes;

  // Another driver: it can neither free nor pull the first driver's objects, whose ids it guesses right.
  const other = await raw(address, 'driver');
  t.teardown(() => other.peer.close());
  for (const n of nodes) other.peer.send({ t: 'free', nodeId: n.nodeId, objectIds: [big.id] });
  const pullerStore = new ObjectStore({ nodeId: 'thief00000000000', capacity: 64 * MiB, spillDir: mkdtempSync(join(env.TMPDIR, 'thief-')), spillThreshold: 1, minSpillBytes: 2 ** 30, localFsCapacityThreshold: 1, recordTaskCallSites: false });
  const puller = new ObjectPuller(pullerStore, TOKEN);
  t.teardown(() => { puller.close(); pullerStore.close(); });
  const stolen = await Promise.all(nodes.map((n) => puller.pull({ nodeId: n.nodeId, address: n.objectAddress, objectId: big.id, size: 2 * MiB }).then(() => 'pulled', (e) => e.message)));
  for (const m of stolen) t.match(m, /not passed to this puller/, 'a pull without the location\'s key is refused');
  t.equal(await tsray.get(blobs.fn('checksum').remote(big)), sum, 'the object survived the other driver\'s free');

  // A forged remote argument: the head refuses it, and nothing dials the address it names.
  let dialed = 0;
  const trap = createServer((s) => { dialed++; s.destroy(); });
  await new Promise((r) => trap.listen(0, '127.0.0.1', r));
  t.teardown(() => trap.close());
  const hash = (await prebuilt('blobs').then(tsray.load)).hash;
  other.peer.send({ t: 'component', hash, bytes: await prebuilt('blobs') });
  const marker = { [REMOTE_ARG]: { nodeId, address: `ws://127.0.0.1:${trap.address().port}`, objectId: big.id, size: 10 } };
  other.peer.send({ t: 'submit', task: { taskId: 'forged-1', hash, name: 'size', fn: 'size', args: [marker], opts: { request: { CPU: 1 }, shape: 'CPU:1', maxRetries: 0, numReturns: 1 } } });
  const refused = await other.next((f) => f.t === 'result' && f.taskId === 'forged-1');
  t.equal(refused.error?.code, 'ERR_NOT_GIVEN', 'a remote argument naming a non-member is refused');
  t.equal(dialed, 0, 'no node dialed the forged address');

  // Handles: a guest on a node, and a node itself, call only the actors they were given.
  const c = counter.actor('counter').remote(0n);
  t.equal(await tsray.get(c.incr.remote(1n)), 1n);
  const forged = await caught(t, () => tsray.get(forge.fn('forge').remote(c.id)));
  t.match(forged?.message, /ERR_NOT_GIVEN/, 'a guest on a node cannot call an actor by a made-up handle');
  other.peer.send({ t: 'actor-call', actorId: c.id, callId: 'other-1', method: 'incr', args: [5n], numReturns: 1 });
  const notMine = await other.next((f) => f.t === 'result' && f.taskId === 'other-1');
  t.equal(notMine.error?.code, 'ERR_NOT_GIVEN', "a driver cannot call another driver's actor");
  const rogue = await raw(address, 'node', { node: { nodeId: 'f'.repeat(16), name: 'rogue', pid: 1, resources: {}, objectAddress: 'ws://127.0.0.1:1' } });
  t.teardown(() => rogue.peer.close());
  rogue.peer.send({ t: 'actor-call', actorId: c.id, callId: 'rogue-1', method: 'incr', args: [5n], numReturns: 1 });
  const no = await rogue.next((f) => f.t === 'result' && f.taskId === 'rogue-1');
  t.equal(no.error?.code, 'ERR_NOT_GIVEN', 'a node calls only actors whose handles were sent to it');
  t.equal(await tsray.get(c.get.remote()), 1n, 'the actor was not reached');
});

t.test('--host binds the head and its node there only', async (t) => {
  const env = { ...isolatedEnv('security-host'), TSRAY_TOKEN: TOKEN };
  const head = start(t, env, ['--head', '--port', '0', '--host', '127.0.0.2', '--num-cpus', '1', '--object-store-memory', String(64 * MiB)], /listening at (ws:\/\/\S+)/);
  const address = (await head.ready)[1];
  t.match(address, /^ws:\/\/127\.0\.0\.2:\d+$/, 'the head starts on 127.0.0.2 and says so');
  const s = await raw(address, 'cli');
  t.teardown(() => s.peer.close());
  s.peer.send({ t: 'status', id: 1 });
  const [own] = (await s.next((f) => f.t === 'status-reply')).nodes;
  t.match(own.objectAddress, /^ws:\/\/127\.0\.0\.2:\d+$/, 'its node\'s object server is on the same interface');
  const port = new URL(own.objectAddress).port;
  const elsewhere = await connect(`ws://127.0.0.1:${port}`, TOKEN, 'peer').catch((e) => e);
  t.match(elsewhere?.message, /ECONNREFUSED/, 'and not on 127.0.0.1');
  const headElsewhere = await connect(`ws://127.0.0.1:${new URL(address).port}`, TOKEN, 'cli').catch((e) => e);
  t.match(headElsewhere?.message, /ECONNREFUSED/, 'nor is the head');
});

t.test('TLS: wss:// head and object servers, checked against the CA; plain and unchecked connections fail', async (t) => {
  const env = { ...isolatedEnv('security-tls'), TSRAY_TOKEN: TOKEN };
  const cert = join(env.TMPDIR, 'cert.pem');
  const key = join(env.TMPDIR, 'key.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=tsray-test', '-addext', 'subjectAltName=IP:127.0.0.1']);
  const tlsArgs = ['--tls-cert', cert, '--tls-key', key, '--tls-ca', cert];
  const head = start(t, env, ['--head', '--port', '0', '--host', '127.0.0.1', '--num-cpus', '1', '--object-store-memory', String(256 * MiB), '--tls-cert', cert, '--tls-key', key], /listening at (wss:\/\/\S+)/);
  const address = (await head.ready)[1];
  t.match(address, /^wss:\/\/127\.0\.0\.1:\d+$/, 'the head listens with TLS');

  const bare = await run(process.execPath, [CLI, 'start', '--address', address, '--tls-ca', cert], { cwd: ROOT, env }).catch((e) => e);
  t.match(bare.stderr, /TLS cluster.*needs a certificate and key/, 'a node without a certificate for its object server is refused up front');
  const joined = start(t, env, ['--address', address, '--num-cpus', '1', '--object-store-memory', String(256 * MiB), ...tlsArgs], /tsray node ([0-9a-f]{16}) joined/);
  await joined.ready;

  const unchecked = await tsray.init({ address, token: TOKEN, tlsCert: cert, tlsKey: key, spillDir: mkdtempSync(join(env.TMPDIR, 'spill-')) }).catch((e) => e);
  t.ok(unchecked instanceof tsray.ConnectionError, `a driver that does not trust the certificate cannot connect (got ${unchecked?.constructor?.name})`);
  t.match(unchecked.message, /--tls-ca, init\(\{ tlsCa \}\) or NODE_EXTRA_CA_CERTS/);
  const plain = await connect(address.replace('wss:', 'ws:'), TOKEN, 'cli').catch((e) => e);
  t.ok(plain instanceof tsray.ConnectionError, 'plain ws:// to a TLS head fails');

  await tsray.init({ address, token: TOKEN, tlsCa: cert, tlsCert: cert, tlsKey: key, spillDir: mkdtempSync(join(env.TMPDIR, 'spill-')) });
  t.teardown(() => tsray.shutdown());
  const blobs = await prebuilt('blobs').then(tsray.load);
  const data = new Uint8Array(3 * MiB).map((_, i) => i * 7);
  const put = tsray.put(data);
  t.equal(await tsray.get(blobs.fn('size').remote(put)), 3 * MiB, "a node pulls the driver's put from its wss:// object server");
  const made = blobs.fn('fill').remote(2 * MiB, 3);
  const back = await tsray.get(made);
  t.equal(back.length, 2 * MiB, "the driver pulls a node's result over wss://");
  t.equal(await tsray.get(blobs.fn('checksum').remote(made)), fnv(back), 'byte-identical');

  const cli = JSON.parse((await run(process.execPath, [CLI, 'status', '--address', address, '--tls-ca', cert, '--json'], { cwd: ROOT, env })).stdout);
  t.equal(cli.nodes.length, 2, 'tsray status reaches a wss:// head with --tls-ca');
  const s = await connect(address, TOKEN, 'cli', {}, {}, { ca: readFileSync(cert) });
  t.teardown(() => s.peer.close());
  const reply = await s.peer.request({ t: 'status', id: 0 });
  t.ok(reply.nodes.length === 2 && reply.nodes.every((n) => n.objectAddress.startsWith('wss://127.0.0.1:')), 'every object server speaks wss://');
  const plainObjects = await connect(reply.nodes[0].objectAddress.replace('wss:', 'ws:'), TOKEN, 'peer').catch((e) => e);
  t.ok(plainObjects instanceof tsray.ConnectionError, 'and refuses plain ws://');
});
