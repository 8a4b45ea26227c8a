/**
 * The visible-devices variables a node honours at start, as Ray does: with
 * `CUDA_VISIBLE_DEVICES=1,3` the node has two GPUs, ids 1 and 3. Pure: the
 * environment is passed in, so tests need not touch `process.env`.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * Which variable limits which accelerator kind (Ray's resource names). GPUs
 * have three vendors' variables; the first one set, in this order, counts.
 */
export const VISIBLE_DEVICES_VARS: ReadonlyArray<readonly [kind: string, variable: string]> = [
  ['GPU', 'CUDA_VISIBLE_DEVICES'],
  ['GPU', 'ROCR_VISIBLE_DEVICES'],
  ['GPU', 'ONEAPI_DEVICE_SELECTOR'],
  ['neuron_cores', 'NEURON_RT_VISIBLE_CORES'],
  ['TPU', 'TPU_VISIBLE_CHIPS'],
  ['HPU', 'HABANA_VISIBLE_MODULES'],
  ['NPU', 'ASCEND_RT_VISIBLE_DEVICES'],
];

/** The devices of one kind a variable lets the node see. */
export interface VisibleDevices {
  variable: string;
  ids: number[];
}

const MAX_ID = 2 ** 32 - 1; // ids reach guests as u32

/**
 * The device ids `value` of `variable` lists: `1,3` -> [1, 3]; empty means
 * no devices. `ONEAPI_DEVICE_SELECTOR` may name its backend (`level_zero:0,1`);
 * `CUDA_VISIBLE_DEVICES=NoDevFiles` (set by some container runtimes) means none.
 * Anything else (UUIDs, ranges, repeats) is refused rather than guessed at.
 */
export function parseVisibleIds(variable: string, value: string): number[] {
  let v = value.trim();
  if (variable === 'ONEAPI_DEVICE_SELECTOR') v = v.replace(/^level_zero:/, '');
  if (variable === 'CUDA_VISIBLE_DEVICES' && v === 'NoDevFiles') return [];
  if (v === '') return [];
  const ids: number[] = [];
  for (const part of v.split(',')) {
    const s = part.trim();
    const id = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(id <= MAX_ID)) {
      throw new InvalidArgumentError(`${variable}=${JSON.stringify(value)}: '${s}' is not a device index; list whole numbers, e.g. ${variable}=1,3`);
    }
    if (ids.includes(id)) throw new InvalidArgumentError(`${variable}=${JSON.stringify(value)} lists device ${id} twice`);
    ids.push(id);
  }
  return ids;
}

/** The visible devices per kind that `env` sets (kinds whose variables are all unset are absent). */
export function visibleDevices(env: Readonly<Record<string, string | undefined>>): Map<string, VisibleDevices> {
  const out = new Map<string, VisibleDevices>();
  for (const [kind, variable] of VISIBLE_DEVICES_VARS) {
    const value = env[variable];
    if (value === undefined || out.has(kind)) continue;
    out.set(kind, { variable, ids: parseVisibleIds(variable, value) });
  }
  return out;
}

/**
 * How many devices of `kind` a node has, and their ids: the visible list when
 * a variable sets one (an explicit count may take fewer of them, never more,
 * as in Ray), else `declared` devices numbered from 0. `option` names the
 * count in errors (`numGpus`, `resources.TPU`).
 */
export function deviceIdsOf(kind: string, option: string, declared: number | undefined, visible: VisibleDevices | undefined): { count: number; ids?: number[] } {
  if (!visible) return { count: declared ?? 0 };
  const { variable, ids } = visible;
  if (declared === undefined) return { count: ids.length, ids };
  if (declared > ids.length) {
    throw new InvalidArgumentError(`${option} is ${declared}, but ${variable}=${ids.join(',')} lets this node see ${ids.length} ${kind} device${ids.length === 1 ? '' : 's'}; declare at most ${ids.length} or change ${variable}`);
  }
  return { count: declared, ids: ids.slice(0, Math.floor(declared)) };
}
