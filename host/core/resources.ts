/**
 * Resource arithmetic, one for the embedded node, the head and placement:
 * what a node has, what a task asks for, and what is held. Quantities are
 * fractional; every sum and comparison is done in units of 1/10000, so that
 * repeated adding and subtracting of 0.1 never drifts and 0.3 fits in
 * 0.1 + 0.2.
 */

export type ResourceSet = Record<string, number>;

const SCALE = 10000;
const q = (x: number): number => Math.round(x * SCALE);

/** Whether `have` holds every positive amount of `want`. */
export function fits(have: ResourceSet, want: ResourceSet): boolean {
  for (const k in want) if (want[k]! > 0 && q(have[k] ?? 0) < q(want[k]!)) return false;
  return true;
}

/** Whether `want` asks for nothing. */
export function isEmpty(want: ResourceSet): boolean {
  for (const k in want) if (want[k]! > 0) return false;
  return true;
}

/** Adds (`sign` 1) or takes away (-1) every positive amount of `r` to `into`, in place. */
export function addResources(into: ResourceSet, r: ResourceSet, sign: 1 | -1): void {
  for (const k in r) if (r[k]! > 0) into[k] = (q(into[k] ?? 0) + sign * q(r[k]!)) / SCALE;
}

export class ResourcePool {
  private readonly total: Map<string, number>;
  private readonly free: Map<string, number>;

  constructor(total: ResourceSet) {
    this.total = new Map(Object.entries(total).map(([k, v]) => [k, q(v)]));
    this.free = new Map(this.total);
  }

  /** Could the node ever satisfy `req`? */
  feasible(req: ResourceSet): boolean {
    for (const [k, v] of Object.entries(req)) if (v > 0 && (this.total.get(k) ?? 0) < q(v)) return false;
    return true;
  }

  /** Takes `req` if it is available now. */
  tryAcquire(req: ResourceSet): boolean {
    for (const [k, v] of Object.entries(req)) if (v > 0 && (this.free.get(k) ?? 0) < q(v)) return false;
    for (const [k, v] of Object.entries(req)) if (v > 0) this.free.set(k, this.free.get(k)! - q(v));
    return true;
  }

  release(req: ResourceSet): void {
    for (const [k, v] of Object.entries(req)) if (v > 0) this.free.set(k, Math.min(this.total.get(k)!, (this.free.get(k) ?? 0) + q(v)));
  }

  /**
   * Takes `req` whether or not it is free: a blocked task taking back the
   * CPU it lent (as Ray does, the node may be oversubscribed until work ends).
   */
  take(req: ResourceSet): void {
    for (const [k, v] of Object.entries(req)) if (v > 0) this.free.set(k, (this.free.get(k) ?? 0) - q(v));
  }

  totals(): ResourceSet {
    return Object.fromEntries([...this.total].map(([k, v]) => [k, v / SCALE]));
  }

  available(): ResourceSet {
    return Object.fromEntries([...this.free].map(([k, v]) => [k, Math.max(0, v) / SCALE]));
  }
}

/** A stable key for tasks with identical requests (they may share a worker lease). */
export function shapeKey(req: ResourceSet): string {
  return Object.keys(req).filter((k) => req[k]! > 0).sort().map((k) => `${k}=${req[k]}`).join(',');
}

/**
 * Unit-instance resources: devices with ids, where a request above 1 must be
 * whole and a fraction packs onto one device (Ray's accelerators). Besides
 * GPU, any node resource with one of these names counts.
 */
export const ACCELERATORS = ['GPU', 'TPU', 'NPU', 'HPU', 'neuron_cores'] as const;

/**
 * Kinds whose requests must be whole numbers: Ray shares GPUs and NPUs by
 * fractions, but not Neuron cores, TPUs or Gaudi HPUs.
 */
export const WHOLE_ONLY: ReadonlySet<string> = new Set(['TPU', 'HPU', 'neuron_cores']);

/** Device ids a lease holds, per accelerator kind it asked for (kinds it did not ask for are absent). */
export type DeviceIds = Partial<Record<string, number[]>>;

/** Which accelerator a request's flat device ids refer to: GPU if it asks for one, else the first other accelerator it asks for. */
export function acceleratorOf(request: ResourceSet): string | undefined {
  return ACCELERATORS.find((k) => (request[k] ?? 0) > 0);
}

/** The flat id list `task-context` reports: the GPU ids if there are any, else those of the first other kind held. */
export function primaryIds(devices: DeviceIds): number[] {
  const k = ACCELERATORS.find((a) => devices[a] !== undefined);
  return k ? devices[k]! : [];
}

