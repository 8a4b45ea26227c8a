/**
 * Messages of the accelerator link: worker threads call the node's device
 * thread synchronously (a guest's host call must return a value), the node's
 * main thread starts and queries it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { AccelErrorCode, DeviceDescription, DeviceLimits } from './backends/backend.js';

/** What a task or actor may use through tsray:accel (see core/accel-grant.ts, which makes it from a lease). */
export interface AccelGrant {
  /** GPU ids, as `task-context` lists them. */
  ids: number[];
  /** The share of each device it holds (`numGpus: 0.25` -> 0.25; whole GPUs -> 1). */
  share: number;
  /** A declared budget per device in bytes (`acceleratorMemory`). */
  memory?: number;
}

/** One call from a worker. `grant` comes with a scope's first call. */
export interface AccelRequest {
  seq: number;
  scope: string;
  grant?: AccelGrant;
  op: string;
  args: unknown[];
}

export type AccelReply =
  | { seq: number; ok: true; value: unknown }
  | { seq: number; ok: false; code: AccelErrorCode; message: string };

/** A device as the node reports it. */
export interface DeviceReport extends DeviceDescription {
  id: number;
  limits: DeviceLimits;
  /** Bytes held by live scopes now. */
  used: number;
}

/** How the node asks for its devices. */
export interface DeviceThreadInit {
  ids: number[];
  backend: 'auto' | 'webgpu' | 'cpu';
  /** Device memory to assume where the backend cannot tell (bytes). */
  memoryBytes?: number;
}

/** From the main thread to the device thread. */
export type ControlMsg =
  | { t: 'link'; port: MessagePort; signal: SharedArrayBuffer }
  | { t: 'report'; seq: number }
  | { t: 'close' };

/** From the device thread to the main thread. */
export type ControlReply =
  | { t: 'ready'; devices: DeviceReport[] }
  | { t: 'failed'; message: string }
  | { t: 'report'; seq: number; devices: DeviceReport[] };

/** What a worker gets to reach the device thread. */
export interface LinkEnd {
  port: MessagePort;
  signal: SharedArrayBuffer;
}
