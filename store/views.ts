/**
 * Zero-copy views of sealed blocks (`getView`). Each view handle pins its
 * block until released, or, as a backstop, until every view it handed out is
 * collected. The first view fingerprints the block with a CRC-32, so that a
 * write through a view fails every later read (ObjectLostError) instead of
 * being read; while a view is live, tasks and other nodes get snapshots.
 */
import { crc32 } from 'node:zlib';
import { ObjectLostError } from '../host/errors.js';
import { read } from './codec.js';
import { FAILED, type Entry } from './entry.js';

/** A value read in place: its typed arrays view the shared block, which stays pinned until `release()`. */
export interface SharedRead {
  value: unknown;
  release(): void;
}

export const noop = (): void => undefined;

/** What views need of the object table (passed in, so this module does not import the store). */
export interface ViewOwner {
  /** Whether `e` is still in the table: a freed object, or a closed store, has no pin left to end. */
  holds(e: Entry): boolean;
  /** One PINNED_IN_MEMORY reference more. */
  pin(e: Entry): void;
  /** One PINNED_IN_MEMORY reference fewer. */
  unpin(e: Entry): void;
}

/** One `view()` handle's pin: held until released, or until every view it handed out is collected. */
interface ViewPin {
  e: Entry;
  /** Views not collected yet. */
  left: number;
  done: boolean;
}

export class Views {
  /** A backstop for views never released: their pin ends once they are all collected. */
  private readonly pins = new FinalizationRegistry<ViewPin>((pin) => { if (--pin.left === 0) this.end(pin); });

  constructor(private readonly owner: ViewOwner) {}

  /** Whether a view of `e` is live: readers other than the driver then get snapshots, which a write through it cannot reach. */
  live(e: Entry): boolean {
    return e.views > 0;
  }

  /** Checks `bytes`, `e`'s sealed block, against the fingerprint its first view took (if one was ever handed out). */
  check(e: Entry, bytes: Uint8Array): void {
    if (e.fingerprint !== undefined && crc32(bytes) !== e.fingerprint) throw this.corrupted(e);
  }

  /**
   * `e`'s value read in place from its shared block `bytes`: its typed arrays
   * view the block and pin it until `release()` (or all are collected). The
   * first view fingerprints the block. A value with no typed arrays pins nothing.
   */
  open(e: Entry, bytes: Uint8Array, makeRef: (id: string) => unknown): SharedRead {
    const views: object[] = [];
    const value = read(bytes, makeRef, (v) => views.push(v));
    if (views.length === 0) return { value, release: noop };
    e.fingerprint ??= crc32(bytes);
    const pin: ViewPin = { e, left: views.length, done: false };
    this.owner.pin(e);
    e.views++;
    for (const v of views) this.pins.register(v, pin, pin);
    return { value, release: () => { if (!pin.done) { this.pins.unregister(pin); this.end(pin); } } };
  }

  /**
   * A view handle's pin ends. Its block is not checked here: the fingerprint
   * stays, so a write through the view is found by the next read of the
   * object, also after it was spilled and restored.
   */
  private end(pin: ViewPin): void {
    if (pin.done) return;
    pin.done = true;
    const e = pin.e;
    if (!this.owner.holds(e)) return;
    e.views--;
    this.owner.unpin(e);
  }

  /** A write through a zero-copy view changed `e`: it fails from now on rather than being read changed. */
  private corrupted(e: Entry): ObjectLostError {
    const error = new ObjectLostError(e.id, 'its bytes were changed after it was sealed, through a zero-copy view from getView() '
      + '(objects are immutable: write into the copy get() returns and put that)');
    e.state = FAILED;
    e.error = error;
    return error;
  }
}
