// Raw cluster connections for tests that speak the wire protocol by hand: CBOR frames over a WebSocket.
import { readFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { encode, decode } from 'cbor-x';
import { ROOT } from './components.mjs';
import { start } from './cluster.mjs';

/** A head (with its own 1-CPU node) as a child process; resolves with its process, address and pid. */
export async function startHead(t, env, token, args = []) {
  const head = start(t, { ...env, TSRAY_TOKEN: token }, ['--head', '--port', '0', '--num-cpus', '1', '--object-store-memory', String(64 * 2 ** 20), ...args], /listening at (ws:\/\/\S+) \(pid (\d+)\)/);
  const m = await head.ready;
  return { ...head, address: m[1].replace(/\/\/[^:]+:/, '//127.0.0.1:'), pid: Number(m[2]) };
}

/** Opens a WebSocket to `address` without saying anything; `frames` collects what arrives (batches unpacked). */
export function open(address) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address);
    ws.binaryType = 'nodebuffer';
    ws.frames = [];
    ws.closed = new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (d) => { try { const f = decode(d); ws.frames.push(...(f.t === 'batch' ? f.frames : [f])); } catch { ws.frames.push({ t: 'undecodable' }); } });
    ws.on('error', () => { /* 'close' follows */ });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', () => reject(new Error('the server refused the upgrade')));
    ws.once('close', () => reject(new Error('closed before open')));
  });
}

/** Waits until `pred()` (which may be async) holds, polling; resolves with its value, or fails after `ms`. */
export async function until(what, pred, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An authenticated connection as `role` (extra hello fields in `extra`): resolves once welcomed. */
export async function authed(address, token, role, extra = {}) {
  const ws = await open(address);
  ws.send(encode({ t: 'hello', v: 1, role, token, ...extra }));
  await Promise.race([until('welcome', () => ws.frames.some((f) => f.t === 'welcome')), ws.closed.then((c) => { throw new Error(`refused: ${c.code} ${c.reason}`); })]);
  return ws;
}

/**
 * A driver spoken by hand, welcomed by the head at `address` under a store id of its own (its object server's
 * address leads nowhere), closed when `t` ends; `component` (from `builtComponent`), if given, is sent to the head.
 */
export async function rawDriver(t, address, token, component) {
  const ws = await authed(address, token, 'driver', { objects: { storeId: `driver-${randomBytes(4).toString('hex')}`, address: 'ws://127.0.0.1:9' } });
  t.teardown(() => ws.close());
  if (component) ws.send(encode({ t: 'component', hash: component.hash, bytes: component.bytes }));
  return ws;
}

/** The `text` component (greet: func(name: string) -> string) as its bytes and content hash. */
export function textComponent() {
  return builtComponent('text');
}

/** The bytes and hash of example component `name`, built in build/. */
export function builtComponent(name) {
  const bytes = readFileSync(join(ROOT, 'build', `${name}.wasm`));
  return { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
}

/** How `ws` closed, once it has: a connection still open after `ms` fails the test instead of hanging it. */
export function closeOf(ws, ms = 10_000) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms); });
  return Promise.race([ws.closed, late]).finally(() => clearTimeout(timer));
}

/** Normalized task options as a driver sends them, with `over` on top. */
export function wireOptions(given = {}) {
  // Task options travel as given (the receiver normalizes them by the public API's rules); the rest is the sender's own reading.
  return { given: { numCpus: 1, maxRetries: 0, ...given }, request: { CPU: 1, GPU: 0 }, shape: 'CPU=1', numGpus: 0, numReturns: 1, maxRetries: 0 };
}

/** A `submit` frame for `greet(arg)` of the text component. */
export function submitFrame(hash, taskId, { opts = wireOptions(), args = ['x'] } = {}) {
  return { t: 'submit', task: { taskId, hash, name: 'greet', fn: 'greet', args, opts } };
}

/** The result frame for `taskId` on `ws`, once it arrives. */
export function resultOf(ws, taskId, ms = 10_000) {
  return until(`the result of ${taskId}`, () => ws.frames.find((f) => f.t === 'result' && f.taskId === taskId), ms);
}

/** Resident memory of process `pid`, in bytes (Linux). */
export function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) * 1024;
}

export { encode, decode };
