/**
 * One task's (or actor's) view of the node's devices, on the device thread:
 * which devices it was granted, what it holds on each, and its budget. Every
 * object a guest can name is in the scope's table, so closing the scope
 * destroys all of it: at the end of the task, on trap, timeout and cancel
 * (then the worker's link closes), whatever the guest did.
 */
import { AccelFailure, type DeviceBackend, type TensorStore } from './backends/backend.js';
import { MAX_OBJECTS } from './limits.js';
import type { AccelGrant } from './protocol.js';

/** A device on this node, with what every live scope holds on it. */
export interface NodeDevice {
  id: number;
  backend: DeviceBackend;
  used: number;
}

/** An object a guest holds: its kind, device, backend object and the bytes it costs the budget. */
export interface Held<T = unknown> {
  kind: string;
  device: NodeDevice;
  obj: T;
  bytes: number;
}

const MiB = 2 ** 20;

/** Bytes as people read them: KiB below a MiB. */
function size(bytes: number): string {
  return bytes < MiB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MiB).toFixed(1)} MiB`;
}

export class Scope {
  private readonly objects = new Map<number, Held>();
  private readonly usedOn = new Map<number, number>();
  private nextId = 1;

  constructor(readonly key: string, readonly grant: AccelGrant, private readonly devices: ReadonlyMap<number, NodeDevice>) {}

  /** Device `id` if this scope was granted it. */
  device(id: number): NodeDevice {
    if (this.grant.ids.length === 0) throw new AccelFailure('not-granted', 'this task holds no accelerator: request one with numGpus (or an accelerator resource) to use tsray:accel');
    const d = this.grant.ids.includes(id) ? this.devices.get(id) : undefined;
    if (!d) throw new AccelFailure('not-granted', `device ${id} is not one of this task's devices (${this.grant.ids.join(', ')})`);
    return d;
  }

  /** Every granted device. */
  granted(): NodeDevice[] {
    if (this.grant.ids.length === 0) return [];
    return this.grant.ids.map((id) => this.device(id));
  }

  /** What this scope may hold on `d`, in bytes. */
  budget(d: NodeDevice): number {
    const total = d.backend.description.memoryBytes;
    return Math.min(total, this.grant.memory ?? Math.floor(this.grant.share * total));
  }

  usedBytes(d: NodeDevice): number {
    return this.usedOn.get(d.id) ?? 0;
  }

  /** Charges `bytes` on `d` or fails with `out-of-memory` naming the device and the budget. */
  charge(d: NodeDevice, bytes: number): void {
    const used = this.usedBytes(d);
    const budget = this.budget(d);
    if (used + bytes > budget) {
      const rule = this.grant.memory !== undefined ? 'declared with acceleratorMemory' : `${this.grant.share} of the device's ${size(d.backend.description.memoryBytes)}`;
      throw new AccelFailure('out-of-memory', `device ${d.id} (${d.backend.description.backend}): this task's budget is ${size(budget)} (${rule}); it holds ${size(used)} and asked for ${size(bytes)} more; free buffers or tensors, or request more with numGpus or acceleratorMemory`);
    }
    this.usedOn.set(d.id, used + bytes);
    d.used += bytes;
  }

  /** Gives back bytes charged for an object that was never made. */
  refund(d: NodeDevice, bytes: number): void {
    this.usedOn.set(d.id, this.usedBytes(d) - bytes);
    d.used -= bytes;
  }

  /** Adds an object (its bytes already charged) and returns the id the guest will name it by. */
  add(held: Held): number {
    if (this.objects.size >= MAX_OBJECTS) {
      if (held.bytes) this.refund(held.device, held.bytes);
      this.release(held);
      throw new AccelFailure('limit-exceeded', `a task may hold at most ${MAX_OBJECTS} accelerator objects at once; drop what it no longer needs`);
    }
    const id = this.nextId++;
    this.objects.set(id, held);
    return id;
  }

  /** Object `id` of `kind`. */
  get<T>(id: unknown, kind: string): Held<T> {
    const h = typeof id === 'number' ? this.objects.get(id) : undefined;
    if (!h || h.kind !== kind) throw new AccelFailure('invalid-argument', `no live ${kind} with id ${String(id)} in this task (destroyed?)`);
    return h as Held<T>;
  }

  /** Frees object `id` (a drop or destroy); unknown ids are ignored (already gone). */
  free(id: number): void {
    const h = this.objects.get(id);
    if (!h) return;
    this.objects.delete(id);
    this.refund(h.device, h.bytes);
    this.release(h);
  }

  /** Frees everything; the scope is done. */
  close(): void {
    for (const id of [...this.objects.keys()]) this.free(id);
  }

  get size(): number {
    return this.objects.size;
  }

  private release(h: Held): void {
    const b = h.device.backend;
    try {
      if (h.kind === 'buffer') b.raw?.destroyBuffer(h.obj as never);
      else if (h.kind === 'tensor') b.freeTensor((h.obj as { store: TensorStore }).store);
    } catch {
      // A lost device has freed it already.
    }
  }
}
