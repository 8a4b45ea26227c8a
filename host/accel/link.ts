/**
 * A synchronous call over a MessagePort: the worker posts a request and
 * sleeps on a shared counter until the device thread has posted the reply,
 * then takes it with `receiveMessageOnPort`. The sleep is cut in slices so a
 * cancel lands while the device works (the late reply is then dropped).
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { AccelFailure } from './backends/backend.js';
import type { AccelGrant, AccelReply, AccelRequest, LinkEnd } from './protocol.js';

/** How long one sleep lasts before the caller's checkpoint runs again (ms). */
const SLICE_MS = 50;

/** The worker's end of one link. */
export class SyncLink {
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  private seq = 0;

  constructor(end: LinkEnd) {
    this.port = end.port;
    this.signal = new Int32Array(end.signal);
  }

  /** Runs `op` in `scope` on the device thread and returns its value; failures throw `AccelFailure`. */
  call(scope: string, grant: AccelGrant | undefined, op: string, args: unknown[], checkpoint: () => void): unknown {
    const seq = ++this.seq;
    let observed = Atomics.load(this.signal, 0);
    const msg: AccelRequest = { seq, scope, op, args, ...(grant ? { grant } : {}) };
    this.port.postMessage(msg, movable(args));
    for (;;) {
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const r = m.message as AccelReply;
        if (r.seq !== seq) continue; // the reply to a call a cancel abandoned
        if (r.ok) return r.value;
        throw new AccelFailure(r.code, r.message);
      }
      Atomics.wait(this.signal, 0, observed, SLICE_MS);
      observed = Atomics.load(this.signal, 0);
      checkpoint();
    }
  }

  /** Sends without waiting (closing a scope whose result nobody reads). */
  post(scope: string, op: string, args: unknown[]): void {
    const msg: AccelRequest = { seq: ++this.seq, scope, op, args };
    this.port.postMessage(msg);
  }
}

/**
 * The buffers of top-level typed arrays that own them whole: data lifted from
 * a guest, or read back from a device, is a fresh copy nobody else holds, so
 * it moves to the other thread instead of being copied again.
 */
function movable(values: readonly unknown[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const v of values) {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength && !out.includes(v.buffer)) out.push(v.buffer);
  }
  return out;
}

/** The device thread's end: replies and wakes the worker. */
export function replyOn(port: MessagePort, signal: Int32Array, reply: AccelReply): void {
  port.postMessage(reply, reply.ok ? movable([reply.value]) : []);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}
