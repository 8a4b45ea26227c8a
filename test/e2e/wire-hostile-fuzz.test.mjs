// Malformed frames (FRAMES) after authentication, of every frame type, at a real head (a child process with its
// own node). Each may close its own connection; none may end or stall the head. A crash is counted (and the
// head restarted, so the run goes on) and fails the test; so does a status request the head leaves unanswered.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { isolatedEnv } from '../helpers/cluster.mjs';
import { authed, encode, resultOf, startHead, submitFrame, textComponent, until, wireOptions } from '../helpers/raw-wire.mjs';

const TOKEN = 'wire-fuzz-token';
const env = isolatedEnv('wire-fuzz');
const text = textComponent();
// Sized for CI; TSRAY_FUZZ_FRAMES runs more.
const FRAMES = Number(process.env.TSRAY_FUZZ_FRAMES ?? 500);

let seed = 11;
const rand = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
const pick = (xs) => xs[rand(xs.length)];

/** Values of every kind, hostile ones included, to put where a field was. */
const odd = () => pick([
  undefined, null, true, -1, 0, 1.5, 1e9, 5e7, -1e308, NaN, Infinity, 2 ** 53, 2n ** 64n, '', 'x'.repeat(rand(300)),
  [], [1, 'a', null], {}, { t: 'result' }, { request: { CPU: 1e308 } }, new Uint8Array(rand(64)), new Float64Array(3),
  new Map([[1, 2]]), new Set(['a']), new Date(0), { '\u0000tsray:remote': { nodeId: 'n', address: 'ws://127.0.0.1:1', objectId: 'o', size: 1 } },
]);

/** Every option a task can carry, for mutations to hit. */
const allOptions = () => wireOptions({ timeoutMs: 5000, maxMemoryMb: 16, retryExceptions: true, schedulingStrategy: 'SPREAD', memory: 1, acceleratorType: 'X' });

/**
 * Well-formed frames of every type a peer may send. `runs` holds the run frames the fuzzing node was sent:
 * its results answer those (a result for an unknown task is ignored, so it would test little).
 */
function templates(nodeId, runs, role) {
  const id = () => randomBytes(6).toString('hex');
  const ran = () => runs.shift()?.task.taskId ?? id();
  const answers = [
    () => ({ t: 'result', taskId: ran(), ok: true, returns: [{ value: 'r' }], ms: 12.5 }),
    () => ({ t: 'result', taskId: ran(), ok: true, returns: [{ object: { nodeId, address: 'ws://127.0.0.1:9', objectId: id(), size: 10 } }] }),
    () => ({ t: 'result', taskId: ran(), ok: false, error: { name: 'TaskError', code: 'ERR_TASK', message: 'no', fields: { functionName: 'greet' } } }),
  ];
  // The node mostly answers the work it holds.
  if (role === 'node' && runs.length && rand(4) > 0) return answers;
  return [
    ...answers,
    () => submitFrame(text.hash, id()),
    () => submitFrame(text.hash, id(), { opts: allOptions() }),
    () => submitFrame(text.hash, id(), { args: [['PLACEHOLDER', { a: [1, 'PLACEHOLDER'] }]] }),
    () => ({ t: 'component', hash: text.hash, bytes: text.bytes.subarray(0, 64) }),
    () => ({ t: 'cancel', taskId: id(), force: true }),
    () => ({ t: 'status', id: rand(100) }),
    () => ({ t: 'heartbeat', available: { CPU: 1 } }),
    () => ({ t: 'result', taskId: id(), ok: true, returns: [{ value: 1 }] }),
    () => ({ t: 'result', taskId: id(), ok: false, error: { name: 'TaskError', code: 'ERR_TASK', message: 'm' } }),
    () => ({ t: 'need-component', id: rand(100), hash: text.hash }),
    () => ({ t: 'free', nodeId, objectIds: [id()] }),
    () => ({ t: 'actor-create', createId: id(), actor: { actorId: id(), hash: text.hash, resource: 'r', args: [], options: {}, request: { CPU: 0 }, shape: '', maxRestarts: 0, maxTaskRetries: 1 } }),
    () => ({ t: 'actor-call', actorId: id(), callId: id(), method: 'm', args: ['PLACEHOLDER'], numReturns: 1 }),
    () => ({ t: 'actor-kill', actorId: id(), noRestart: true }),
    () => ({ t: 'pull', id: 1, objectId: id() }),
    () => ({ t: 'component-reply', id: 1, hash: text.hash }),
    () => ({ t: 'welcome', v: 1, clusterId: 'c', headPid: 1 }),
    () => ({ t: 'node-dead', nodeId, cause: 'x' }),
    () => ({ t: 'run', task: submitFrame(text.hash, id()).task }),
  ];
}

/** Work for the fuzzing node (it alone has FUZZ), which answers it with mutated results. */
const fuzzWork = () => submitFrame(text.hash, randomBytes(6).toString('hex'), { opts: wireOptions({ numCpus: 0, resources: { FUZZ: 0.01 } }) });

/** Replaces one field, at any depth, of `v` with an odd value (or deletes it). */
function mutate(v, depth = 0) {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return odd();
  const keys = Object.keys(v);
  if (keys.length === 0 || (depth > 0 && rand(4) === 0)) return odd();
  const k = pick(keys);
  const out = Array.isArray(v) ? [...v] : { ...v };
  if (rand(6) === 0 && !Array.isArray(v)) delete out[k];
  else out[k] = mutate(v[k], depth + 1);
  return out;
}

