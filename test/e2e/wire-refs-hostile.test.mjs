// Hostile object refs on the wire (refs passed as values between nodes, and nodes that submit
// tasks): each ends in a typed error or a closed connection, at a real head, and the head keeps serving.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import * as tsray from 'tsray';
import { isolatedEnv } from '../helpers/cluster.mjs';
import { caught } from '../helpers/runtime.mjs';
import { ROOT } from '../helpers/components.mjs';
import { authed, encode, resultOf, startHead, submitFrame, textComponent, until, wireOptions } from '../helpers/raw-wire.mjs';

const TOKEN = 'wire-refs-token';
const env = isolatedEnv('wire-refs-hostile');
const text = textComponent();
const REF_MARK = '\u0000tsray:ref';
const head = await startHead(t, env, TOKEN);

async function driver() {
  const ws = await authed(head.address, TOKEN, 'driver');
  ws.send(encode({ t: 'component', hash: text.hash, bytes: text.bytes }));
  return ws;
}

/** A raw node offering resource LIAR, which only it has. */
async function liar(name) {
  const nodeId = randomBytes(8).toString('hex');
  const objectAddress = `ws://127.0.0.1:${1000 + Math.floor(Math.random() * 1000)}`;
  const ws = await authed(head.address, TOKEN, 'node', { node: { nodeId, name, pid: 1, resources: { CPU: 0, LIAR: 1 }, objectAddress } });
  return { ws, nodeId, objectAddress };
}

const liarOpts = wireOptions({ numCpus: 0, resources: { LIAR: 1 } });

t.test('refs a driver passes must name members of the cluster, in a well-formed list', async (t) => {
  const ws = await driver();
  const evil = { nodeId: 'f'.repeat(16), address: 'ws://203.0.113.9:1', objectId: 'a'.repeat(32), size: 10 };
  ws.send(encode({ ...submitFrame(text.hash, 'evil-ref'), task: { ...submitFrame(text.hash, 'evil-ref').task, refs: [{ id: 'x', at: evil }] } }));
  const r = await resultOf(ws, 'evil-ref');
  t.equal(r.error?.code, 'ERR_NOT_GIVEN', 'a ref at an object server outside the cluster fails its task: no node dials it');

  ws.send(encode({ ...submitFrame(text.hash, 'bad-refs'), task: { ...submitFrame(text.hash, 'bad-refs').task, refs: 'not a list' } }));
  t.equal((await ws.closed).code, 4003, 'refs that are not a list close the connection as malformed');

  const ws2 = await driver();
  ws2.send(encode({ ...submitFrame(text.hash, 'bad-entry'), task: { ...submitFrame(text.hash, 'bad-entry').task, refs: [{ id: 7, value: 1 }] } }));
  t.equal((await ws2.closed).code, 4003, 'a ref entry of the wrong shape closes the connection as malformed');
});

t.test('a node that answers with refs it does not hold is closed; a result that marks refs it did not send fails typed', async (t) => {
  const a = await liar('liar-a');
  const ws = await driver();
  ws.send(encode(submitFrame(text.hash, 'elsewhere', { opts: liarOpts })));
  await until('the run at the lying node', () => a.ws.frames.some((f) => f.t === 'run' && f.task.taskId === 'elsewhere'));
  const other = { nodeId: 'e'.repeat(16), address: 'ws://127.0.0.1:2', objectId: 'b'.repeat(32), size: 10 };
  a.ws.send(encode({ t: 'result', taskId: 'elsewhere', ok: true, returns: [{ value: { [REF_MARK]: 0 }, refs: [{ at: other }] }] }));
  t.equal((await a.ws.closed).code, 4003, 'a returned ref left on another node closes the node as malformed');
  const lost = await resultOf(ws, 'elsewhere');
  t.equal(lost.error?.code, 'ERR_CONNECTION', 'its task fails with the reason, not left waiting');
  t.match(lost.error?.message, /objects it does not hold/);
  ws.close();

  // The public API's driver meets a mark out of range as a typed error on its get, not a crash or a wrong value.
  const b = await liar('liar-b');
  await tsray.init({ address: head.address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const textFns = await tsray.load(`${ROOT}/build/text.wasm`);
  const ref = textFns.fn('greet').options({ numCpus: 0, resources: { LIAR: 1 } }).remote('x');
  const run = await until('the run at the second lying node', () => b.ws.frames.find((f) => f.t === 'run'));
  b.ws.send(encode({ t: 'result', taskId: run.task.taskId, ok: true, returns: [{ value: { [REF_MARK]: 5 }, refs: [{ value: 'one' }] }] }));
  const e = await caught(t, () => tsray.get(ref));
  t.equal(e?.code, 'ERR_RUNTIME_STATE', 'a mark without its ref fails the result typed');
  t.match(e?.message, /marks an object ref it did not send/);
  t.equal(await tsray.get(textFns.fn('greet').remote('still')), 'Hello, still!', 'the driver and the head keep serving');
});

t.test('a node may submit tasks, frees only what it owns, and emits only for its own tasks', async (t) => {
  const n = await liar('submitter');
  const id = `from-node-${randomBytes(4).toString('hex')}`;
  n.ws.send(encode(submitFrame(text.hash, id, { args: ['node'] })));
  const r = await resultOf(n.ws, id, 20_000);
  t.same(r.returns, [{ value: 'Hello, node!' }], 'a task a node submits runs where the head places it and answers that node');
  n.ws.send(encode({ t: 'free', nodeId: 'd'.repeat(16), objectIds: ['c'.repeat(32)] }));
  n.ws.send(encode({ t: 'free', nodeId: 'd'.repeat(16), objectIds: 'nope' }));
  t.equal((await n.ws.closed).code, 4003, 'a malformed free closes the node; one for objects it does not own did nothing');

  const ws = await driver();
  ws.send(encode({ t: 'emit', taskId: 'nobody', index: 0, value: { value: 1 } }));
  t.equal((await ws.closed).code, 4003, 'a driver that emits stream values is closed: only nodes emit');
  const m = await liar('emitter');
  m.ws.send(encode({ t: 'emit', taskId: 'not-mine', index: 0, value: { value: 1 } }));
  m.ws.send(encode({ t: 'emit', taskId: 'x', index: -1, value: { value: 1 } }));
  t.equal((await m.ws.closed).code, 4003, 'an emit for a task the node does not run is dropped; a malformed one closes the node');
});
