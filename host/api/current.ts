/** The process's runtime, set by `init()` and cleared by `shutdown()`. */
import { RuntimeStateError } from '../errors.js';
import type { Backend } from '../core/backend.js';

let current: Backend | undefined;
let everShutDown = false;

export function setNode(n: Backend | undefined): void {
  if (!n && current) everShutDown = true;
  current = n;
}

export function currentNode(): Backend | undefined {
  return current;
}

export function requireNode(): Backend {
  if (!current) {
    throw new RuntimeStateError(everShutDown ? 'tsray was shut down; call tsray.init() again to start a new runtime' : 'tsray is not initialized; call await tsray.init() first');
  }
  return current;
}
