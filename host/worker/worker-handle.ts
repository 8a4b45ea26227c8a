/**
 * The scheduler's side of one worker thread: spawning it, sending batches,
 * receiving results (by event, or by polling while a caller spins), and
 * stopping or killing it.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import { CTL, type FromWorker, type LogMsg, type ToWorker } from './protocol.js';
import type { LoadedComponent } from '../component/loaded.js';
import { variantFor } from './module-variants.js';
import { newClaimTable } from './claims.js';
import { MAX_LINKS_IN } from './direct-links.js';
import type { LinkEnd } from '../accel/protocol.js';
import { DEFAULT_LOG_FILTER, printGuestLog, type GuestLog, type LogFilter } from '../engine/guest-log.js';

const WORKER_SCRIPT = new URL('./main.js', import.meta.url);

export interface WorkerEvents {
  /** A batch of finished tasks, actor events and guest requests. */
  results(w: WorkerHandle, messages: FromWorker[]): void;
  /** The thread ended without being asked to. */
  died(w: WorkerHandle, why: string): void;
}

/** The node a worker belongs to: what every one of its threads shares. */
export interface WorkerSite {
  nodeId: string;
  /** How long an idle worker spins for new work, in microseconds. */
  spinUs: number;
  /** The object store's arenas, mapped by every worker. */
  arenas: WebAssembly.Memory[];
  /** The guest log level of work that brings none (default `DEFAULT_LOG_FILTER`). */
  logLevel?: LogFilter;
  /** Takes guest log records (default: printed in this process, see engine/guest-log.ts). */
  log?: (r: GuestLog, route: string | undefined) => void;
  /** Keeps every guest log record, with whose it is and the thread that wrote it (for `tsray logs`). */
  keepLog?: (m: LogMsg, threadId: number) => void;
  /** A link to the node's device thread for each new worker (absent: the node has no devices). */
  accelLink?: () => LinkEnd;
  /** Where file read tasks may read (absent: anywhere), as real paths. */
  dataRoots?: string[];
}

let nextWorkerId = 1;

export class WorkerHandle {
  readonly id = nextWorkerId++;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly ctl: Int32Array;
  private outbox: ToWorker[] = [];
  private transfer: TransferListItem[] = [];
  /** Called once when the thread ends, however it ends. */
  private readonly goneHooks: (() => void)[] = [];
  /** Its control block and mail flags, which a direct link's other end rings (see direct-links.ts). */
  readonly shared: { ctl: SharedArrayBuffer; mail: SharedArrayBuffer };
  private flushQueued = false;
  private stopping = false;
  private alive = true;
  /** Module keys this worker already holds. */
  private readonly modules = new Set<string>();
  /** Task numbers sent and not yet finished, in the order the worker runs them. */
  readonly inflight: number[] = [];
  /** Who runs the nested tasks its guests may run themselves (see claims.ts). */
  readonly claims: Int32Array;

  constructor(private readonly site: WorkerSite, private readonly events: WorkerEvents) {
    const { nodeId, spinUs, arenas } = site;
    const logLevel = site.logLevel ?? DEFAULT_LOG_FILTER;
    const ctl = new SharedArrayBuffer(CTL.SIZE * 4);
    this.ctl = new Int32Array(ctl);
    const mail = new SharedArrayBuffer(MAX_LINKS_IN * 4);
    this.shared = { ctl, mail };
    const claims = newClaimTable();
    this.claims = new Int32Array(claims);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // execArgv: [] keeps the driver's loader hooks (--import, --loader) out of workers, which run only our code.
    const accel = site.accelLink?.();
    this.worker = new Worker(WORKER_SCRIPT, {
      workerData: { ctl, claims, mail, nodeId, spinUs, arenas, logLevel, port: port2, ...(accel ? { accel } : {}), ...(site.dataRoots ? { dataRoots: site.dataRoots } : {}) },
      transferList: accel ? [port2, accel.port] : [port2],
      execArgv: [],
    });
    this.worker.unref();
    this.port.on('message', (m: FromWorker[] | LogMsg) => this.deliver(m));
    this.port.unref();
    this.worker.on('error', (e) => this.onExit(`uncaught error: ${e.message}`));
    this.worker.on('exit', (code) => this.onExit(`thread exited with code ${code}`));
  }

