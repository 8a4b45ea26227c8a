/**
 * tsray: Ray Core for the WebAssembly component model.
 *
 * The component toolchain: `build()` turns an AssemblyScript file and a WIT
 * world into a component, `load()` validates and compiles one, and the
 * returned module lists its exports and calls them in-process.
 *
 * The runtime: `init()` starts an embedded node (scheduler plus a pool of
 * worker threads); `mod.fn(name).remote(...)` submits tasks; `put`, `get`,
 * `wait` and `cancel` work on the `ObjectRef`s they return.
 */
export { build, type BuildOptions, type BuildResult } from './api/build.js';
export { type LoadOptions } from './component/load.js';
export { load, RemoteModule } from './api/remote-module.js';
export {
  ComponentModule, ComponentInstance, ResourceHandle,
  type FunctionInfo, type ResourceInfo, type ParamInfo, type EngineName,
} from './component/module.js';
export type { HostEnv, TaskInfo, LogLevel } from './engine/host-imports.js';
export {
  TsrayError, ComponentError, WitError, BuildError, ArgumentTypeError, TaskError, OutOfMemoryError,
  TaskTimeoutError, GetTimeoutError, TaskCancelledError, WorkerCrashedError, RuntimeStateError,
  InfeasibleTaskError, InvalidArgumentError, ActorDiedError, ObjectStoreFullError, ObjectLostError, OutOfDiskError,
  AuthError, ConnectionError, UnschedulableError, InsecurePathError, NotGivenError, StorageError,
} from './errors.js';
export type { ResolvedWorld, WitType, FuncDef } from './wit/types.js';
export {
  init, shutdown, isInitialized, put, free, get, getView, wait, cancel, memory, getRuntimeContext, type RuntimeContext, availableResources, clusterResources, acceleratorDevices,
  type GetOptions, type WaitOptions, type CancelOptions, type ValuesOf,
} from './api/api.js';
export { getActor, findActor, kill, type KillOptions } from './api/actors.js';
export { ActorClass, ActorHandle, ActorMethod, type ActorHandleOf } from './api/actor-handle.js';
export type { ProgressOption } from './api/progress.js';
export type {
  ComponentTypes, ActorTypes, UntypedComponent, UntypedActor, UntypedFunction, Input, RemoteArgs, RemoteResult,
} from './api/typing.js';
export type { ActorOptions } from './core/options.js';
export type { InitOptions } from './node/node.js';
export type { AcceleratorDevice } from './accel/accelerator-device.js';
export type { LogOptions } from './core/log-options.js';
export type { TaskOptions, ResourceOptions, SchedulingStrategy } from './core/options.js';
export { ObjectRef } from '../store/object-ref.js';
export { ObjectView } from './api/object-view.js';
export { RemoteFunction, type StreamingFunction } from './api/remote-function.js';
/** The state API (Ray's `ray.util.state`): `await tsray.state.listTasks({ filters: ['state=RUNNING'] })`, `listActors`, `getTask`, `summarizeTasks`, `timeline`, ... */
export * as state from './api/state.js';
/** Datasets (Ray Datasets): `tsray.data.range(n).mapBatches(mod.fn('f'))`, `take`, `iterBatches`, `stats()`. */
export * as data from './data/index.js';
export { dashboardUrl } from './api/dashboard.js';
export { testing } from './api/testing.js';
export { ObjectRefGenerator } from './api/object-ref-generator.js';
export {
  formatMemory, type MemoryReport, type NodeMemory, type ReferenceRow, type MemorySummary, type ThreadMemory,
  type FormatOptions as MemoryFormatOptions, type GroupBy, type SortBy, type Units,
} from '../store/report.js';
export type { ReferenceType } from '../store/references.js';
export type { StoreStats } from '../store/object-store.js';
export type { SpillStats } from '../store/spill.js';
