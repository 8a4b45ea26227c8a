/**
 * Settings of every Dataset in this process (Ray's `DatasetContext`), read
 * when a plan runs.
 */
/** One stage's progress: blocks done of those started (`total` grows until its input ends). */
export interface StageProgress {
  stage: string;
  done: number;
  total: number;
}

/** How a plan reports progress: `true` bars on a terminal, `false` nothing, a function each sample. */
export type ProgressBars = boolean | ((stages: StageProgress[]) => void);

export const DataContext: {
  optimizeFuseStages: boolean;
  targetMaxBlockSize: number;
  maxBlocksInFlight: number;
  progressBars: ProgressBars;
} = {
  /** Lazy plans run consecutive transforms with the same task options as one task per block (Ray's stage fusion). */
  optimizeFuseStages: true,
  /**
   * Reads cut their data into blocks of at most this many bytes, so a task's
   * input and output fit in memory (Ray's `target_max_block_size`, 512 MiB).
   * A single row larger than this cannot be cut: `stats()` reports it.
   */
  targetMaxBlockSize: 512 * 1024 * 1024,
  /**
   * How many blocks a streaming plan has submitted but not yet handed on
   * (per stage that reads its input): the backpressure that keeps a plan
   * over more data than the store within the store plus spill.
   */
  maxBlocksInFlight: 8,
  /** A bar per stage on a terminal for plans running longer than a second (`false`: none; a function: called with each stage's progress as it runs). */
  progressBars: true,
};
