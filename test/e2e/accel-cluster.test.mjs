// tsray:accel on a cluster of real processes: nodes report their GPUs (backend,
// memory, what tasks hold) at join and in heartbeats, `tsray status` and
// `acceleratorDevices()` show them, and a task placed on another node computes
// on the device it was given there.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const MiB = 2 ** 20;
const env = isolatedEnv('accel-cluster');
const token = 'accel-cluster-token';

t.test('nodes report their GPUs; tasks on another node compute on theirs', async (t) => {
  const gpuNode = ['--num-cpus', '1', '--num-gpus', '2', '--accel-backend', 'cpu', '--accelerator-memory', String(4 * MiB)];
  const { address, nodes } = await cluster(t, env, token, { headArgs: ['--num-cpus', '1'], nodeArgs: [gpuNode] });
  await tsray.init({ address, token });
  t.teardown(() => tsray.shutdown());

  const devices = await tsray.acceleratorDevices();
  t.strictSame(devices.map((d) => [d.nodeId, d.id, d.backend, d.memoryBytes, d.usedBytes]), [[nodes[0].nodeId, 0, 'cpu', 4 * MiB, 0], [nodes[0].nodeId, 1, 'cpu', 4 * MiB, 0]]);

  const c = await tsray.load(await prebuilt('accel'));
  const r = await tsray.get(c.fn('matmul-granted').options({ numGpus: 0.5 }).remote(1, 2, 1, [1, 2], [3, 4]));
  t.equal(r.backend, 'cpu');
  t.strictSame([...r.product], [11], 'the product came from the GPU node');

  // A task holding 1 MiB: the node's heartbeats carry what its devices hold.
  const spinning = c.fn('hold-then-spin').options({ numGpus: 0.5 }).remote(0, 262144, 0);
  const end = Date.now() + 10_000;
  while ((await tsray.acceleratorDevices())[0].usedBytes !== MiB) {
    if (Date.now() > end) throw new Error('the head never saw the held tensor');
    await new Promise((res) => setTimeout(res, 100));
  }
  const text = spawnSync(process.execPath, [CLI, 'status', '--address', address], { cwd: ROOT, encoding: 'utf8', env: { ...env, TSRAY_TOKEN: token } }).stdout;
  t.match(text, /GPU 0: cpu \(tsray tsray CPU kernels\), 1\.0\/4\.0 MiB held by tasks/, 'tsray status shows the GPUs and what tasks hold');
  tsray.cancel(spinning, { force: true });
  await t.rejects(tsray.get(spinning), { name: 'TaskCancelledError' });
});
