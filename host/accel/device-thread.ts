/**
 * The node's device thread: it owns every device backend (Dawn's async API
 * needs an event loop, which a worker blocked in a guest call does not
 * have) and serves the workers' synchronous calls, one scope per task or
 * actor. A worker's link closing (the thread ended or was terminated on a
 * timeout or forced cancel) closes every scope it had open.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { AccelFailure, type DeviceBackend } from './backends/backend.js';
import { openBackends } from './open-backends.js';
import { replyOn } from './link.js';
import { OPS } from './ops.js';
import { Scope, type NodeDevice } from './scope.js';
import type { AccelReply, AccelRequest, ControlMsg, ControlReply, DeviceReport, DeviceThreadInit } from './protocol.js';

const init = workerData as DeviceThreadInit;
const devices = new Map<number, NodeDevice>();

function report(): DeviceReport[] {
  return [...devices.values()].map((d) => ({ id: d.id, ...d.backend.description, limits: d.backend.limits, used: d.used }));
}

function send(m: ControlReply): void {
  parentPort!.postMessage(m);
}

/** Serves one worker's link: calls run one at a time, in order, so a close never overtakes a call. */
function serve(port: MessagePort, signal: Int32Array): void {
  const scopes = new Map<string, Scope>();
  let chain = Promise.resolve();
  const handle = async (req: AccelRequest): Promise<void> => {
    let reply: AccelReply;
    try {
      let scope = scopes.get(req.scope);
      if (req.op === 'close') {
        scope?.close();
        scopes.delete(req.scope);
        reply = { seq: req.seq, ok: true, value: undefined };
      } else {
        if (!scope) {
          if (!req.grant) throw new AccelFailure('not-granted', 'this task holds no accelerator');
          scopes.set(req.scope, (scope = new Scope(req.scope, req.grant, devices)));
        }
        const op = OPS[req.op];
        if (!op) throw new AccelFailure('invalid-argument', `no accelerator operation '${req.op}'`);
        reply = { seq: req.seq, ok: true, value: await op(scope, req.args) };
      }
    } catch (e) {
      reply = e instanceof AccelFailure ? { seq: req.seq, ok: false, code: e.code, message: e.message }
        : { seq: req.seq, ok: false, code: 'device-lost', message: `the device failed: ${(e as Error).message ?? String(e)}` };
    }
    replyOn(port, signal, reply);
  };
  port.on('message', (req: AccelRequest) => { chain = chain.then(() => handle(req)); });
  port.on('close', () => {
    chain = chain.then(() => {
      for (const s of scopes.values()) s.close();
      scopes.clear();
    });
  });
}

async function main(): Promise<void> {
  let backends: DeviceBackend[];
  try {
    backends = await openBackends(init.ids.length, init.backend, init.memoryBytes);
  } catch (e) {
    send({ t: 'failed', message: (e as Error).message });
    return;
  }
  init.ids.forEach((id, i) => devices.set(id, { id, backend: backends[i]!, used: 0 }));
  parentPort!.on('message', (m: ControlMsg) => {
    if (m.t === 'link') serve(m.port, new Int32Array(m.signal));
    else if (m.t === 'report') send({ t: 'report', seq: m.seq, devices: report() });
    else if (m.t === 'close') {
      for (const d of devices.values()) d.backend.close();
      process.exit(0);
    }
  });
  send({ t: 'ready', devices: report() });
}

void main();
