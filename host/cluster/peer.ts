/**
 * One authenticated WebSocket connection, either side: typed frames in and
 * out, and requests matched to their replies by `id`. A frame that does not
 * decode, or whose fields do not have the shape of its type
 * (`validate-frame.ts`), closes this connection (and only this one), as
 * does a handler that throws on a frame. Frames sent in one turn
 * of the event loop travel together as one `batch` message: a burst of tiny
 * tasks costs one WebSocket message, not one each.
 */
import type { WebSocket, RawData } from 'ws';
import { CLOSE, MalformedFrameError, decodeFrame, encodeFrame, type Frame } from './protocol.js';
import { frameProblem } from './validate-frame.js';

export class Peer {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (f: Frame) => void; reject: (e: Error) => void }>();
  private closedWith: { code: number; reason: string } | undefined;
  private outbox: Frame[] = [];

  /**
   * Set by a handler of a frame that announces raw bytes: the next binary
   * message goes here as it is, instead of being decoded (see `object-transfer.ts`).
   */
  expectData: ((buf: Buffer) => void) | undefined = undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly onFrame: (f: Frame, peer: Peer) => void,
    private readonly onClose: (code: number, reason: string, peer: Peer) => void,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => {
      this.closedWith = { code, reason: reason.toString() };
      for (const w of this.waiting.values()) w.reject(new Error(`connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
      this.waiting.clear();
      this.onClose(code, reason.toString(), this);
    });
    ws.on('error', () => { /* 'close' follows */ });
  }

  private receive(data: RawData, isBinary: boolean): void {
    let f: Frame;
    try {
      if (!isBinary) throw new MalformedFrameError('text frames are not part of the protocol');
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const raw = this.expectData;
      if (raw) { this.expectData = undefined; raw(buf); return; }
      f = decodeFrame(buf);
      if (f.t === 'batch' && (!Array.isArray(f.frames) || !f.frames.every((x) => x !== null && typeof x === 'object' && typeof (x as { t?: unknown }).t === 'string' && (x as Frame).t !== 'batch'))) {
        throw new MalformedFrameError('a batch holds frames, and no batches');
      }
    } catch (e) {
      if (!(e instanceof MalformedFrameError)) throw e;
      this.close(CLOSE.MALFORMED, e.message);
      return;
    }
    for (const x of f.t === 'batch' ? f.frames : [f]) {
      if (this.ws.readyState !== this.ws.OPEN) return;
      this.deliver(x);
    }
  }

  /**
   * Checks one frame's shape and hands it on. Whatever goes wrong (a
   * malformed frame, a handler that throws on what it got) closes this
   * connection only: one peer's frame never takes down the process.
   */
  private deliver(f: Frame): void {
    const problem = frameProblem(f);
    if (problem) { this.close(CLOSE.MALFORMED, problem); return; }
    try {
      this.dispatch(f);
    } catch (e) {
      this.close(CLOSE.INTERNAL, `could not handle a '${f.t}' frame: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  private dispatch(f: Frame): void {
    const id = (f as { id?: unknown }).id;
    if (typeof id === 'number' && (f.t.endsWith('-reply') || f.t === 'error')) {
      const w = this.waiting.get(id);
      if (w) {
        this.waiting.delete(id);
        w.resolve(f);
        return;
      }
    }
    this.onFrame(f, this);
  }

  send(f: Frame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.outbox.push(f);
    if (this.outbox.length === 1) setImmediate(() => this.flush());
  }

  /** Sends what `send` queued, now. */
  flush(): void {
    const b = this.outbox;
    if (b.length === 0) return;
    this.outbox = [];
    if (this.ws.readyState !== this.ws.OPEN) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(b.length === 1 ? b[0]! : { t: 'batch', frames: b });
    } catch (e) {
      // Runs from a microtask: a throw here would end the process, so only this connection ends.
      this.close(CLOSE.INTERNAL, `could not encode a frame: ${(e as Error)?.message ?? String(e)}`);
      return;
    }
    this.ws.send(bytes);
  }

  /** Sends raw bytes as one binary message, after every frame queued before it (see `object-transfer.ts`). */
  sendRaw(bytes: Uint8Array, done: (err?: Error) => void): void {
    this.flush();
    this.ws.send(bytes, { binary: true }, done);
  }

  /** Sends a request (its `id` is filled in) and resolves with the reply frame. */
  request<R extends Frame>(f: Frame & { id: number }): Promise<R> {
    const id = this.nextId++;
    f.id = id;
    return new Promise<R>((resolve, reject) => {
      if (this.closedWith) { reject(new Error(`connection closed (${this.closedWith.code})`)); return; }
      this.waiting.set(id, { resolve: resolve as (f: Frame) => void, reject });
      this.send(f);
    });
  }

  close(code: number = CLOSE.NORMAL, reason = ''): void {
    this.flush();
    // Close reasons are limited to 123 bytes by the WebSocket protocol.
    this.ws.close(code, Buffer.from(reason).subarray(0, 120).toString());
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }
}
