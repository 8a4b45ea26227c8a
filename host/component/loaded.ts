/** What `load` makes of a component's bytes, before any engine wraps it. */
import type { ResolvedWorld } from '../wit/types.js';
import type { Metadata } from './binary.js';

/** A validated component: its world, its WIT metadata and its main core module. */
export interface LoadedComponent {
  hash: string;
  /** The component's own bytes (shipped to cluster nodes that lack it). */
  bytes: Uint8Array;
  world: ResolvedWorld;
  metadata: Metadata;
  coreBytes: Uint8Array;
  core: WebAssembly.Module;
  /** Whether a pooled instance can be reset by restoring memory and globals (else it is replaced after each task). */
  resettable: boolean;
}