  /** The key of `component`'s variant capped at `maxMemoryMb`, sending the module first if this worker lacks it. */
  prepare(component: LoadedComponent, maxMemoryMb: number | undefined): string {
    const v = variantFor(component, maxMemoryMb);
    if (!this.modules.has(v.key)) {
      this.modules.add(v.key);
      this.send({ ...v, t: 'module', world: component.world });
    }
    return v.key;
  }

  /** A batch goes to the scheduler; a guest log record to the site's log, or printed here. */
  private deliver(m: FromWorker[] | LogMsg): void {
    if (Array.isArray(m)) { this.events.results(this, m); return; }
    this.site.keepLog?.(m, this.worker.threadId);
    if (this.site.log) this.site.log(m.log, m.route);
    else printGuestLog(m.log, { pid: process.pid, node: this.site.nodeId });
  }

  private onExit(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.port.close();
    // Told first, so what ends with the thread is ended with the reason.
    if (!this.stopping) this.events.died(this, why);
    this.gone();
  }

  /** Runs `hook` once when the thread ends (at once if it has). */
  whenGone(hook: () => void): void {
    if (this.alive) this.goneHooks.push(hook);
    else hook();
  }

  private gone(): void {
    for (const h of this.goneHooks.splice(0)) h();
  }

  /** The thread's JS heap and guest linear memory in use, as it last reported them. */
  memoryUse(): { heapBytes: number; guestBytes: number } {
    return { heapBytes: Atomics.load(this.ctl, CTL.HEAP_KB) * 1024, guestBytes: Atomics.load(this.ctl, CTL.GUEST_KB) * 1024 };
  }

  /** The thread's id (as `tsray memory` shows it). */
  get threadId(): number {
    return this.worker.threadId;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  /** Keeps the process alive while this worker has work. */
  setBusy(busy: boolean): void {
    if (busy) this.port.ref(); else this.port.unref();
  }

  /** Queues `msg` for the next batch; `transfer`: what it moves (ports). */
  send(msg: ToWorker, transfer?: TransferListItem[]): void {
    this.outbox.push(msg);
    if (transfer) this.transfer.push(...transfer);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Posts the pending batch and rings the doorbell. */
  flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0 || !this.alive) return;
    this.port.postMessage(this.outbox, this.transfer);
    this.outbox = [];
    this.transfer = [];
    Atomics.add(this.ctl, CTL.DOORBELL, 1);
    Atomics.notify(this.ctl, CTL.DOORBELL);
  }

  /**
   * Sleeps until this worker posts results it has not posted by the last
   * `poll()`, or `ms` pass. Blocks the calling thread: callers keep `ms` tiny.
   */
  waitForResults(ms: number): void {
    if (this.alive) Atomics.wait(this.ctl, CTL.RESULTS, this.resultsSeen, ms);
  }

  private resultsSeen = 0;

  /** Takes any results waiting on the port now, without the event loop. */
  poll(): boolean {
    // Read the counter first: results posted after this are caught by the next wait.
    this.resultsSeen = Atomics.load(this.ctl, CTL.RESULTS);
    let got = false;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      got = true;
      this.deliver(m.message as FromWorker[] | LogMsg);
    }
    return got;
  }

  /** Asks the guest running task `n` to stop at its next host call. */
  interrupt(n: number): void {
    Atomics.store(this.ctl, CTL.CANCEL, n);
    Atomics.notify(this.ctl, CTL.CANCEL);
  }

  /** Ends the thread at once, whatever it is running. */
  kill(): void {
    this.stopping = true;
    this.alive = false;
    this.port.close();
    this.gone();
    void this.worker.terminate();
  }

  /** Asks the loop to exit, then makes sure it does. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.stopping = true;
    this.gone();
    Atomics.store(this.ctl, CTL.STOP, 1);
    Atomics.notify(this.ctl, CTL.DOORBELL);
    const exited = new Promise<void>((res) => this.worker.once('exit', () => res()));
    const timer = setTimeout(() => void this.worker.terminate(), 500);
    await exited;
    clearTimeout(timer);
  }
}
