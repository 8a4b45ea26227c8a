// tsray:accel on the WebGPU backend (Dawn). Without a GPU it runs on Debian
// chromium's SwiftShader, which the node finds by itself; CI installs chromium
// and libvulkan1 for it. The same suite as the CPU backend, plus raw WGSL.
import t from 'tap';
import { existsSync } from 'node:fs';
import * as tsray from 'tsray';
import { accelSuite, random } from '../helpers/accel-suite.mjs';
import { prebuilt } from '../helpers/components.mjs';

const softwareGpu = ['/usr/lib/chromium/vk_swiftshader_icd.json'].some((p) => existsSync(p));
if (!process.env.VK_ICD_FILENAMES && !softwareGpu) {
  t.fail('no Vulkan driver for Dawn: install Debian\'s chromium and libvulkan1 (apt-get install chromium libvulkan1), as .ci/run does');
} else {
  t.test('the WebGPU backend', async (t) => {
    accelSuite(t, 'webgpu');

    t.test('raw WGSL: buffers, pipeline, bind group, dispatch and read back', async (t) => {
      const c = await tsray.load(await prebuilt('accel'));
      const data = random(1000, 7);
      const out = await tsray.get(c.fn('wgsl-double').options({ numGpus: 1 }).remote(0, data));
      t.strictSame([...out], [...data].map((x) => x * 2));
    });

    t.test('WGSL errors come back as typed accel errors the guest can handle', async (t) => {
      const c = await tsray.load(await prebuilt('accel'));
      const compile = (code) => tsray.get(c.fn('wgsl-compile').options({ numGpus: 1 }).remote(0, code));
      t.equal(await compile('@compute @workgroup_size(1) fn main() {}'), 'ok');
      t.match(await compile('fn main( {'), /^validation: 1:\d+: expected '\)' for function declaration/);
      t.match(await compile('@compute @workgroup_size(1) fn other() {}'), /^validation: Entry point "+main"+ doesn't exist in the shader module/);
      const [device] = await tsray.acceleratorDevices();
      const f16 = await compile('enable f16;\n@compute @workgroup_size(1) fn main() { let x: f16 = 1.0h; }');
      if (device.shaderF16) t.equal(f16, 'ok');
      else t.match(f16, /^unsupported: this adapter has no shader-f16/);
    });

    t.test('raw buffers count against the budget', async (t) => {
      const c = await tsray.load(await prebuilt('accel'));
      t.equal(await tsray.get(c.fn('alloc-buffers').options({ numGpus: 0.5 }).remote(0, 1048576n, 10, true)), 2n * 1048576n);
      await t.rejects(tsray.get(c.fn('alloc-buffers').options({ numGpus: 0.5 }).remote(0, 1048576n, 10, false)), { name: 'OutOfMemoryError', message: /device 0 \(webgpu\)/ });
      t.equal((await tsray.acceleratorDevices())[0].usedBytes, 0);
    });
  });
}
