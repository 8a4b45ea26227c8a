/**
 * tsray: Ray Core for the WebAssembly component model.
 *
 * This entry point exposes the component toolchain: `build()` turns an
 * AssemblyScript file and a WIT world into a component, `load()` validates and
 * compiles one, and the returned module lists its exports and calls them.
 */
export { build, type BuildOptions, type BuildResult } from './build/build.js';
export { load, type LoadOptions } from './component/load.js';
export {
  ComponentModule, ComponentInstance, ResourceHandle,
  type FunctionInfo, type ResourceInfo, type ParamInfo, type EngineName,
} from './component/module.js';
export type { HostEnv, TaskInfo, LogLevel } from './engine/host-imports.js';
export {
  TsrayError, ComponentError, WitError, BuildError, ArgumentTypeError, TaskError, OutOfMemoryError,
} from './errors.js';
export type { ResolvedWorld, WitType, FuncDef } from './wit/types.js';
