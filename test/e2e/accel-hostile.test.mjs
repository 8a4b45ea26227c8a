// A guest that lies to tsray:accel ends in a typed error for its own task and
// costs the host nothing: the device thread and the worker go on serving.
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { build } from 'tsray';
import { ROOT } from '../helpers/components.mjs';

const dir = join(ROOT, 'test', 'fixtures', 'accel-hostile');
let c;
t.before(async () => {
  const { component } = await build({ entry: join(dir, 'accel-hostile.ts'), wit: dir, world: 'accel-hostile' });
  await tsray.init({ numCpus: 1, numGpus: 1, accelBackend: 'cpu', acceleratorMemory: 2 ** 20, logLevel: 'fatal' });
  c = await tsray.load(component);
});
t.teardown(() => tsray.shutdown());
const gpu = { numGpus: 1 };

t.test('a forged handle traps the guest, not the host', async (t) => {
  await t.rejects(tsray.get(c.fn('forge').options(gpu).remote(12345)), { name: 'TaskError', message: /unknown buffer handle 12345/ });
  await t.rejects(tsray.get(c.fn('forge').options(gpu).remote(-1)), { name: 'TaskError', message: /unknown buffer handle/ });
});

t.test('a handle of another resource type is refused', async (t) => {
  await t.rejects(tsray.get(c.fn('wrong-type').options(gpu).remote(0)), { name: 'TaskError', message: /unknown buffer handle/ });
});

t.test('a handle dropped twice traps at the second drop', async (t) => {
  await t.rejects(tsray.get(c.fn('drop-twice').options(gpu).remote(0)), { name: 'TaskError', message: /\[resource-drop\]device: unknown handle/ });
});

t.test('sizes and shapes no device can hold are typed errors the guest sees', async (t) => {
  // the CPU backend's largest buffer is its memory; raw buffers are refused before that
  t.match(await tsray.get(c.fn('huge-buffer').options(gpu).remote(0, 2n ** 62n)), /^invalid-argument: buffer size must be a whole number from 0 to/);
  t.match(await tsray.get(c.fn('bad-tensor').options(gpu).remote(0, [0], [])), /^invalid-argument: a tensor holds 1 to \d+ elements, not 0/);
  t.match(await tsray.get(c.fn('bad-tensor').options(gpu).remote(0, [2, 2], [1, 2, 3])), /^invalid-argument: shape \[2,2\] holds 4 elements, but 3 were given/);
  t.match(await tsray.get(c.fn('bad-tensor').options(gpu).remote(0, [1, 1, 1, 1, 1, 1, 1, 1, 1], [1])), /^invalid-argument: a tensor has 1 to 8 axes, not 9/);
  t.match(await tsray.get(c.fn('bad-tensor').options(gpu).remote(0, [65536, 65536], [1])), /^invalid-argument: a tensor holds 1 to \d+ elements, not 4294967296/);
  t.match(await tsray.get(c.fn('bad-tensor').options(gpu).remote(0, [1024, 1024], new Float32Array(1024 * 1024))), /^out-of-memory: device 0 \(cpu\): this task's budget is 1\.0 MiB/);
});

t.test('the node still serves devices after all of it', async (t) => {
  t.equal(await tsray.get(c.fn('bad-tensor').options(gpu).remote(0, [2], [1, 2])), 'ok');
  t.equal((await tsray.acceleratorDevices())[0].usedBytes, 0, 'nothing the liars made is left on the device');
});
