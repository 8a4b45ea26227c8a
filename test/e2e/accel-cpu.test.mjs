// tsray:accel on the CPU backend: the tensor interface, scoping, budgets and
// cleanup (test/helpers/accel-suite.mjs), raw WGSL refused, visible devices.
import t from 'tap';
import * as tsray from 'tsray';
import { accelSuite } from '../helpers/accel-suite.mjs';
import { example } from '../helpers/components.mjs';

t.test('the CPU backend', async (t) => {
  accelSuite(t, 'cpu');
  t.test('refuses raw WGSL with unsupported', async (t) => {
    const c = await tsray.load(await example('accel'));
    t.match(await tsray.get(c.fn('wgsl-compile').options({ numGpus: 1 }).remote(0, '@compute @workgroup_size(1) fn main() {}')), /^unsupported: device 0 runs on the cpu backend, which has no raw WebGPU/);
  });
});

t.test('task-context lists the ids of every accelerator kind a task holds', async (t) => {
  t.teardown(() => tsray.shutdown());
  await tsray.init({ numCpus: 1, numGpus: 2, accelBackend: 'cpu', resources: { TPU: 4 }, logLevel: 'fatal' });
  const c = await tsray.load(await example('accel'));
  t.strictSame(await tsray.get(c.fn('task-accelerators').options({ numGpus: 2, resources: { TPU: 2 } }).remote()), ['GPU 0 1', 'TPU 0 1']);
  t.strictSame(await tsray.get(c.fn('task-accelerators').options({ resources: { TPU: 1 } }).remote()), ['TPU 0']);
  t.strictSame([...await tsray.get(c.fn('task-accelerator-ids').options({ resources: { TPU: 1 } }).remote())], [0], 'accelerator-ids falls back to the first other kind');
});

t.test('CUDA_VISIBLE_DEVICES names the devices tasks compute on', async (t) => {
  process.env.CUDA_VISIBLE_DEVICES = '1,3';
  t.teardown(() => { delete process.env.CUDA_VISIBLE_DEVICES; return tsray.shutdown(); });
  await tsray.init({ numCpus: 1, accelBackend: 'cpu', logLevel: 'fatal' });
  t.strictSame((await tsray.acceleratorDevices()).map((d) => d.id), [1, 3]);
  const c = await tsray.load(await example('accel'));
  t.strictSame([...await tsray.get(c.fn('gpu-devices').options({ numGpus: 2 }).remote())], [1, 3]);
  const r = await tsray.get(c.fn('tensor-matmul').options({ numGpus: 1 }).remote(1, 1, 2, 1, [1, 2], [3, 4], 0));
  t.strictSame([...r], [11]);
});
