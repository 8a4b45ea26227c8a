/**
 * GPUs found through WebGPU, for machines whose vendors' tools are absent:
 * the adapters Dawn lists, less software ones. Listing them loads Dawn and
 * the Vulkan drivers (a few hundred milliseconds), so it runs in a child
 * process (the node's own process never loads Dawn outside its device
 * thread) and its answer is kept in this user's directory, keyed by the
 * drivers installed, so a machine pays for it once.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSoftwareAdapter, vulkanDriverFiles } from '../accel/backends/webgpu/dawn.js';
import { userDir } from '../util/private-dir.js';

export interface ProbedAdapters {
  /** Names of the hardware adapters Dawn lists. */
  names: string[];
  /** How many adapters Dawn listed, software ones included (-1: Dawn could not be asked). */
  listed: number;
}

const DAWN = new URL('../accel/backends/webgpu/dawn.js', import.meta.url).href;
const CACHE = 'webgpu-adapters.json';

/** The hardware adapters among Dawn's list. */
export function hardwareAdapters(list: readonly { name: string }[]): string[] {
  return list.map((a) => a.name).filter((n) => !isSoftwareAdapter(n));
}

/** What identifies the installed drivers: their files and modification times. */
function driversKey(files: string[]): string {
  return JSON.stringify(files.map((f) => {
    try {
      return [f, statSync(f).mtimeMs];
    } catch {
      return [f, 0];
    }
  }));
}

/** The hardware adapters Dawn finds here (none without a Vulkan driver, or when Dawn does not load). */
export function probeWebGpu(): ProbedAdapters {
  const files = vulkanDriverFiles();
  if (files.length === 0) return { names: [], listed: 0 };
  const key = driversKey(files);
  let path: string | undefined;
  try {
    path = join(userDir(), CACHE);
    const cached = JSON.parse(readFileSync(path, 'utf8')) as { key?: string; names?: unknown; listed?: unknown };
    if (cached.key === key && Array.isArray(cached.names) && cached.names.every((n) => typeof n === 'string') && typeof cached.listed === 'number') {
      return { names: cached.names, listed: cached.listed };
    }
  } catch {
    // No answer kept yet (or an unreadable one): ask Dawn.
  }
  const script = `const { listAdapters } = await import(${JSON.stringify(DAWN)}); process.stdout.write(JSON.stringify(await listAdapters()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
  let names: string[] = [];
  let listed = -1;
  try {
    if (r.status === 0) {
      const list = JSON.parse(r.stdout) as { name: string }[];
      names = hardwareAdapters(list);
      listed = list.length;
    }
  } catch {
    names = [];
  }
  if (path) {
    try {
      writeFileSync(`${path}.${process.pid}`, JSON.stringify({ key, names, listed }), { mode: 0o600 });
      renameSync(`${path}.${process.pid}`, path);
    } catch {
      // Not kept: the next node asks again.
    }
  }
  return { names, listed };
}
