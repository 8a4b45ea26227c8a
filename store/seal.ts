/**
 * Sealing a value into an object: primitives and small values inline in the
 * table, larger ones encoded into a block of the block space. A task result
 * that finds the store full stays inline in the driver's heap instead
 * (Ray's fallback allocation); a put fails.
 */
import { InvalidArgumentError, ObjectStoreFullError, OutOfDiskError } from '../host/errors.js';
import type { Arena } from './arena.js';
import type { BlockSpace } from './block-space.js';
import { INLINE_MAX, encode, inlineValue, prepare, write } from './codec.js';
import { READY, type Entry } from './entry.js';

export class Sealer {
  private warnedFallback = false;

  /** `lookup`: the table's entry for an id, to check the refs a value holds. */
  constructor(private readonly space: BlockSpace, private readonly lookup: (id: string) => Entry | undefined) {}

  /**
   * Seals `value` into `e` and makes it ready; returns the objects the value
   * holds refs to (the caller counts them CAPTURED_IN_OBJECT). `owned`:
   * nothing else holds the value, so an inline one needs no copy.
   */
  seal(e: Entry, value: unknown, owned: boolean): Entry[] {
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'function' || typeof value === 'symbol') throw new InvalidArgumentError(`a ${typeof value} cannot be stored in the object store`);
      e.inline = value;
      e.isInline = true;
      e.size = typeof value === 'string' ? 8 + value.length * 2 : 8;
      e.state = READY;
      return [];
    }
    const p = prepare(value);
    const captured: Entry[] = [];
    for (const id of p.refs) {
      const c = this.lookup(id);
      if (!c) throw new InvalidArgumentError(`the value holds ObjectRef(${id}), which this runtime does not know (was it released?)`);
      captured.push(c);
    }
    let spot: { arena: Arena; off: number } | undefined;
    const enc = p.size > INLINE_MAX ? encode(p) : undefined;
    if (enc) {
      try {
        spot = this.space.place(enc.size, e.id);
      } catch (err) {
        // A task's result that finds the store full and unspillable stays in the driver's heap
        // (Ray's fallback allocation) rather than failing work already done; a put fails.
        if (!owned || !(err instanceof ObjectStoreFullError || err instanceof OutOfDiskError)) throw err;
        if (!this.warnedFallback) {
          this.warnedFallback = true;
          process.emitWarning(`tsray: ${err.message.split('\n')[0]} Keeping task results in the driver's heap until there is room.`, { code: 'TSRAY_STORE_FALLBACK' });
        }
      }
    }
    if (!enc || !spot) {
      e.inline = inlineValue(p, !owned);
      e.isInline = true;
      e.size = p.size;
    } else {
      write(spot.arena.bytes(spot.off, enc.size), enc);
      this.space.hold(e, spot, enc.size);
    }
    if (captured.length > 0) e.captured = p.refs;
    e.state = READY;
    return captured;
  }
}
