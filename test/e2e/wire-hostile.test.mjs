// Hostile frames at a real head (a child process with its own node): each ends in a typed error or a closed
// connection, and the head keeps serving. Before authentication a connection is small, bounded and timed.
import t from 'tap';
import { connect as tcp } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tsray from 'tsray';
import { isolatedEnv } from '../helpers/cluster.mjs';
import { ROOT } from '../helpers/components.mjs';
import { authed, encode, open, resultOf, rssOf, startHead, submitFrame, textComponent, until, wireOptions } from '../helpers/raw-wire.mjs';

const TOKEN = 'wire-hostile-token';
const env = isolatedEnv('wire-hostile');
const text = textComponent();
const MiB = 2 ** 20;

const head = await startHead(t, env, TOKEN);

/** The head still runs a task for a real driver, through the public API. */
async function serves(t) {
  t.equal(head.child.exitCode, null, 'the head process is alive');
  const ws = await authed(head.address, TOKEN, 'driver');
  ws.send(encode({ t: 'component', hash: text.hash, bytes: text.bytes }));
  const id = `ok-${randomBytes(4).toString('hex')}`;
  ws.send(encode(submitFrame(text.hash, id, { args: ['again'] })));
  const r = await resultOf(ws, id, 20_000);
  t.same(r.returns, [{ value: 'Hello, again!' }], 'and still runs a task for a driver');
  ws.close();
}

/** A raw driver connection that already sent the text component. */
async function driver() {
  const ws = await authed(head.address, TOKEN, 'driver');
  ws.send(encode({ t: 'component', hash: text.hash, bytes: text.bytes }));
  return ws;
}

t.test('a task argument whose CBOR refers to itself closes only that connection', async (t) => {
  const ws = await driver();
  // Tag 28 marks an array shareable; tag 29 (reference 0) inside it is the array itself.
  const selfRef = Buffer.from([0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00]);
  const placeholder = encode('PLACEHOLDER');
  const frame = Buffer.from(encode(submitFrame(text.hash, 'cyclic', { args: ['PLACEHOLDER'] })));
  const at = frame.indexOf(placeholder);
  ws.send(Buffer.concat([frame.subarray(0, at), selfRef, frame.subarray(at + placeholder.length)]));
  const c = await ws.closed;
  t.equal(c.code, 4003, 'closed as malformed');
  t.match(c.reason, /tag 28 is not accepted/, 'naming the refused tag');
  // Sharing without a cycle (one array referenced many times) and CBOR nested 10,000 deep are refused alike.
  for (const [what, bytes] of [
    ['a shared array referenced twice', Buffer.from([0x82, 0xd8, 0x1c, 0x81, 0x00, 0xd8, 0x1d, 0x00])],
    ['10,000 nested arrays', Buffer.concat([Buffer.alloc(10_000, 0x81), Buffer.from([0x00])])],
  ]) {
    const w = await driver();
    const f = Buffer.from(encode(submitFrame(text.hash, 'x', { args: ['PLACEHOLDER'] })));
    const i = f.indexOf(placeholder);
    w.send(Buffer.concat([f.subarray(0, i), bytes, f.subarray(i + placeholder.length)]));
    t.equal((await w.closed).code, 4003, `${what}: closed as malformed`);
  }
  await serves(t);
});

