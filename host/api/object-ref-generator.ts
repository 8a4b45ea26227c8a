/**
 * What `remote()` returns for `numReturns: 'streaming'` (Ray's
 * `ObjectRefGenerator`): an async iterable of the refs of the values the
 * guest emits, each yielded as soon as it is emitted. The iteration ends when
 * the task returns; if the task fails (or is cancelled), the iteration throws
 * its error after the values emitted before it.
 */
import type { ObjectRef } from '../../store/object-ref.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { StreamSink } from '../core/specs.js';

export class ObjectRefGenerator implements AsyncIterableIterator<ObjectRef>, StreamSink {
  private readonly items: ObjectRef[] = [];
  /** Values received so far (a retried task emits again from the start: those are dropped). */
  private received = 0;
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private closed = false;
  /** The task's own result: settled when it returns, failed with its error. */
  private completion: ObjectRef | undefined;

  /** @internal */
  constructor(private readonly objects: ObjectStore) {}

  /** @internal The task's completion ref: the stream ends when it settles. */
  attach(completion: ObjectRef): void {
    this.completion = completion;
    this.objects.onSettled(completion, (s) => {
      this.ended = true;
      if (!s.ok) this.error = s.error;
      this.notify();
    });
  }

  /** The task behind the stream, for `tsray.cancel(gen)` (cancelling stops the generator). */
  get taskRef(): ObjectRef {
    return this.completion!;
  }

  /** @internal */
  push(index: number, ref: ObjectRef): void {
    if (index < this.received || this.closed) { ref.release(); return; }
    this.received++;
    this.items.push(ref);
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async next(): Promise<IteratorResult<ObjectRef>> {
    for (;;) {
      const ref = this.items.shift();
      if (ref) return { value: ref, done: false };
      if (this.closed) return { value: undefined, done: true };
      if (this.ended) {
        this.closed = true;
        this.completion?.release();
        if (this.error) throw this.error;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => { this.wake = resolve; });
    }
  }

  /** Stops iterating: values not taken yet, and any emitted later, are released (the task goes on unless cancelled). */
  async return(): Promise<IteratorResult<ObjectRef>> {
    this.closed = true;
    for (const r of this.items.splice(0)) r.release();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** How many values arrived and were not taken yet. */
  get buffered(): number {
    return this.items.length;
  }
}
