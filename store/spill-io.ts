/**
 * The store's handle on its spill I/O thread. Calls are synchronous (a put
 * that needs room waits for its spill), but the checksum runs on this thread
 * while the I/O thread moves bytes, so spilling costs about the slower of
 * the two rather than their sum. The thread starts at the first spill.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { IO, type IoJob } from './spill-io-protocol.js';

/** Reads are checksummed in chunks of this size as they arrive. */
export const READ_CHUNK = 2 * 2 ** 20;

export class SpillIo {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private readonly ctl = new Int32Array(new SharedArrayBuffer(IO.SIZE * 4));

  constructor(private readonly arenas: WebAssembly.Memory[]) {}

  private post(job: IoJob): void {
    if (!this.worker) {
      const { port1, port2 } = new MessageChannel();
      this.port = port1;
      this.worker = new Worker(new URL('./spill-io-worker.js', import.meta.url), {
        workerData: { ctl: this.ctl.buffer, port: port2, arenas: this.arenas }, transferList: [port2], execArgv: [],
      });
      this.worker.unref();
      this.port.unref();
    }
    Atomics.store(this.ctl, IO.PROGRESS, 0);
    Atomics.store(this.ctl, IO.DONE, IO.RUNNING);
    this.port!.postMessage(job);
    Atomics.add(this.ctl, IO.DOORBELL, 1);
    Atomics.notify(this.ctl, IO.DOORBELL);
  }

  /** Waits until `n` steps of the job are done (or it ended); false if it failed. */
  private waitFor(n: number): boolean {
    for (;;) {
      const done = Atomics.load(this.ctl, IO.DONE);
      if (done === IO.FAILED) return false;
      const p = Atomics.load(this.ctl, IO.PROGRESS);
      if (p >= n || done === IO.OK) return true;
      Atomics.wait(this.ctl, IO.PROGRESS, p, 50);
    }
  }

  private finish(): void {
    while (Atomics.load(this.ctl, IO.DONE) === IO.RUNNING) Atomics.wait(this.ctl, IO.DONE, IO.RUNNING, 50);
    if (Atomics.load(this.ctl, IO.DONE) === IO.FAILED) {
      const m = receiveMessageOnPort(this.port!)?.message as { code?: string; message: string } | undefined;
      throw Object.assign(new Error(m?.message ?? 'spill I/O failed'), { code: m?.code });
    }
  }

  /** Writes `blocks` into a new file at `path`; `alongside(i)` runs for each block while the thread writes. */
  write(path: string, blocks: { arena: number; off: number; len: number }[], alongside: (i: number) => void): void {
    this.post({ op: 'write', path, blocks });
    try {
      blocks.forEach((_, i) => alongside(i));
    } finally {
      this.finish();
    }
  }

  /** Reads `len` bytes at `fileOff` of `path` into an arena block; `chunk(start, end)` runs as each chunk lands. */
  read(path: string, fileOff: number, arena: number, off: number, len: number, chunk: (start: number, end: number) => void): void {
    this.post({ op: 'read', path, fileOff, arena, off, len, chunk: READ_CHUNK });
    let ok = true;
    for (let i = 0, start = 0; start < len && ok; i++, start += READ_CHUNK) {
      ok = this.waitFor(i + 1);
      if (ok) chunk(start, Math.min(len, start + READ_CHUNK));
    }
    this.finish();
  }

  close(): void {
    if (!this.worker) return;
    Atomics.store(this.ctl, IO.STOP, 1);
    Atomics.add(this.ctl, IO.DOORBELL, 1);
    Atomics.notify(this.ctl, IO.DOORBELL);
    this.port!.close();
    void this.worker.terminate();
    this.worker = undefined;
  }
}
