/**
 * Objects whose primary copy is on another node: whether an entry is only
 * there, what its owner does when such an object is lost (`Rebuild`; the
 * store's `lose` marks them), and the room a block from another node lands
 * in (an arena block, else private memory).
 */
import { ObjectStoreFullError, OutOfDiskError } from '../host/errors.js';
import type { Arena } from './arena.js';
import type { BlockSpace } from './block-space.js';
import type { Entry, RemoteLocation } from './entry.js';
import type { ObjectRef } from './object-ref.js';

/** Space for a sealed block arriving from another node. */
export interface Incoming {
  /** Write the block here, at the offsets it was sent with. */
  bytes: Uint8Array;
  /** Seals it: as the bytes of the remote object `ref`, or (no ref) as a new local object. */
  commit(ref?: ObjectRef): ObjectRef;
  abort(): void;
}

/** Picks the entry an arriving block is sealed into, and the ref the caller gets for it. */
export type Receiver = (ref: ObjectRef | undefined) => [Entry, ObjectRef];

/** Whether `e`'s bytes are only on another node (not fetched here yet). */
export function onlyRemote(e: Entry): e is Entry & { remote: RemoteLocation } {
  return !!e.remote && !e.arena && !e.spill && !e.privateBytes;
}

/**
 * What the owner of a lost object does about it (lineage reconstruction):
 * `true`, it is being made again (the object goes back to pending); or why
 * it cannot be, for its ObjectLostError.
 */
export type Rebuild = (id: string) => true | string;

/** Room for a `size`-byte sealed block from another node (spilling to make it, as a put would). */
export function incomingBlock(space: BlockSpace, size: number, receiver: Receiver): Incoming {
  let spot: { arena: Arena; off: number };
  try {
    spot = space.place(size, '(incoming)');
  } catch (err) {
    // As a restore does: a full spill disk must not make an object that exists elsewhere unreadable here.
    if (!(err instanceof ObjectStoreFullError || err instanceof OutOfDiskError)) throw err;
    return incomingPrivate(size, receiver);
  }
  let open = true;
  const close = (): void => { if (!open) throw new Error('internal: incoming block used twice'); open = false; };
  return {
    bytes: spot.arena.bytes(spot.off, size),
    commit: (ref?: ObjectRef): ObjectRef => {
      close();
      const [e, out] = receiver(ref);
      space.hold(e, spot, size);
      return out;
    },
    abort: (): void => { close(); spot.arena.release(spot.off, size); },
  };
}

/** When every arena is pinned full: the block lands in private memory and is read from there (no pin). */
function incomingPrivate(size: number, receiver: Receiver): Incoming {
  const bytes = new Uint8Array(size);
  return {
    bytes,
    commit: (ref?: ObjectRef): ObjectRef => {
      const [e, out] = receiver(ref);
      e.size = size;
      e.privateBytes = bytes;
      return out;
    },
    abort: () => undefined,
  };
}
