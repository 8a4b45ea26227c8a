/**
 * What the public API runs on: the embedded node, or a driver connected to
 * a cluster. Both keep the caller's objects in an `ObjectStore`; they differ
 * in where tasks run.
 */
import type { ObjectStore } from '../../store/object-store.js';
import type { ActorManager } from '../actors/manager.js';
import type { ObjectRef } from '../objects/object-ref.js';
import type { ResourceSet } from '../scheduler/resources.js';
import type { TaskSpec } from '../scheduler/scheduler.js';
import type { WorkerHandle } from '../worker/pool.js';
import { InvalidArgumentError } from '../errors.js';

/** Where tasks go: the local scheduler, or the cluster's head. */
export interface TaskBackend {
  /** Registers a task and returns its result refs at once. */
  submit(spec: TaskSpec): ObjectRef[];
  /** Cancels the task behind `ref`; false when there is nothing to cancel. */
  cancel(ref: ObjectRef, force: boolean): boolean;
  /** Fault injection: kills the worker running the task behind `ref`. */
  crashWorkerOf(ref: ObjectRef): boolean;
  availableResources(): ResourceSet;
  totalResources(): ResourceSet;
  readonly workerCount: number;
}

export interface Runtime {
  readonly nodeId: string;
  readonly objects: ObjectStore;
  readonly scheduler: TaskBackend;
  /** Actors of this runtime; undefined where actors cannot be created yet (a cluster driver). */
  readonly actors: ActorManager | undefined;
  /** Whether `ref` is being computed right now by a local worker. */
  isRunning(ref: ObjectRef): boolean;
  /** Sleeps until the local worker computing `ref` posts results (or `ms` pass). */
  waitForResults(ref: ObjectRef, ms: number): void;
  /** Dispatches and collects without the event loop. */
  poll(): void;
  /** Brings objects held by other nodes into this runtime's store before they are read (a cluster driver). */
  fetch?(refs: ObjectRef[]): Promise<void>;
  /** Local worker threads. */
  workers(): WorkerHandle[];
  close(error: Error): Promise<void>;
}

/** The runtime's actors, or a clear error where there are none. */
export function actorsOf(rt: Runtime): ActorManager {
  if (!rt.actors) throw new InvalidArgumentError('actors cannot be created through a cluster driver yet; run them on the embedded node (tsray.init() without an address)');
  return rt.actors;
}
