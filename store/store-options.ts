/** The object store's options: its resource-limit contract (see store/README.md). */

/** The store's resource-limit contract (see `InitOptions` for the user-facing names). */
export interface StoreOptions {
  nodeId: string;
  /** Bytes of shared memory for sealed objects, split into arenas of at most 4 GiB. */
  capacity: number;
  /** Where spill files go; stale files of dead processes are removed at start. */
  spillDir: string;
  /** Spill once primary copies pass this fraction of `capacity` (Ray: 0.8). */
  spillThreshold: number;
  /** Fuse at least this many bytes into each spill file when there is that much to spill (Ray: 100 MB). */
  minSpillBytes: number;
  /** Refuse to spill past this fraction of the disk being used (Ray: 0.95). */
  localFsCapacityThreshold: number;
  /** Largest arena (default: what a wasm32 memory allows, just under 4 GiB); bigger stores get several. */
  maxArenaBytes?: number;
  /** Record the JS stack of every task call and small put for `tsray memory` (puts of stored objects always do). */
  recordTaskCallSites: boolean;
}
