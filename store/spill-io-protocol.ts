/** Jobs and the control block shared by the store and its spill I/O thread. */

/** Int32 slots of the control block. */
export const IO = {
  /** Bumped by the store after posting a job. */
  DOORBELL: 0,
  /** Blocks written, or chunks read, so far in the current job. */
  PROGRESS: 1,
  /** RUNNING, OK or FAILED for the current job. */
  DONE: 2,
  /** Non-zero asks the thread to exit. */
  STOP: 3,
  SIZE: 4,
  RUNNING: 0,
  OK: 1,
  FAILED: 2,
} as const;

/** Writes blocks of the arenas, one after another, into a new file. */
export interface WriteJob {
  op: 'write';
  path: string;
  blocks: { arena: number; off: number; len: number }[];
}

/** Reads `len` bytes at `fileOff` into an arena block, `chunk` bytes at a time. */
export interface ReadJob {
  op: 'read';
  path: string;
  fileOff: number;
  arena: number;
  off: number;
  len: number;
  chunk: number;
}

export type IoJob = WriteJob | ReadJob;
