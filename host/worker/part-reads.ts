/**
 * File read tasks' parts (`RunMsg.read`), read before their tasks run: the
 * reads are async (Parquet's reader is), so the worker's loop awaits them
 * between items, and the task's run then takes the block, or the error, as
 * its value. The read's time counts in the task's run time.
 */
import { TsrayError } from '../errors.js';
import type { Block } from '../abi/block.js';
import { readPart } from '../files/part.js';
import type { RunMsg } from './protocol.js';

export class PartReads {
  private readonly done = new WeakMap<RunMsg, { t0: number; block?: Block; error?: unknown }>();

  constructor(private readonly roots: readonly string[] | undefined) {}

  /** Reads `msg`'s part, if it has one. */
  async readAhead(msg: RunMsg): Promise<void> {
    if (!msg.read) return;
    const t0 = performance.now();
    try {
      this.done.set(msg, { t0, block: await readPart(msg.read, this.roots) });
    } catch (error) {
      this.done.set(msg, { t0, error });
    }
  }

  /** When `msg`'s read began (undefined: it reads nothing). */
  startOf(msg: RunMsg): number | undefined {
    return this.done.get(msg)?.t0;
  }

  /** `msg`'s block, read ahead (throws what the read threw). */
  take(msg: RunMsg): Block {
    const r = this.done.get(msg);
    this.done.delete(msg);
    if (!r) throw new TsrayError('ERR_INTERNAL', 'a file read task ran before its part was read');
    if (r.error !== undefined) throw r.error;
    return r.block!;
  }
}
