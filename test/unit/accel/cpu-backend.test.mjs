// The CPU backend's kernels against plain loops, and what it says about itself.
import t from 'tap';
import { source } from '../../helpers/source.mjs';
import { kernelSuite } from '../../helpers/accel-kernels.mjs';

const { createCpuDevice } = await source('host/accel/backends/cpu/backend.ts');

t.test('the CPU device describes itself and has no raw WGSL', async (t) => {
  const dev = createCpuDevice({ memoryBytes: 1 << 20 });
  t.match(dev.description, { backend: 'cpu', vendor: 'tsray', architecture: 'cpu', shaderF16: true, memoryBytes: 1 << 20 });
  t.equal(dev.limits.maxBufferSize, 1 << 20);
  t.equal(dev.raw, undefined);
  t.equal(dev.tensorBytes('float16', 3), 6, 'halves are not padded');
  dev.close();
  t.throws(() => dev.allocTensor('float32', 1), { code: 'device-lost' }, 'closed');
});

t.test('allocations past the device memory fail with out-of-memory and freeing returns it', async (t) => {
  const dev = createCpuDevice({ memoryBytes: 1000 });
  const a = dev.allocTensor('float32', 200);
  t.throws(() => dev.allocTensor('float32', 51), { code: 'out-of-memory' });
  dev.freeTensor(a);
  t.ok(dev.allocTensor('float16', 500), 'the freed bytes are available again');
});

t.test('tensors of another device are refused', async (t) => {
  const one = createCpuDevice({ memoryBytes: 1 << 20 });
  const two = createCpuDevice({ memoryBytes: 1 << 20 });
  const a = one.allocTensor('float32', 4);
  t.throws(() => two.scale(two.allocTensor('float32', 4), a, 2), { code: 'invalid-argument' });
});

t.test('kernels', async (t) => {
  const dev = createCpuDevice({ memoryBytes: 64 << 20 });
  await kernelSuite(t, dev);
  dev.close();
});
