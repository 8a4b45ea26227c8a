/**
 * What the public API runs on: the embedded node, or a driver connected to
 * a cluster. Both keep the caller's objects in an `ObjectStore`; they differ
 * in where tasks run.
 */
import type { NodeRow, ProcessState } from './state-views.js';
import type { MemoryIdentity, NodeMemory } from '../../store/report.js';
import type { AcceleratorDevice } from '../accel/accelerator-device.js';
import type { ObjectStore } from '../../store/object-store.js';
import type { ActorSpec } from './specs.js';
import type { FuncDef } from '../wit/types.js';
import type { ObjectRef } from '../../store/object-ref.js';
import type { ResourceSet } from './resources.js';
import type { TaskSpec } from './specs.js';

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
  /** Whether it runs `TaskSpec.then` and `TaskSpec.each` (fused and shaped tasks): the embedded node's scheduler and a cluster driver do. */
  readonly fusesChains?: boolean;
}

/** Where actors live: this process's threads, or the cluster's nodes. */
export interface ActorBackend {
  /** Creates an actor (it starts once its arguments are ready); returns its id at once. */
  create(spec: ActorSpec): string;
  /** Queues a method call; returns its result refs at once. */
  call(actorId: string, method: FuncDef, args: unknown[], numReturns: number): ObjectRef[];
  named(name: string): { id: string; spec: ActorSpec } | undefined;
  /** The actor named `name` wherever it lives (a cluster's, through its head); absent: only this runtime's (`named`). */
  find?(name: string): Promise<{ id: string; spec: ActorSpec } | undefined>;
  spec(actorId: string): ActorSpec | undefined;
  /** Ends an actor; `why` (default: a kill) is what its later calls' `ActorDiedError` says. */
  kill(actorId: string, noRestart: boolean, why?: string): void;
  /** No handle to the actor remains: it ends (saying `why`) once the calls already made on it finish, as Ray ends an actor out of scope. */
  retire(actorId: string, why: string): void;
  /** Cancels the call behind `ref`; false when `ref` is not an actor call in progress. */
  cancel(ref: ObjectRef, force: boolean): boolean;
  /** Direct links open from guests' workers to actors' workers (see worker/direct-links.ts); absent where no guest runs in this process. */
  readonly direct?: { readonly size: number };
}

/** A worker thread of this process, as `tsray memory` shows it. */
export interface WorkerThread {
  readonly threadId: number;
  memoryUse(): { heapBytes: number; guestBytes: number };
}

/**
 * Work computed by threads of this process (the embedded node): `get` may
 * wait for it without the event loop, which costs tens of microseconds to wake.
 */
export interface LocalExecution {
  /** Whether `ref` is being computed right now by a local worker. */
  isRunning(ref: ObjectRef): boolean;
  /** Sleeps until the local worker computing `ref` posts results (or `ms` pass). */
  waitForResults(ref: ObjectRef, ms: number): void;
  /** Dispatches and collects without the event loop. */
  poll(): void;
  /** The worker threads. */
  workers(): WorkerThread[];
}

export interface Backend {
  readonly nodeId: string;
  readonly objects: ObjectStore;
  readonly scheduler: TaskBackend;
  readonly actors: ActorBackend;
  /** Present when tasks run on threads of this process (the embedded node), absent on a cluster driver. */
  readonly local?: LocalExecution;
  /** The GPUs of every node, with the backend that drives each and the memory tasks hold on it. */
  acceleratorDevices(): Promise<AcceleratorDevice[]>;
  /** The refs guests own (LOCAL_REFERENCEs their workers hold): object id -> worker thread -> count. */
  guestRefs?(): Map<string, Map<number, number>>;
  /** Task and actor state events of every process it reaches (the embedded node's own; a cluster's nodes, through the head). */
  stateReports?(): Promise<{ processes: ProcessState[]; missing: string[] }>;
  /** The `tsray memory` reports of every process it reaches (the embedded node's own; a cluster's nodes and drivers, through the head). */
  memoryReports?(): Promise<{ reports: NodeMemory[]; missing: string[] }>;
  /** Its nodes (the embedded node alone; a cluster's, from the head). */
  nodeRows?(): Promise<NodeRow[]>;
  /** Who its `tsray memory` report is from (absent: the embedded node, a driver on loopback). */
  readonly memoryIdentity?: MemoryIdentity;
  /** Cancels the task behind `ref` and every task it submitted. */
  cancelTree?(ref: ObjectRef, force: boolean): boolean;
  /** Brings objects held by other nodes into this runtime's store before they are read (a cluster driver). */
  fetch?(refs: ObjectRef[]): Promise<void>;
  close(error: Error): Promise<void>;
}
