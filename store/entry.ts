/**
 * One object of a store as the store keeps it: its state, where its bytes
 * are (inline, an arena block, a spill file, another node, private memory),
 * and its reference counts by kind.
 */
import type { Arena } from './arena.js';
import type { SpillLocation } from './spill.js';
import type { CallSite } from './call-site.js';

export const PENDING = 0;
export const READY = 1;
export const FAILED = 2;

export type Settled = { ok: true } | { ok: false; error: Error };
export const OK: Settled = { ok: true };

export class Entry {
  state = PENDING;
  error: Error | undefined = undefined;
  inline: unknown = undefined;
  isInline = false;
  arena: Arena | undefined = undefined;
  off = 0;
  spill: SpillLocation | undefined = undefined;
  /** Bytes of the object (the block, or an estimate when inline); 0 while pending. */
  size = 0;
  /** Ids of objects this value holds refs to. */
  captured: string[] | undefined = undefined;
  readonly counts = [0, 0, 0, 0, 0];
  total = 0;
  waiters: ((s: Settled) => void)[] | undefined = undefined;
  /** Worker thread id -> arguments of its tasks pinned here. */
  workerPins: Map<number, number> | undefined = undefined;
  /** Where the primary copy lives when it is on another node (its bytes are fetched on demand). */
  remote: RemoteLocation | undefined = undefined;
  /** A fetched copy kept in private memory because the arenas had no room for it. */
  privateBytes: Uint8Array | undefined = undefined;
  /** CRC-32 of the sealed block, taken when the first zero-copy view of it was handed out; checked on every read since. */
  fingerprint: number | undefined = undefined;
  /** Zero-copy views of the block (`getView`) not yet released. */
  views = 0;
  constructor(readonly id: string, public site: CallSite) {}
}

/** An object whose bytes are held by another node of the cluster. */
export interface RemoteLocation {
  nodeId: string;
  /** The owner's object server (`ws://HOST:PORT`). */
  address: string;
  /** The object's id in the owner's store. */
  objectId: string;
  /** Bytes of its sealed block. */
  size: number;
}

export const PUT_SITE: CallSite = { what: '(put object)' };
export const TASK_SITE: CallSite = { what: '(task call)' };
