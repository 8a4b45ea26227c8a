/**
 * The embedded scheduler's records: a task from submission until its result
 * is settled, and a worker slot with the lease it holds.
 */
import { newId, type ObjectRef } from '../../store/object-ref.js';
import { snapshotValue } from '../../store/snapshot.js';
import type { LoadedComponent } from '../component/loaded.js';
import type { NormalizedOptions } from '../core/options.js';
import type { DeviceIds, ResourceSet } from '../core/resources.js';
import type { ChainStep, Each, StreamSink, TaskSpec } from '../core/specs.js';
import type { LogTarget } from '../engine/guest-log.js';
import type { WorkerHandle } from '../worker/worker-handle.js';

/** A submitted task; a class so every task has one stable shape (the hot path allocates many). */
export class Task implements TaskSpec {
  readonly component: LoadedComponent;
  readonly name: string;
  readonly fn: string;
  readonly args: unknown[];
  readonly opts: NormalizedOptions;
  readonly log: LogTarget | undefined;
  readonly shape: string;
  readonly taskId: string;
  /** Functions fused after `fn` (see `TaskSpec.then`). */
  readonly then: readonly ChainStep[];
  readonly each: Each | undefined;
  readonly ran: TaskSpec['ran'];
  readonly read: TaskSpec['read'];
  pendingDeps = 0;
  state: 'waiting' | 'queued' | 'running' | 'done' = 'waiting';
  attempt = 0;
  slot: Slot | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  cancelled = false;
  /** Whether the task counts as a pending-task reference on its ref arguments. */
  holds = false;
  /** Whether an argument lives in an arena: such a task is not queued behind others on a worker, so pins stay few. */
  stored = false;
  /** Refs passed as `object-ref` values: held while it runs, usable by its guest. */
  readonly borrowed: readonly ObjectRef[];
  /** Submitted by a guest (the scope key of its submitter, see guest-runtime.ts). */
  readonly parent: string | undefined;
  /** Where its emitted values go (`numReturns: 'streaming'`), and how many this attempt emitted. */
  readonly stream: StreamSink | undefined;
  emitted = 0;
  /**
   * A nested task just submitted: for this turn of the event loop it waits
   * for its parent's `get` (posted right after the submit) to run it inline
   * instead of starting on another worker.
   */
  fresh = false;
  /** Its claim (see worker/claims.ts): its parent's worker may run it itself; cleared once settled. */
  claim: { k: number; slot: Slot } | undefined = undefined;
  /** Sent to run inside a blocked guest call on its worker (see `Scheduler.runInline`). */
  inline = false;
  /** Arguments pinned in the store for the worker it was sent to (`pinTid`). */
  readonly pinned: ObjectRef[] = [];
  pinTid = 0;

  constructor(spec: TaskSpec, readonly n: number, readonly returns: ObjectRef[]) {
    this.component = spec.component;
    this.name = spec.name;
    this.fn = spec.fn;
    // Arguments are copied at submit, as Ray does: later changes by the caller do not reach the task.
    this.args = spec.args.map(snapshotValue);
    this.then = spec.then?.map((s) => ({ ...s, args: s.args.map(snapshotValue) })) ?? [];
    this.each = spec.each;
    this.ran = spec.ran;
    this.read = spec.read;
    this.opts = spec.opts;
    this.log = spec.log;
    this.shape = spec.opts.shape;
    this.attempt = spec.attempt ?? 0;
    this.borrowed = spec.borrowed ?? [];
    this.parent = spec.parent;
    this.stream = spec.stream;
    this.taskId = spec.taskId ?? newId();
  }
}

export interface Lease { shape: string; request: ResourceSet; devices: DeviceIds; exclusive: boolean }

/**
 * A worker and the lease it holds. `waits`: its guests' requests blocked in
 * `get`/`wait`; `inlines`: tasks sent to run inside those; while waits
 * exceed inlines the worker sits idle and lends its CPU (`lent`).
 */
export interface Slot {
  worker: WorkerHandle; lease?: Lease; waits: number; inlines: number; lent: number;
  /** Nested tasks its guests submitted with a claim (by claim number): they may run on this worker without being sent. */
  readonly claimed: Map<number, Task>;
}