/** One malformed message: a mutated frame, a batch of them, or damaged CBOR. */
function malformed(tmpl) {
  const f = pick(tmpl)();
  switch (rand(9)) {
    case 0: { // damaged bytes
      const b = Buffer.from(encode(f));
      for (let i = 0; i < 1 + rand(4); i++) b[rand(b.length)] = rand(256);
      return b;
    }
    case 1: return Buffer.from(encode(f)).subarray(0, 1 + rand(20)); // truncated
    case 2: return encode({ t: 'batch', frames: [mutate(f), mutate(pick(tmpl)())] });
    case 3: case 4: { // a self-referencing or shared value spliced into a field (or an argument, where there is one)
      const placeholder = encode('PLACEHOLDER');
      let b = Buffer.from(encode(f));
      if (b.indexOf(placeholder) < 0) b = Buffer.from(encode({ ...f, [pick(Object.keys(f).filter((k) => k !== 't'))]: 'PLACEHOLDER' }));
      const at = b.indexOf(placeholder);
      return Buffer.concat([b.subarray(0, at), Buffer.from(pick([[0xd8, 0x1c, 0x81, 0xd8, 0x1d, 0x00], [0xd8, 0x1b, 0x82, 0x61, 0x78, 0x61, 0x79], [0xd8, 0x33, 0x84, 0x81, 0x01, 0x80, 0x80, 0xc6, 0x00]])), b.subarray(at + placeholder.length)]);
    }
    default: return encode(mutate(f));
  }
}

t.test(`${FRAMES} malformed frames after authentication: the head neither crashes nor stalls, and serves a driver after`, async (t) => {
  let head = await startHead(t, env, TOKEN);
  let crashes = 0;
  let stalls = 0;
  const nodeId = randomBytes(8).toString('hex');
  const hellos = {
    driver: {},
    cli: {},
    // A node offering nothing the real tasks need, so fuzzed runs land on the head's own node, or wait.
    node: { node: { nodeId, name: 'fuzz', pid: 1, resources: { CPU: 0, FUZZ: 1 }, objectAddress: 'ws://127.0.0.1:9' } },
  };
  const conns = {};
  const runs = [];
  let ranHere = 0;
  const closes = new Map();
  const connection = async (role) => {
    const c = conns[role];
    if (c && c.readyState === c.OPEN) return c;
    const ws = await authed(head.address, TOKEN, role, hellos[role]);
    if (role === 'node') {
      // Runs sent right after the welcome are already in `frames`.
      const take = () => { for (const f of ws.frames.splice(0)) if (f.t === 'run') { ranHere++; runs.push(f); } };
      take();
      ws.on('message', take);
    }
    ws.closed.then(({ code }) => closes.set(code, (closes.get(code) ?? 0) + 1));
    conns[role] = ws;
    return ws;
  };
  const probe = await authed(head.address, TOKEN, 'cli');
  // A driver that sends only good frames: its work lives as long as it does.
  let feeder = await authed(head.address, TOKEN, 'driver');
  const started = Date.now();
  for (let i = 0; i < FRAMES; i++) {
    if (head.child.exitCode !== null || head.child.signalCode !== null) {
      crashes++;
      t.comment(`the head died at frame ${i}: ${head.output().err.slice(-2000)}`);
      head = await startHead(t, env, TOKEN);
      for (const k of Object.keys(conns)) delete conns[k];
      feeder = await authed(head.address, TOKEN, 'driver');
    }
    const role = pick(['driver', 'driver', 'node', 'cli']);
    let ws;
    try { ws = await connection(role); } catch { continue; }
    ws.send(malformed(templates(nodeId, runs, role)));
    // Besides the malformed frames, well-formed work keeps the fuzzing node supplied with tasks to answer.
    if (i % 5 === 0 && feeder.readyState === feeder.OPEN) feeder.send(encode(fuzzWork()));
    if (i % 50 === 49) {
      // The head answers a status request within 5 s, every 50 frames.
      await new Promise((r) => setTimeout(r, 20));
      const p = probe.readyState === probe.OPEN ? probe : await authed(head.address, TOKEN, 'cli').catch(() => undefined);
      if (!p) { stalls++; continue; }
      const before = p.frames.length;
      p.send(encode({ t: 'status', id: i }));
      try { await until('a status reply', () => p.frames.slice(before).some((f) => f.t === 'status-reply' && f.id === i), 5000); } catch { stalls++; }
    }
  }
  for (const ws of Object.values(conns)) ws.close();
  t.comment(`close codes: ${JSON.stringify([...closes])}; ${ranHere} tasks sent to the fuzzing node; ${Date.now() - started} ms`);
  t.equal(crashes, 0, 'the head never crashed');
  t.equal(stalls, 0, 'and always answered status within 5 s');
  t.ok([...closes.keys()].every((c) => c === 4003 || c === 1005 || c === 1000), `connections were closed as malformed, by nothing else (${[...closes.keys()]})`);
  t.equal(head.child.exitCode, null, 'the head is alive at the end');

  const d = await authed(head.address, TOKEN, 'driver');
  d.send(encode({ t: 'component', hash: text.hash, bytes: text.bytes }));
  d.send(encode(submitFrame(text.hash, 'after', { args: ['fuzz'] })));
  t.same((await resultOf(d, 'after', 30_000)).returns, [{ value: 'Hello, fuzz!' }], 'and runs a driver\'s task afterwards');
  d.close();
  probe.close();
  feeder.close();
});