t.test('options from the wire obey the public API rules: maxMemoryMb 1e9 and numReturns 5e7 fail only their task', async (t) => {
  const ws = await driver();
  const rss = rssOf(head.pid);
  ws.send(encode(submitFrame(text.hash, 'mem', { opts: wireOptions({ maxMemoryMb: 1e9 }) })));
  ws.send(encode(submitFrame(text.hash, 'ret', { opts: wireOptions({ numReturns: 5e7 }) })));
  ws.send(encode(submitFrame(text.hash, 'neg', { opts: wireOptions({ numCpus: -1 }) })));
  ws.send(encode(submitFrame(text.hash, 'args', { args: [42] })));
  const mem = await resultOf(ws, 'mem');
  t.equal(mem.ok, false);
  t.equal(mem.error.code, 'ERR_INVALID_ARGUMENT', 'maxMemoryMb 1e9: InvalidArgumentError');
  t.match(mem.error.message, /maxMemoryMb cannot exceed 4096/, 'with the public API\'s message');
  const ret = await resultOf(ws, 'ret');
  t.equal(ret.error?.code, 'ERR_INVALID_ARGUMENT', 'numReturns 5e7: InvalidArgumentError');
  t.match(ret.error?.message, /numReturns is 50000000, but its result is string/, 'checked against the WIT result before any ref is made');
  t.equal((await resultOf(ws, 'neg')).error?.code, 'ERR_INVALID_ARGUMENT', 'a negative CPU request: InvalidArgumentError');
  t.equal((await resultOf(ws, 'args')).error?.code, 'ERR_ARGUMENT_TYPE', 'an argument of the wrong WIT type: ArgumentTypeError');
  t.ok(rssOf(head.pid) - rss < 64 * MiB, `the head grew by ${((rssOf(head.pid) - rss) / MiB).toFixed(1)} MiB`);
  t.equal(ws.readyState, ws.OPEN, 'the driver\'s connection stays open');
  ws.close();
  await serves(t);
});

t.test('a node that lies about its GPUs is refused at hello, or closed at the heartbeat', async (t) => {
  const device = (over = {}) => ({ nodeId: 'x', id: 0, backend: 'webgpu', vendor: 'v', architecture: 'a', description: 'd', shaderF16: false, memoryBytes: MiB, usedBytes: 0, ...over });
  const hello = (devices) => ({ node: { nodeId: randomBytes(8).toString('hex'), name: 'gpu-liar', pid: 1, resources: { CPU: 0 }, objectAddress: 'ws://127.0.0.1:9', devices } });
  for (const [why, devices] of [
    ['300 devices', Array.from({ length: 300 }, (_, id) => device({ id }))],
    ['a 1,000-character description', [device({ description: 'x'.repeat(1000) })]],
    ['a backend tsray has not', [device({ backend: 'cuda' })]],
    ['negative memory', [device({ memoryBytes: -1 })]],
  ]) {
    await t.rejects(authed(head.address, TOKEN, 'node', hello(devices)), /refused: 4003/, why);
  }
  const node = await authed(head.address, TOKEN, 'node', hello([device()]));
  node.send(encode({ t: 'heartbeat', available: { CPU: 0 }, deviceUsed: ['lots'] }));
  t.equal((await node.closed).code, 4003, 'a heartbeat with device use that is not byte counts closes the node');
  await serves(t);
});

t.test('a node answering with the wrong number of returns fails only that task; a malformed answer closes only that node', async (t) => {
  const nodeId = randomBytes(8).toString('hex');
  const node = await authed(head.address, TOKEN, 'node', {
    node: { nodeId, name: 'liar', pid: 1, resources: { CPU: 0, LIAR: 1 }, objectAddress: 'ws://127.0.0.1:9' },
  });
  const ws = await driver();
  const opts = wireOptions({ numCpus: 0, resources: { LIAR: 1 } });
  ws.send(encode(submitFrame(text.hash, 'three', { opts })));
  const run = await until('a run frame at the lying node', () => node.frames.find((f) => f.t === 'run' && f.task.taskId === 'three'));
  node.send(encode({ t: 'result', taskId: run.task.taskId, ok: true, returns: [{ value: 1 }, { value: 2 }, { value: 3 }] }));
  const r = await resultOf(ws, 'three');
  t.equal(r.ok, false, 'three returns for a task of one fail it');
  t.equal(r.error.code, 'ERR_CONNECTION');
  t.match(r.error.message, /with 3 results where 1 were asked/);

  ws.send(encode(submitFrame(text.hash, 'garbage', { opts })));
  await until('the second run frame', () => node.frames.some((f) => f.t === 'run' && f.task.taskId === 'garbage'));
  node.send(encode({ t: 'result', taskId: 'garbage', ok: true, returns: 5 }));
  const c = await node.closed;
  t.equal(c.code, 4003, 'returns that are not a list close the node\'s connection as malformed');
  // The node is dead now: its task fails as lost (maxRetries 0), and the driver hears of it.
  const lost = await resultOf(ws, 'garbage');
  t.equal(lost.error?.code, 'ERR_WORKER_CRASHED', 'the task it held fails as lost');
  ws.close();
  await serves(t);
});

