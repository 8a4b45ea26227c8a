/**
 * CPU lending by blocked workers, as Ray's blocked workers release their
 * CPU: while every guest request of a worker waits (in `get`/`wait`) and no
 * task runs inline above it, the worker's lease lends its CPU (not its
 * devices) to the node, so queued work can start on another worker; the CPU
 * is taken back, oversubscribing the node for a while if need be, when the
 * worker has work again.
 */
import type { NodeResources } from '../core/resources.js';
import type { Slot } from './task.js';

export class Lending {
  constructor(private readonly resources: NodeResources, /** CPU was lent: queued work may fit now. */ private readonly lent: () => void) {}

  /** A request of `slot`'s guest now waits (`+1`) or was answered (`-1`). */
  blocked(slot: Slot, delta: 1 | -1, live: boolean): void {
    slot.waits = Math.max(0, slot.waits + delta);
    this.update(slot, live);
  }

  /** Lends or takes back `slot`'s CPU after its waits or inline runs changed (`live`: it is still one of the node's workers). */
  update(slot: Slot, live: boolean): void {
    const idle = live && slot.waits > slot.inlines && slot.lease !== undefined;
    if (idle && slot.lent === 0) {
      slot.lent = slot.lease!.request.CPU ?? 0;
      if (slot.lent > 0) { this.resources.lend(slot.lent); this.lent(); }
    } else if (!idle) this.stop(slot);
  }

  /** Takes back what `slot` lent (before its lease is released, so nothing is given back twice). */
  stop(slot: Slot): void {
    if (slot.lent === 0) return;
    this.resources.reclaim(slot.lent);
    slot.lent = 0;
  }
}
