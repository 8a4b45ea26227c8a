/**
 * GPUs this machine has, as a node declares them when not told: the vendors'
 * tools when present (`nvidia-smi`, AMD's `rocm-smi`, Intel's `xpu-smi`:
 * count and type), else the hardware adapters Dawn lists (webgpu-probe.ts),
 * else none. Resources are logical, as in Ray: a node may
 * also declare GPUs it does not have (`numGpus`). Parsers are pure, so tests
 * feed them the tools' output.
 */
import { spawnSync } from 'node:child_process';
import { probeWebGpu } from './webgpu-probe.js';

export interface DetectedAccelerators {
  count: number;
  /** A short type such as `H100`, `MI300X` or `A10G`, when known. */
  type?: string;
  /** The tool that found them. */
  source?: 'nvidia-smi' | 'rocm-smi' | 'xpu-smi' | 'webgpu';
}

let detected: DetectedAccelerators | undefined;

/** `NVIDIA H100 80GB HBM3` -> `H100`; `AMD Instinct MI300X` -> `MI300X`; `Intel(R) Data Center GPU Max 1550` -> `Max1550`. */
export function acceleratorTypeOf(name: string): string | undefined {
  const intel = /\bGPU (Max|Flex) (\d{3,4})\b/.exec(name);
  if (intel) return `${intel[1]}${intel[2]}`;
  const m = /\b([A-Z]{1,3}\d{2,4}[A-Z]?)\b/.exec(name.replace(/^(NVIDIA|Tesla|GeForce|Quadro|AMD|Instinct|Radeon)\s+/gi, '').replace(/^(Instinct|Radeon)\s+/i, ''));
  return m?.[1];
}

/** `nvidia-smi --query-gpu=name --format=csv,noheader`: one name per line. */
export function parseNvidiaSmi(out: string): DetectedAccelerators {
  const names = out.split('\n').map((l) => l.trim()).filter(Boolean);
  return found(names, 'nvidia-smi');
}

/** `rocm-smi --showproductname --json`: `{ "card0": { "Card series": ..., "Card model": ... }, ... }`. */
export function parseRocmSmi(out: string): DetectedAccelerators {
  const cards = Object.entries(JSON.parse(out) as Record<string, Record<string, string>>).filter(([k]) => /^card\d+$/.test(k));
  return found(cards.map(([, v]) => v['Card series'] ?? v['Card SKU'] ?? v['Card model'] ?? ''), 'rocm-smi');
}

/** `xpu-smi discovery -j`: `{ "device_list": [{ "device_id": 0, "device_name": ... }, ...] }`. */
export function parseXpuSmi(out: string): DetectedAccelerators {
  const list = (JSON.parse(out) as { device_list?: { device_name?: string }[] }).device_list ?? [];
  return found(list.map((d) => d.device_name ?? ''), 'xpu-smi');
}

function found(names: string[], source: DetectedAccelerators['source']): DetectedAccelerators {
  if (names.length === 0) return { count: 0 };
  const type = names[0] ? acceleratorTypeOf(names[0]) : undefined;
  return { count: names.length, source, ...(type ? { type } : {}) };
}

const TOOLS: ReadonlyArray<[cmd: string, args: string[], parse: (out: string) => DetectedAccelerators]> = [
  ['nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], parseNvidiaSmi],
  ['rocm-smi', ['--showproductname', '--json'], parseRocmSmi],
  ['xpu-smi', ['discovery', '-j'], parseXpuSmi],
];

export function detectAccelerators(): DetectedAccelerators {
  if (detected) return detected;
  detected = { count: 0 };
  for (const [cmd, args, parse] of TOOLS) {
    try {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
      if (r.status !== 0) continue;
      const d = parse(r.stdout);
      if (d.count > 0) return (detected = d);
    } catch {
      // Not installed, or output we cannot read: this vendor's GPUs are not counted.
    }
  }
  return (detected = found(probeWebGpu().names, 'webgpu'));
}

/** The custom resource a node of accelerator type `t` offers and `acceleratorType: t` requests (Ray's scheme). */
export function acceleratorResource(t: string): string {
  return `accelerator_type:${t}`;
}
