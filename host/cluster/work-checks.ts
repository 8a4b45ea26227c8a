/**
 * What a node checks of work from the wire before it runs it, by the same
 * rules `.remote()` applies on a driver: the function exists, `numReturns`
 * fits its WIT result, the arguments fit its parameters. Work that fails
 * a check fails with the public API's typed error, before any result
 * object is made for it.
 */
import { ArgumentTypeError, ComponentError } from '../errors.js';
import { checkCapabilities, type Each } from '../core/specs.js';
import type { LoadedComponent } from '../component/loaded.js';
import type { FuncDef } from '../wit/types.js';
import { checkNumReturns } from '../core/options.js';
import { checkRemoteArgs } from '../core/remote-args.js';

/** The export a task names: `name`, or `iface#name` for a function of an exported interface. */
export function taskFunc(component: LoadedComponent, key: string): FuncDef {
  for (const item of component.world.exports) {
    if (item.kind === 'func') { if (item.func.name === key) return item.func; continue; }
    for (const f of item.iface.funcs) if (!f.resource && `${item.name}#${f.name}` === key) return f;
  }
  throw new ComponentError(`component ${component.hash.slice(0, 12)} has no exported function '${key}'`);
}

/**
 * Checks a task: its function, its `numReturns` and its arguments (values,
 * or refs already pulled here); with `each`, its first argument is a block
 * the function takes in pieces, checked as the worker cuts it.
 */
export function checkTask(component: LoadedComponent, fn: string, numReturns: number, args: unknown[], capabilities?: readonly string[], each?: Each): void {
  const f = taskFunc(component, fn);
  checkNumReturns(f, numReturns);
  if (each) {
    if (f.params.length !== args.length) throw new ArgumentTypeError(`${f.name} takes ${f.params.length} arguments, got ${args.length}`);
    checkRemoteArgs(f, f.params.slice(1), args.slice(1));
  } else checkRemoteArgs(f, f.params, args);
  // The driver checked the grants too; a node trusts nothing it did not check itself.
  checkCapabilities(component, `task '${f.name}'`, capabilities);
}

/** Checks a later function of a fused task: it takes the value before it and `args` (plain values, as `remoteChain` allows). */
export function checkChainStep(component: LoadedComponent, fn: string, args: unknown[]): void {
  const f = taskFunc(component, fn);
  if (f.params.length !== 1 + args.length) throw new ArgumentTypeError(`${f.name} cannot follow in a fused task: it takes ${f.params.length} arguments, not the value before it and ${args.length} more`);
  checkRemoteArgs(f, f.params.slice(1), args);
}

/** Checks an actor method call: its `numReturns` and its arguments (after `self`). */
export function checkCall(method: FuncDef, numReturns: number, args: unknown[]): void {
  checkNumReturns(method, numReturns);
  checkRemoteArgs(method, method.params.slice(1), args);
}