t.test('before hello: a 64 MiB frame is cut off after a few KiB, without growing the head', async (t) => {
  const rss = rssOf(head.pid);
  const big = Buffer.alloc(64 * MiB, 7);
  // One after another: a client masks each 64 MiB frame before it sends it, which takes a while here.
  const codes = [];
  let slowest = 0;
  for (let i = 0; i < 8; i++) {
    const ws = await open(head.address);
    ws.send(big);
    const sent = Date.now();
    codes.push((await ws.closed).code);
    slowest = Math.max(slowest, Date.now() - sent);
  }
  t.same(codes, Array(8).fill(1006), 'each connection is destroyed (no close handshake that would keep reading)');
  const grew = rssOf(head.pid) - rss;
  t.ok(grew < 48 * MiB, `8 x 64 MiB before hello grew the head by ${(grew / MiB).toFixed(1)} MiB (unchecked: hundreds)`);
  t.ok(slowest < 4000, `each cut off well before the hello timeout (slowest ${slowest} ms)`);
  await serves(t);
});

t.test('before hello: at most 64 connections wait at once; more are refused with 4007', async (t) => {
  const waiting = await Promise.all(Array.from({ length: 64 }, () => open(head.address)));
  const extra = await Promise.all(Array.from({ length: 8 }, async () => (await open(head.address)).closed));
  t.same(extra.map((c) => c.code), Array(8).fill(4007), 'the 65th and later are refused as busy');
  t.match(extra[0].reason, /waiting for their hello/);
  for (const ws of waiting) ws.close();
  await Promise.all(waiting.map((ws) => ws.closed));
  await new Promise((r) => setTimeout(r, 300)); // the head counts them gone when their sockets close on its side
  await serves(t);
});

