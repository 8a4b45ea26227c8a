/**
 * A node's accelerator devices, as its main thread sees them: it starts the
 * device thread, learns which backend drives each device, gives every new
 * worker a link to the thread, and reports what the devices hold.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { ComponentError } from '../errors.js';
import { findSoftwareIcd } from './backends/webgpu/dawn.js';
import { userSubdir } from '../util/private-dir.js';
import type { AcceleratorDevice } from './accelerator-device.js';
import type { BackendChoice } from './open-backends.js';
import type { ControlMsg, ControlReply, DeviceReport, DeviceThreadInit, LinkEnd } from './protocol.js';

const THREAD_SCRIPT = new URL('./device-thread.js', import.meta.url);

export interface NodeDevicesOptions {
  /** GPU ids of this node. */
  ids: number[];
  backend?: BackendChoice;
  /** Device memory in bytes where the backend cannot tell it. */
  memoryBytes?: number;
  /** Whether the machine has GPUs (its vendors' tools list some): without, `webgpu` may use a software GPU. */
  hasHardwareGpu?: () => boolean;
}

export class NodeDevices {
  private devicesNow: DeviceReport[] = [];
  private readonly waiting = new Map<number, (d: DeviceReport[]) => void>();
  private seq = 0;
  private readonly thread: Worker;
  /** Resolves once the devices are open; rejects when they cannot be. */
  readonly ready: Promise<void>;

  private constructor(opts: NodeDevicesOptions) {
    const backend = opts.backend ?? 'auto';
    if (backend === 'webgpu' && !process.env.VK_ICD_FILENAMES && !opts.hasHardwareGpu?.()) pointAtSoftwareGpu();
    const init: DeviceThreadInit = { ids: opts.ids, backend, ...(opts.memoryBytes !== undefined ? { memoryBytes: opts.memoryBytes } : {}) };
    // Links posted before the devices are open wait in the thread's port until it listens.
    this.thread = new Worker(THREAD_SCRIPT, { workerData: init, execArgv: [] });
    this.thread.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      const early = (why: string) => () => reject(new ComponentError(why));
      this.thread.once('error', (e) => reject(new ComponentError(`the device thread failed while opening devices: ${e.message}`)));
      this.thread.once('exit', early('the device thread exited while opening devices'));
      this.thread.on('message', (m: ControlReply) => {
        if (m.t === 'ready') {
          this.devicesNow = m.devices;
          this.thread.removeAllListeners('exit');
          resolve();
        } else if (m.t === 'failed') {
          reject(new ComponentError(`cannot open the node's accelerator devices: ${m.message}`));
        } else {
          this.devicesNow = m.devices;
          this.waiting.get(m.seq)?.(m.devices);
          this.waiting.delete(m.seq);
        }
      });
    });
    this.ready.catch(() => undefined); // observed by whoever awaits it
  }

  /** Starts the device thread (at once; `ready` tells when the devices are open). */
  static launch(opts: NodeDevicesOptions): NodeDevices {
    return new NodeDevices(opts);
  }

  /** The devices as last reported (at start, or by the last `report()`). */
  get devices(): readonly DeviceReport[] {
    return this.devicesNow;
  }

  /** Asks the thread what the devices hold now. */
  async report(): Promise<DeviceReport[]> {
    await this.ready;
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      this.post({ t: 'report', seq });
    });
  }

  /** A new link for one worker thread. */
  connect(): LinkEnd {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    this.thread.postMessage({ t: 'link', port: port1, signal } satisfies ControlMsg, [port1]);
    return { port: port2, signal };
  }

  async close(): Promise<void> {
    // Held (ref) until it has gone: shutdown waits for the devices to be released.
    this.thread.ref();
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise((r) => { this.thread.once('exit', r); timer = setTimeout(r, 2000); });
    this.post({ t: 'close' });
    await exited;
    clearTimeout(timer);
  }

  private post(m: ControlMsg): void {
    this.thread.postMessage(m);
  }
}

/** A device report as the public API shows it. */
export function deviceOf(nodeId: string, d: DeviceReport): AcceleratorDevice {
  const { limits: _limits, used, ...described } = d;
  return { nodeId, ...described, usedBytes: used };
}

/**
 * Dawn reads `VK_ICD_FILENAMES` from the process environment when it first
 * loads, so it is set here, on the main thread (a worker's `process.env` is
 * its own copy), before the device thread starts: only when nothing chose a
 * Vulkan driver and the machine has no GPU, so Debian chromium's SwiftShader
 * serves as a software GPU.
 */
function pointAtSoftwareGpu(): void {
  if (process.env.VK_ICD_FILENAMES) return;
  const icd = findSoftwareIcd();
  if (!icd) return;
  process.env.VK_ICD_FILENAMES = icd;
  // SwiftShader's window-system probe complains on stderr without a runtime directory; give it this user's private one.
  process.env.XDG_RUNTIME_DIR ??= userSubdir('xdg');
}