/** Device ids for every accelerator kind of a node: one allocator per kind. */
export class Accelerators {
  private readonly kinds = new Map<string, DeviceAllocator>();

  /** `ids`: the node's real device ids per kind (from the visible-devices variables); absent kinds count from 0. */
  constructor(resources: ResourceSet, ids: DeviceIds = {}) {
    for (const k of ACCELERATORS) {
      const n = resources[k] ?? 0;
      if (n > 0) this.kinds.set(k, new DeviceAllocator(Math.floor(n), ids[k]));
    }
  }

  /** Ids of the devices assigned for every accelerator kind of `request`, or undefined if they are not all free now. */
  acquire(request: ResourceSet): DeviceIds | undefined {
    const out: DeviceIds = {};
    for (const k of ACCELERATORS) {
      const amount = request[k] ?? 0;
      if (amount <= 0) continue;
      const ids = this.kinds.get(k)?.acquire(amount);
      if (!ids) {
        this.release(request, out); // all kinds or none
        return undefined;
      }
      out[k] = ids;
    }
    return out;
  }

  release(request: ResourceSet, ids: DeviceIds): void {
    for (const k of ACCELERATORS) {
      const held = ids[k];
      if (held) this.kinds.get(k)?.release(held, request[k]!);
    }
  }
}

/**
 * Assigns accelerator device ids to leases, the way Ray assigns GPU ids:
 * whole requests take whole free devices; a fraction packs onto the device
 * with the least room left that still fits it, before opening the next one.
 */
export class DeviceAllocator {
  private readonly room: number[];
  /** The device id of each slot: the visible ids, or 0..count-1. */
  private readonly ids: number[];

  constructor(count: number, ids?: readonly number[]) {
    this.room = Array.from({ length: count }, () => SCALE);
    this.ids = Array.from({ length: count }, (_, i) => ids?.[i] ?? i);
  }

  /** Device ids for `amount` devices, or undefined if they are not free now. */
  acquire(amount: number): number[] | undefined {
    if (amount <= 0) return [];
    if (amount < 1) {
      const need = q(amount);
      let best = -1;
      this.room.forEach((r, i) => { if (r >= need && (best < 0 || r < this.room[best]!)) best = i; });
      if (best < 0) return undefined;
      this.room[best]! -= need;
      return [this.ids[best]!];
    }
    const slots = this.room.map((r, i) => (r === SCALE ? i : -1)).filter((i) => i >= 0).slice(0, Math.ceil(amount));
    if (slots.length < Math.ceil(amount)) return undefined;
    for (const i of slots) this.room[i] = 0;
    return slots.map((i) => this.ids[i]!);
  }

  release(ids: number[], amount: number): void {
    const each = amount < 1 ? q(amount) : SCALE;
    for (const id of ids) {
      const i = this.ids.indexOf(id);
      if (i >= 0) this.room[i] = Math.min(SCALE, this.room[i]! + each);
    }
  }
}

/** A node's resources with device ids: what actors and worker leases take and give back. */
export class NodeResources {
  private readonly pool: ResourcePool;
  private readonly devices: Accelerators;

  constructor(total: ResourceSet, ids?: DeviceIds) {
    this.pool = new ResourcePool(total);
    this.devices = new Accelerators(total, ids);
  }

  /** Takes `request` (and device ids for its accelerators) if free now; undefined when it is not. */
  acquire(request: ResourceSet): DeviceIds | undefined {
    if (!this.pool.tryAcquire(request)) return undefined;
    const ids = this.devices.acquire(request);
    if (!ids) this.pool.release(request);
    return ids;
  }

  /** Gives back what `acquire` took. */
  release(request: ResourceSet, ids: DeviceIds): void {
    this.pool.release(request);
    this.devices.release(request, ids);
  }

  /** A task blocked in `get` lends the CPU of its lease (not its devices) to other work. */
  lend(cpu: number): void {
    this.pool.release({ CPU: cpu });
  }

  /** Takes back what `lend` lent, even if that oversubscribes the node for a while. */
  reclaim(cpu: number): void {
    this.pool.take({ CPU: cpu });
  }

  /** Could the node ever satisfy `request`? */
  feasible(request: ResourceSet): boolean {
    return this.pool.feasible(request);
  }

  totals(): ResourceSet {
    return this.pool.totals();
  }

  available(): ResourceSet {
    return this.pool.available();
  }
}
