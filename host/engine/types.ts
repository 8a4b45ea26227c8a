/** The contract between a loaded component and the engine that runs its instances. */
import type { FuncDef, ResourceDef } from '../wit/types.js';

/** An exported function as an engine calls it. */
export interface ExportRef {
  /** The exporting interface's name; undefined for world-level functions. */
  iface?: string;
  func: FuncDef;
}

/** One live instance of a component. Calls are synchronous; one runs at a time. */
export interface EngineInstance {
  /**
   * Calls an export with validated arguments. A top-level `result` comes back
   * as `{ tag: 'ok' | 'err', val }`; everything else as its JavaScript value.
   * Guest traps throw `TaskError`.
   */
  call(ref: ExportRef, args: readonly unknown[]): unknown;
  /** Whether `v` is a live handle of resource `r` owned by this instance. */
  isHandle(r: ResourceDef, v: unknown): boolean;
  /** Drops a handle this instance created, running the guest's destructor. */
  drop(token: unknown, r: ResourceDef): void;
  /** Releases the instance; later calls fail. */
  dispose(): void;
  /** Restores the just-instantiated state if the engine can do so exactly; false otherwise. */
  reset?(): boolean;
  /** Bytes of guest linear memory this instance holds (its reset snapshot included), when known. */
  readonly memoryBytes?: number;
  /** True once a trap has made the instance unusable. */
  readonly broken?: boolean;
}

/** Makes the user-visible handle object for a resource an engine returned. */
export type HandleFactory = (instance: EngineInstance, r: ResourceDef, token: unknown) => unknown;
