// The WebGPU backend's WGSL kernels against the same plain loops as the CPU
// backend's, on Dawn (SwiftShader where there is no GPU).
import { gpuProblem } from '../../helpers/software-gpu.mjs';
import t from 'tap';
import { source } from '../../helpers/source.mjs';
import { kernelSuite } from '../../helpers/accel-kernels.mjs';

if (gpuProblem) {
  t.fail(`WebGPU tests cannot run: ${gpuProblem}`);
} else {
  const { openWebGpuDevices } = await source('host/accel/backends/webgpu/backend.ts');
  const [dev] = await openWebGpuDevices(1);
  t.teardown(() => dev.close());

  t.test('the device describes its adapter', async (t) => {
    t.equal(dev.description.backend, 'webgpu');
    t.ok(dev.description.vendor.length > 0, `vendor ${dev.description.vendor}`);
    t.equal(typeof dev.description.shaderF16, 'boolean');
    t.ok(dev.limits.maxStorageBufferBindingSize >= 128 << 20, 'the binding limit was raised to the adapter\'s');
    t.equal(dev.limits.maxComputeWorkgroupsPerDimension, 65535);
    t.equal(dev.tensorBytes('float16', 3), 8, 'halves pack two to a word, rounded up to 4 bytes');
    t.ok(dev.raw, 'raw WGSL compute is there');
  });

  t.test('kernels', (t) => kernelSuite(t, dev));

  await t.test('a long 1-D kernel dispatches past 65535 workgroups on a 2-D grid', async (t) => {
    const n = 65536 * 64 + 100;
    const a = dev.allocTensor('float32', n);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = i % 1000;
    dev.upload(a, x);
    const out = dev.allocTensor('float32', n);
    dev.scale(out, a, 2);
    const got = await dev.download(out);
    let bad = -1;
    for (let i = 0; i < n; i++) if (got[i] !== 2 * (i % 1000)) { bad = i; break; }
    t.equal(bad, -1, 'every element, including the last workgroups, was written');
    dev.freeTensor(a);
    dev.freeTensor(out);
  });
  // Dawn may abort at exit before tap prints the plan: say that every subtest ran (test/helpers/dawn-child.mjs).
  console.log('# dawn body: 3 subtests ran');
}
