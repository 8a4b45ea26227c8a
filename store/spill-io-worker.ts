/**
 * The spill I/O thread: writes arena blocks to spill files and reads them
 * back, so the store's thread can checksum one chunk while this one moves
 * the next. Direct I/O (O_DIRECT) is used where the filesystem allows it:
 * blocks are page-aligned, and the page cache gains nothing from data that
 * was spilled because memory was short. Files are created new and never
 * opened through a link (see `private-dir.ts`).
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { closeSync, constants, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { CREATE_NEW } from '../host/util/private-dir.js';
import { IO, type IoJob } from './spill-io-protocol.js';

const { ctl: ctlBuf, port, arenas } = workerData as { ctl: SharedArrayBuffer; port: MessagePort; arenas: WebAssembly.Memory[] };
const ctl = new Int32Array(ctlBuf);
let direct = true;

function open(path: string, flags: number): number {
  if (direct) {
    try {
      return openSync(path, flags | constants.O_DIRECT, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
      direct = false; // tmpfs and some others refuse O_DIRECT
      // Some refuse it only after making the file: it is ours (O_EXCL would have failed otherwise).
      if (flags & constants.O_CREAT) { try { unlinkSync(path); } catch { /* not made */ } }
    }
  }
  return openSync(path, flags, 0o600);
}

function progress(): void {
  Atomics.add(ctl, IO.PROGRESS, 1);
  Atomics.notify(ctl, IO.PROGRESS);
}

function run(job: IoJob): void {
  if (job.op === 'write') {
    const fd = open(job.path, constants.O_WRONLY | CREATE_NEW);
    try {
      let at = 0;
      for (const b of job.blocks) {
        const view = new Uint8Array(arenas[b.arena]!.buffer, b.off, b.len);
        for (let done = 0; done < b.len;) done += writeSync(fd, view, done, b.len - done, at + done);
        at += b.len;
        progress();
      }
    } finally {
      closeSync(fd);
    }
    return;
  }
  const fd = open(job.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const view = new Uint8Array(arenas[job.arena]!.buffer, job.off, job.len);
    for (let start = 0; start < job.len; start += job.chunk) {
      const end = Math.min(job.len, start + job.chunk);
      for (let done = start; done < end;) {
        const n = readSync(fd, view, done, end - done, job.fileOff + done);
        if (n === 0) throw Object.assign(new Error(`truncated (${done} of ${job.len} bytes at offset ${job.fileOff})`), { code: 'ETRUNCATED' });
        done += n;
      }
      progress();
    }
  } finally {
    closeSync(fd);
  }
}

for (;;) {
  const seen = Atomics.load(ctl, IO.DOORBELL);
  const m = receiveMessageOnPort(port);
  if (!m) {
    if (Atomics.load(ctl, IO.STOP)) break;
    Atomics.wait(ctl, IO.DOORBELL, seen);
    continue;
  }
  try {
    run(m.message as IoJob);
    Atomics.store(ctl, IO.DONE, IO.OK);
  } catch (e) {
    port.postMessage({ code: (e as NodeJS.ErrnoException).code, message: (e as Error).message });
    Atomics.store(ctl, IO.DONE, IO.FAILED);
  }
  Atomics.notify(ctl, IO.DONE);
}
