/**
 * GPUs this machine has, as a node declares them when not told: `nvidia-smi`
 * when it is present (count and type), else none. Resources are logical, as
 * in Ray: a node may also declare GPUs it does not have (`numGpus`).
 */
import { spawnSync } from 'node:child_process';

export interface DetectedAccelerators {
  count: number;
  /** A short type such as `H100` or `A10G`, when known. */
  type?: string;
}

let detected: DetectedAccelerators | undefined;

/** `NVIDIA H100 80GB HBM3` -> `H100`; `Tesla V100-SXM2-16GB` -> `V100`; `NVIDIA A10G` -> `A10G`. */
export function acceleratorTypeOf(name: string): string | undefined {
  const m = /\b([A-Z]{1,3}\d{2,4}[A-Z]?)\b/.exec(name.replace(/^(NVIDIA|Tesla|GeForce|Quadro)\s+/gi, ''));
  return m?.[1];
}

export function detectAccelerators(): DetectedAccelerators {
  if (detected) return detected;
  detected = { count: 0 };
  try {
    const r = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) {
      const names = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
      const type = names[0] ? acceleratorTypeOf(names[0]) : undefined;
      detected = { count: names.length, ...(type ? { type } : {}) };
    }
  } catch {
    // No nvidia-smi: no GPUs that we know of.
  }
  return detected;
}

/** The custom resource a node of accelerator type `t` offers and `acceleratorType: t` requests (Ray's scheme). */
export function acceleratorResource(t: string): string {
  return `accelerator_type:${t}`;
}