t.test('before hello: a silent connection is closed with 4004 after 5 s, and one that ignores the close is cut off', async (t) => {
  const started = Date.now();
  const quiet = await open(head.address);
  // A raw TCP client that completes the upgrade and then never answers anything.
  const u = new URL(head.address);
  const sock = tcp(Number(u.port), u.hostname);
  let response = '';
  sock.on('data', (d) => { response += d.toString('latin1'); });
  sock.write(`GET / HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  sock.pause();
  const sockClosed = new Promise((r) => sock.once('close', () => r(Date.now() - started)));
  sock.on('error', () => {});
  setTimeout(() => sock.resume(), 100);
  const c = await quiet.closed;
  t.equal(c.code, 4004, 'the silent client gets the handshake-timeout code');
  t.match(c.reason, /no hello within 5000 ms/);
  const elapsed = Date.now() - started;
  t.ok(elapsed >= 4500 && elapsed < 9000, `after about 5 s (${elapsed} ms)`);
  const cut = await sockClosed;
  t.match(response, /^HTTP\/1.1 101/, 'the raw client was upgraded');
  t.ok(cut < 9000, `the client that never answers the close is cut off too (${cut} ms)`);
  await serves(t);
});

t.test('a driver through the public API still works against this head', async (t) => {
  await tsray.init({ address: head.address, token: TOKEN, spillDir: mkdtempSync(join(tmpdir(), 'wire-hostile-spill-')) });
  t.teardown(() => tsray.shutdown());
  const mod = await tsray.load(`${ROOT}/build/text.wasm`);
  t.equal(await tsray.get(mod.fn('greet').remote('api')), 'Hello, api!');
});

t.test('fused-task fields from the wire: a malformed chain closes the connection; a chain that does not fit its functions is a typed error', async (t) => {
  for (const bad of [{ then: 'x' }, { then: [{ hash: 1 }] }, { then: Array.from({ length: 65 }, () => ({ hash: text.hash, name: 'greet', fn: 'greet', args: [] })) }, { each: { rows: 'all' } }, { each: { batch: 0 } }]) {
    const ws = await driver();
    const f = submitFrame(text.hash, `bad-${randomBytes(4).toString('hex')}`);
    Object.assign(f.task, bad);
    ws.send(encode(f));
    const c = await ws.closed;
    t.equal(c.code, 4003, `${JSON.stringify(bad).slice(0, 60)} closes with the malformed code`);
  }
  const ws = await driver();
  const id = `chain-${randomBytes(4).toString('hex')}`;
  // greet takes one string: it cannot take the value before it and one more argument.
  const f = submitFrame(text.hash, id);
  f.task.then = [{ hash: text.hash, name: 'greet', fn: 'greet', args: ['extra'] }];
  ws.send(encode(f));
  const r = await resultOf(ws, id, 20_000);
  t.match(r, { ok: false, error: { code: 'ERR_ARGUMENT_TYPE', message: /cannot follow in a fused task/ } });
  const ok = `chain-ok-${randomBytes(4).toString('hex')}`;
  const g = submitFrame(text.hash, ok, { args: ['a'] });
  g.task.then = [{ hash: text.hash, name: 'greet', fn: 'greet', args: [] }];
  ws.send(encode(g));
  t.same((await resultOf(ws, ok, 20_000)).returns, [{ value: 'Hello, Hello, a!!' }], 'a well-formed chain runs its functions in order on the node');
  ws.close();
  await serves(t);
});

t.test('coming back uninvited: a malformed resume closes the connection; a resume the head cannot honour is told so and closed', async (t) => {
  const raw = async (hello) => {
    const ws = await open(head.address);
    ws.send(encode({ t: 'hello', v: 1, token: TOKEN, ...hello }));
    return { ws, closed: await ws.closed };
  };
  const node = { nodeId: 'f00dfeedf00dfeed', name: 'x', pid: 1, resources: { CPU: 1 }, objectAddress: 'ws://127.0.0.1:1' };
  for (const [what, resume] of [
    ['running ids that are not strings', { running: [1, 2] }],
    ['holds that are not lists', { holds: { n: 'x' } }],
    ['a resume that is not a map', 'yes'],
  ]) {
    const { closed } = await raw({ role: 'driver', objects: { storeId: `d-${randomBytes(4).toString('hex')}`, address: 'ws://127.0.0.1:1' }, resume });
    t.equal(closed.code, 4003, `${what}: closed as malformed`);
  }
  // This head never restarted: it waits for nobody, so a driver or node that says it comes back is a stranger.
  const d = await raw({ role: 'driver', objects: { storeId: `d-${randomBytes(4).toString('hex')}`, address: 'ws://127.0.0.1:1' }, resume: { holds: {} } });
  const dw = d.ws.frames.find((f) => f.t === 'welcome');
  t.ok(dw && !dw.resumed, 'a driver is welcomed without resumed');
  t.equal(d.closed.code, 1000, 'and closed');
  const n = await raw({ role: 'node', node, resume: { running: ['t1'], actors: ['a1'] } });
  t.notOk(n.ws.frames.find((f) => f.t === 'welcome')?.resumed, 'an unknown node is not taken back');
  t.equal(n.closed.code, 1000);
  const status = await tsray.init({ address: head.address, token: TOKEN }).then(() => tsray.state.listNodes()).finally(() => tsray.shutdown());
  t.notOk(status.some((x) => x.nodeId === node.nodeId), 'and never becomes a node');
  // A peer that knows a live node's id (every driver does) but not the key the head gave that node cannot take it over.
  const live = status.find((x) => x.state === 'ALIVE');
  const impostor = await raw({ role: 'node', node: { ...node, nodeId: live.nodeId }, resume: { key: 'ab'.repeat(24), running: [] } });
  t.notOk(impostor.ws.frames.find((f) => f.t === 'welcome')?.resumed, 'a resume with a live node\'s id and a made-up key is refused');
  const after = await tsray.init({ address: head.address, token: TOKEN }).then(() => tsray.state.listNodes()).finally(() => tsray.shutdown());
  t.ok(after.some((x) => x.nodeId === live.nodeId && x.state === 'ALIVE'), 'and the node keeps its connection and its work');
  await serves(t);
});
