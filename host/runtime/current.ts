/** The process's runtime, set by `init()` and cleared by `shutdown()`. */
import { RuntimeStateError } from '../errors.js';
import type { EmbeddedNode } from './node.js';

let current: EmbeddedNode | undefined;
let everShutDown = false;

export function setNode(n: EmbeddedNode | undefined): void {
  if (!n && current) everShutDown = true;
  current = n;
}

export function currentNode(): EmbeddedNode | undefined {
  return current;
}

export function requireNode(): EmbeddedNode {
  if (!current) {
    throw new RuntimeStateError(everShutDown ? 'tsray was shut down; call tsray.init() again to start a new runtime' : 'tsray is not initialized; call await tsray.init() first');
  }
  return current;
}
