/**
 * Queued tasks by resource shape: one FIFO per shape, so a shape that cannot
 * get a worker does not hold back the others, while tasks of one shape keep
 * their order (a requeued task goes back to the front).
 */
import { Fifo } from '../core/fifo.js';

export class ShapeQueues<T extends { readonly shape: string }> {
  private readonly byShape = new Map<string, Fifo<T>>();

  /** `live(t)` says whether a queued task still wants to run (a cancelled one is dropped when met). */
  constructor(private readonly live: (t: T) => boolean) {}

  add(t: T, front: boolean): void {
    let q = this.byShape.get(t.shape);
    if (!q) this.byShape.set(t.shape, (q = new Fifo()));
    if (front) q.unshift(t); else q.push(t);
  }

  /** Offers each shape's tasks in order to `take`; a task it declines stays first and ends that shape's turn. */
  drain(take: (t: T) => boolean): void {
    for (const q of this.byShape.values()) {
      for (let t = q.peek(); t; t = q.peek()) {
        q.shift();
        if (!this.live(t)) continue;
        if (!take(t)) { q.unshift(t); break; }
      }
    }
  }
}
