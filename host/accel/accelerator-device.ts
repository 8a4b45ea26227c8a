/** A GPU of a node as `tsray.acceleratorDevices()` and `tsray status` report it. */
export interface AcceleratorDevice {
  /** The node it belongs to. */
  nodeId: string;
  /** Its GPU id, as tasks see it in `task-context`. */
  id: number;
  /** What drives it for tsray:accel: `webgpu` (Dawn) or `cpu` (the host's kernels). */
  backend: 'webgpu' | 'cpu';
  vendor: string;
  architecture: string;
  description: string;
  /** Whether raw WGSL may `enable f16;` on it. */
  shaderF16: boolean;
  /** Its memory in bytes (detected or declared), of which task budgets are shares. */
  memoryBytes: number;
  /** Bytes held by running tasks and actors now. */
  usedBytes: number;
}

/** At most this many devices a node may report (a bound for the head, which trusts no node's lists). */
export const MAX_DEVICES_PER_NODE = 256;
