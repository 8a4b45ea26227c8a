// The visible-devices variables (seed 004): parsing, the node's real device ids, ids per kind, and kinds that refuse fractions.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { parseVisibleIds, visibleDevices, deviceIdsOf } = await source('host/core/visible-devices.ts');
const { NodeResources, Accelerators, DeviceAllocator, primaryIds } = await source('host/core/resources.ts');
const { normalizeOptions } = await source('host/core/options.ts');

t.test('each vendor variable parses to device ids; empty means none', async (t) => {
  t.same(parseVisibleIds('CUDA_VISIBLE_DEVICES', '1,3'), [1, 3]);
  t.same(parseVisibleIds('CUDA_VISIBLE_DEVICES', ' 2 , 0 '), [2, 0], 'spaces are trimmed, order kept');
  t.same(parseVisibleIds('CUDA_VISIBLE_DEVICES', ''), [], 'an empty variable hides every device');
  t.same(parseVisibleIds('CUDA_VISIBLE_DEVICES', 'NoDevFiles'), []);
  t.same(parseVisibleIds('ONEAPI_DEVICE_SELECTOR', 'level_zero:0,1'), [0, 1], 'the level_zero backend prefix');
  t.same(parseVisibleIds('ONEAPI_DEVICE_SELECTOR', '1,3'), [1, 3]);
  const env = {
    ROCR_VISIBLE_DEVICES: '4', NEURON_RT_VISIBLE_CORES: '0,1', TPU_VISIBLE_CHIPS: '1,3',
    HABANA_VISIBLE_MODULES: '2', ASCEND_RT_VISIBLE_DEVICES: '5,6', PATH: '/bin',
  };
  const v = visibleDevices(env);
  t.same(Object.fromEntries([...v].map(([k, d]) => [k, d.ids])), { GPU: [4], neuron_cores: [0, 1], TPU: [1, 3], HPU: [2], NPU: [5, 6] }, 'kinds by Ray resource name');
  t.equal(v.get('GPU').variable, 'ROCR_VISIBLE_DEVICES');
  t.equal(visibleDevices({ CUDA_VISIBLE_DEVICES: '1', ROCR_VISIBLE_DEVICES: '4' }).get('GPU').variable, 'CUDA_VISIBLE_DEVICES', 'CUDA first');
  t.equal(visibleDevices({}).size, 0, 'no variable: nothing is limited');
});

t.test('malformed values are refused with the variable named', async (t) => {
  for (const bad of ['GPU-5d1c2f3a', '1,,3', '0-3', '-1', '1,1', '1.5', '4294967296']) {
    t.throws(() => parseVisibleIds('CUDA_VISIBLE_DEVICES', bad), { code: 'ERR_INVALID_ARGUMENT', message: /CUDA_VISIBLE_DEVICES/ }, bad);
  }
  t.throws(() => visibleDevices({ TPU_VISIBLE_CHIPS: 'a' }), { message: /TPU_VISIBLE_CHIPS/ });
  t.throws(() => parseVisibleIds('ONEAPI_DEVICE_SELECTOR', 'opencl:0'), { message: /ONEAPI_DEVICE_SELECTOR/ });
});

t.test('a declared count agrees with the visible list: default its length, fewer takes the first, more is refused', async (t) => {
  const seen = { variable: 'CUDA_VISIBLE_DEVICES', ids: [1, 3] };
  t.same(deviceIdsOf('GPU', 'numGpus', undefined, seen), { count: 2, ids: [1, 3] });
  t.same(deviceIdsOf('GPU', 'numGpus', 1, seen), { count: 1, ids: [1] });
  t.same(deviceIdsOf('GPU', 'numGpus', 2, undefined), { count: 2 }, 'no variable: ids from 0');
  t.throws(() => deviceIdsOf('GPU', 'numGpus', 4, seen), { code: 'ERR_INVALID_ARGUMENT', message: /numGpus is 4, but CUDA_VISIBLE_DEVICES=1,3 .* 2 GPU devices/ });
  t.throws(() => deviceIdsOf('GPU', 'numGpus', 1, { variable: 'CUDA_VISIBLE_DEVICES', ids: [] }), { message: /CUDA_VISIBLE_DEVICES/ });
});

t.test('the node hands out its real device ids, packs fractions on them and takes them back', async (t) => {
  const d = new DeviceAllocator(2, [1, 3]);
  t.same([d.acquire(0.5), d.acquire(0.5), d.acquire(0.5)], [[1], [1], [3]]);
  d.release([1], 0.5);
  d.release([1], 0.5);
  t.same(d.acquire(1), [1], 'device 1 is whole again');
  const n = new NodeResources({ CPU: 4, GPU: 2, TPU: 4 }, { GPU: [1, 3], TPU: [0, 1, 2, 3] });
  const a = n.acquire({ CPU: 1, GPU: 1 });
  t.same(a, { GPU: [1] });
  const b = n.acquire({ CPU: 1, GPU: 1, TPU: 2 });
  t.same(b, { GPU: [3], TPU: [0, 1] }, 'a task asking for GPU and TPU holds ids of both');
  t.same(primaryIds(b), [3], 'the flat list is the GPU ids');
  t.same(primaryIds({ TPU: [2] }), [2], 'else the first other kind');
  t.same(primaryIds({}), []);
  t.equal(n.acquire({ CPU: 1, GPU: 1 }), undefined, 'no GPU left');
  t.equal(n.available().CPU, 2, 'a refused acquire takes nothing');
  n.release({ CPU: 1, GPU: 1 }, a);
  t.same(n.acquire({ CPU: 1, GPU: 1, TPU: 3 }), undefined, 'only two TPUs free: all kinds or none');
  t.same(n.acquire({ CPU: 1, GPU: 1, TPU: 2 }), { GPU: [1], TPU: [2, 3] }, 'the GPU was not kept by the refused request');
  const acc = new Accelerators({ GPU: 1, TPU: 1 });
  t.same(acc.acquire({ TPU: 1 }), { TPU: [0] });
  t.equal(acc.acquire({ GPU: 1, TPU: 1 }), undefined, 'the TPU is taken');
  t.same(acc.acquire({ GPU: 1 }), { GPU: [0] }, 'the refused request gave its GPU back');
});

t.test('fractional requests are refused for TPU, HPU and neuron_cores, allowed for GPU and NPU', async (t) => {
  for (const k of ['TPU', 'HPU', 'neuron_cores']) {
    t.throws(() => normalizeOptions({ resources: { [k]: 0.5 } }), { code: 'ERR_INVALID_ARGUMENT', message: new RegExp(`resources.${k} must be a whole number`) }, k);
    t.equal(normalizeOptions({ resources: { [k]: 2 } }).request[k], 2);
  }
  t.equal(normalizeOptions({ numGpus: 0.25 }).request.GPU, 0.25);
  t.equal(normalizeOptions({ resources: { NPU: 0.25 } }).request.NPU, 0.25);
});
