/**
 * The items a worker runs inside a blocked guest call (see
 * runtime-client.ts): tasks the node sent to run inline, and queued tasks it
 * asked to move there (`promote`). An inline run that makes the value a get
 * waits for keeps it here, encoded, so the get is answered without the node.
 */
import { Fifo } from '../core/fifo.js';
import { encodeValue } from '../core/typed-array-cbor.js';
import type { RunMsg, WorkItem } from './protocol.js';

export class InlineRuns {
  private readonly items = new Fifo<WorkItem>();
  /** Tasks to promote whose messages have not been read yet. */
  private readonly promoted = new Set<number>();
  private readonly values = new Map<string, Uint8Array>();

  constructor(private readonly queue: Fifo<WorkItem>) {}

  get length(): number {
    return this.items.length;
  }

  /** A run message read from the port: true if it runs inline (the caller queues it otherwise). */
  arrived(msg: RunMsg): boolean {
    if (!msg.inline && !this.promoted.delete(msg.n)) return false;
    this.items.push(msg);
    return true;
  }

  /** Moves queued task `n` to run inline (or marks it, if its message has not been read yet). */
  promote(n: number): void {
    const item = this.queue.remove((i) => i.t === 'run' && i.n === n);
    if (item) this.items.push(item);
    else this.promoted.add(n);
  }

  shift(): WorkItem | undefined {
    return this.items.shift();
  }

  /** `item` ran inline and made `value`: kept for the get that waits for it (encoded now, before its buffers move to the node). */
  made(item: WorkItem, value: unknown): void {
    if (item.t === 'run' && item.answers) this.values.set(item.answers, encodeValue(value));
  }

  /** The encoded value of object `id`, if an inline run here just made it; taken once. */
  take(id: string): Uint8Array | undefined {
    const v = this.values.get(id);
    this.values.delete(id);
    return v;
  }

  /** A top-level item ended: values no get took are dropped. */
  clearValues(): void {
    this.values.clear();
  }
}
