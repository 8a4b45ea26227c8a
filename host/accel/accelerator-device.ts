import type { DeviceDescription } from './backends/backend.js';

/**
 * A GPU of a node as `tsray.acceleratorDevices()` and `tsray status` report
 * it: what its backend says of it (`backend`, `vendor`, `architecture`,
 * `description`, `shaderF16`, `memoryBytes`: its memory, detected or
 * declared, of which task budgets are shares), and where it is and what it holds.
 */
export interface AcceleratorDevice extends DeviceDescription {
  /** The node it belongs to. */
  nodeId: string;
  /** Its GPU id, as tasks see it in `task-context`. */
  id: number;
  /** Bytes held by running tasks and actors now. */
  usedBytes: number;
}

/** At most this many devices a node may report (a bound for the head, which trusts no node's lists). */
export const MAX_DEVICES_PER_NODE = 256;
