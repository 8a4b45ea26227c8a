/** Fault injection and counters for tests of failure handling. */
import type { ObjectRef } from '../../store/object-ref.js';
import { requireNode } from './current.js';

export const testing = {
  /** Kills the worker running the task behind `ref` as if it crashed. False if that task is not running. */
  crashWorker(ref: ObjectRef): boolean {
    return requireNode().scheduler.crashWorkerOf(ref);
  },
  /** Worker threads alive now. */
  workerCount(): number {
    return requireNode().scheduler.workerCount;
  },
  /** Direct links open now from guests' workers to actors' workers (see worker/direct-links.ts). */
  directLinks(): number {
    return requireNode().actors.direct?.size ?? 0;
  },
};
