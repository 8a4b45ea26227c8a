// tsray:accel on the CPU backend: the tensor interface, scoping, budgets and
// cleanup (test/helpers/accel-suite.mjs), raw WGSL refused, visible devices.
import t from 'tap';
import * as tsray from 'tsray';
import { accelSuite, random, tensorOpsRef, maxError } from '../helpers/accel-suite.mjs';
import { prebuilt } from '../helpers/components.mjs';

t.test('the CPU backend', async (t) => {
  accelSuite(t, 'cpu');
  t.test('the jco engine serves tsray:accel from the same host classes', async (t) => {
    const jco = await tsray.load(await prebuilt('accel'), { engine: 'jco' });
    t.equal(jco.engineName, 'jco');
    const a = random(12, 5), b = random(12, 6);
    t.ok(maxError(await tsray.get(jco.fn('tensor-ops').options({ numGpus: 0.5 }).remote(0, 3, 4, a, b)), tensorOpsRef(a, b, 3, 4)) < 1e-5, 'tensor results agree with the reference');
    await t.rejects(tsray.get(jco.fn('alloc-tensors').options({ numGpus: 0.5, acceleratorMemory: 2 ** 20 }).remote(0, 65536, 8, false)), { name: 'OutOfMemoryError', message: /device 0 \(cpu\)/ });
    t.equal((await tsray.acceleratorDevices()).reduce((s, d) => s + d.usedBytes, 0), 0, 'and its tensors are freed');
  });

  t.test('refuses raw WGSL with unsupported', async (t) => {
    const c = await tsray.load(await prebuilt('accel'));
    t.match(await tsray.get(c.fn('wgsl-compile').options({ numGpus: 1 }).remote(0, '@compute @workgroup_size(1) fn main() {}')), /^unsupported: device 0 runs on the cpu backend, which has no raw WebGPU/);
  });
});

t.test('a component called in-process has no devices: every tsray:accel call is not-granted', async (t) => {
  for (const engine of ['lean', 'jco']) {
    const c = await tsray.load(await prebuilt('accel'), { engine });
    t.strictSame([...await c.call('gpu-devices')], [], `${engine}: no devices`);
    await t.rejects(c.call('tensor-matmul', [0, 1, 1, 1, [1], [2], 0]), { name: 'TaskError', message: /not-granted/ }, `${engine}: calls are refused`);
  }
});

t.test('task-context lists the ids of every accelerator kind a task holds', async (t) => {
  t.teardown(() => tsray.shutdown());
  await tsray.init({ numCpus: 1, numGpus: 2, accelBackend: 'cpu', resources: { TPU: 4 }, logLevel: 'fatal' });
  const c = await tsray.load(await prebuilt('accel'));
  t.strictSame(await tsray.get(c.fn('task-accelerators').options({ numGpus: 2, resources: { TPU: 2 } }).remote()), ['GPU 0 1', 'TPU 0 1']);
  t.strictSame(await tsray.get(c.fn('task-accelerators').options({ resources: { TPU: 1 } }).remote()), ['TPU 0']);
  t.strictSame([...await tsray.get(c.fn('task-accelerator-ids').options({ resources: { TPU: 1 } }).remote())], [0], 'accelerator-ids falls back to the first other kind');
});

t.test('CUDA_VISIBLE_DEVICES names the devices tasks compute on', async (t) => {
  process.env.CUDA_VISIBLE_DEVICES = '1,3';
  t.teardown(() => { delete process.env.CUDA_VISIBLE_DEVICES; return tsray.shutdown(); });
  await tsray.init({ numCpus: 1, accelBackend: 'cpu', logLevel: 'fatal' });
  t.strictSame((await tsray.acceleratorDevices()).map((d) => d.id), [1, 3]);
  const c = await tsray.load(await prebuilt('accel'));
  t.strictSame([...await tsray.get(c.fn('gpu-devices').options({ numGpus: 2 }).remote())], [1, 3]);
  const r = await tsray.get(c.fn('tensor-matmul').options({ numGpus: 1 }).remote(1, 1, 2, 1, [1, 2], [3, 4], 0));
  t.strictSame([...r], [11]);
});
