/** The process's runtime, set by `init()` and cleared by `shutdown()`. */
import { RuntimeStateError } from '../errors.js';
import type { Runtime } from '../core/runtime.js';

let current: Runtime | undefined;
let everShutDown = false;

export function setNode(n: Runtime | undefined): void {
  if (!n && current) everShutDown = true;
  current = n;
}

export function currentNode(): Runtime | undefined {
  return current;
}

export function requireNode(): Runtime {
  if (!current) {
    throw new RuntimeStateError(everShutDown ? 'tsray was shut down; call tsray.init() again to start a new runtime' : 'tsray is not initialized; call await tsray.init() first');
  }
  return current;
}
