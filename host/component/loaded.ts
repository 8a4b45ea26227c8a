/** What `load` makes of a component's bytes, before any engine wraps it. */
import type { ResolvedWorld } from '../wit/types.js';
import type { Metadata } from './binary.js';
import type { JcoGlue } from '../engine/jco.js';

/** Which engine runs a component's instances. */
export type EngineName = 'lean' | 'jco';

/** The lean engine's view of a component: its one main core module. */
export interface LeanCore {
  coreBytes: Uint8Array;
  core: WebAssembly.Module;
  /** Whether a pooled instance can be reset by restoring memory and globals (else it is replaced after each task). */
  resettable: boolean;
}

/** A validated component: its world (read from the binary's own types) and how it runs. */
export interface LoadedComponent {
  hash: string;
  /** The component's own bytes (shipped to cluster nodes that lack it). */
  bytes: Uint8Array;
  world: ResolvedWorld;
  /** tsray's build metadata, when `tsray build` made it (names only; the types come from the binary). */
  metadata?: Metadata;
  /** The engine its tasks run on, and why (shown by `tsray inspect`). */
  engine: EngineName;
  engineReason: string;
  /** Imports served by the WASI capability host (each may need a grant). */
  wasiImports: string[];
  /** Present when the lean engine can run it. */
  lean?: LeanCore;
  /** The transpiled glue, present when `engine` is `jco`. */
  jco?: JcoGlue;
}
