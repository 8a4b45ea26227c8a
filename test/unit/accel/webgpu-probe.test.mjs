// GPUs found through WebGPU when no vendor tool is installed: Dawn's adapters,
// less software rasterisers, asked once per machine in a child process and
// kept in the user's directory, keyed by the installed drivers.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hardwareAdapters, probeWebGpu } from '../../../dist/host/node/webgpu-probe.js';

t.test('software adapters do not count as GPUs', async (t) => {
  t.strictSame(hardwareAdapters([
    { name: 'NVIDIA H100 80GB HBM3' }, { name: 'SwiftShader Device (Subzero)' }, { name: 'llvmpipe (LLVM 15.0.6, 256 bits)' },
    { name: 'AMD Radeon Pro W7900 (RADV NAVI31)' }, { name: 'Microsoft Basic Render Driver' },
  ]), ['NVIDIA H100 80GB HBM3', 'AMD Radeon Pro W7900 (RADV NAVI31)']);
});

t.test('a machine whose only adapter is SwiftShader has no GPU, and the answer is kept', async (t) => {
  const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
  if (!existsSync(icd)) t.fail(`no SwiftShader at ${icd}: install Debian's chromium and libvulkan1 (.ci/run does)`);
  const saved = { TMPDIR: process.env.TMPDIR, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES };
  t.teardown(() => { for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v; });
  process.env.TMPDIR = mkdtempSync(join(tmpdir(), 'tsray-probe-'));
  process.env.VK_ICD_FILENAMES = icd;
  t.strictSame(probeWebGpu(), { names: [], listed: 1 }, 'Dawn lists one adapter here, SwiftShader, which is no GPU');
  const kept = JSON.parse(readFileSync(join(process.env.TMPDIR, `tsray-${process.geteuid()}`, 'webgpu-adapters.json'), 'utf8'));
  t.strictSame(kept.names, [], 'kept in the user\'s directory');
  const t0 = performance.now();
  t.strictSame(probeWebGpu(), { names: [], listed: 1 });
  t.ok(performance.now() - t0 < 50, 'the second ask reads the kept answer');
  process.env.VK_ICD_FILENAMES = '/nonexistent/driver.json';
  t.strictSame(probeWebGpu(), { names: [], listed: 0 }, 'other drivers: asked again (and none found)');
});
