/** What `getView` returns: a value read in place from the object store, until released. */
import { InvalidArgumentError } from '../errors.js';

/**
 * A zero-copy read of stored objects. Typed arrays in `value` are views of
 * the node's shared store memory: no copy was made, and the objects stay
 * pinned in memory (PINNED_IN_MEMORY: never spilled, never freed) until
 * `release()`, `using view = await getView(...)`, or, as a backstop only,
 * until every typed array handed out is garbage-collected.
 *
 * The views must be treated as read-only: objects are immutable. A write
 * through them is not prevented but is never silent: every read of the
 * object after it (a `get`, another `getView`, a task argument, a transfer
 * to another node) fails with `ObjectLostError`. Views of one object share
 * its memory, so two live views see each other's writes. Do not use the
 * typed arrays after `release()`: once the object is freed, their memory
 * may hold another object.
 */
export class ObjectView<T = unknown> {
  #value: T;
  #release: (() => void) | undefined;

  /** @internal */
  constructor(value: T, release: () => void) {
    this.#value = value;
    this.#release = release;
  }

  /** The value; throws `InvalidArgumentError` after `release()`. */
  get value(): T {
    if (!this.#release) throw new InvalidArgumentError('this ObjectView was released; its value cannot be read (call getView again)');
    return this.#value;
  }

  /** Whether `release()` was called. */
  get released(): boolean {
    return this.#release === undefined;
  }

  /** Ends the pin (idempotent); the object can be spilled or freed again. */
  release(): void {
    const r = this.#release;
    if (!r) return;
    this.#release = undefined;
    this.#value = undefined as T;
    r();
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
