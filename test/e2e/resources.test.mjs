// Resources on the embedded node: fractional GPUs packed per device, memory-aware admission, accelerator types.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { withRuntime, caught, sleep } from '../helpers/runtime.mjs';
import { acceleratorTypeOf, parseNvidiaSmi, parseRocmSmi, parseXpuSmi } from '../../dist/host/node/accelerators.js';

const devices = (s) => /accelerators \[([\d,]*)\]/.exec(s)[1];

t.test('fractional GPUs: four 0.25 tasks share one GPU at once; 0.5 requests pack a device before the next', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  await withRuntime({ numCpus: 4, numGpus: 1 }, async () => {
    // A first round ships and compiles the module in each worker.
    await tsray.get(Array.from({ length: 4 }, () => slow.fn('nap').options({ numGpus: 0.25 }).remote(50)));
    const started = performance.now();
    const out = await tsray.get(Array.from({ length: 4 }, () => slow.fn('nap').options({ numGpus: 0.25 }).remote(300)));
    t.strictSame(out.map(devices), ['0', '0', '0', '0'], 'each task sees only device 0');
    t.ok(performance.now() - started < 1100, `they ran at the same time (the seed: num_gpus=0.25 x 4): ${(performance.now() - started).toFixed(0)} ms for four 300 ms naps`);
  });
  await withRuntime({ numCpus: 3, numGpus: 3 }, async () => {
    const out = await tsray.get(Array.from({ length: 3 }, () => slow.fn('nap').options({ numGpus: 0.5 }).remote(300)));
    t.strictSame(out.map(devices).sort(), ['0', '0', '1'], 'three 0.5 requests on three GPUs land on devices [0, 0, 1]');
    const whole = await tsray.get(slow.fn('nap').options({ numGpus: 2 }).remote(1));
    t.equal(devices(whole), '0,1', 'a whole request takes whole free devices');
    t.throws(() => slow.fn('nap').options({ numGpus: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' }, 'numGpus 1.5 is refused, as in Ray');
    const counter = await tsray.load(await prebuilt('counter'));
    const actors = Array.from({ length: 3 }, () => counter.actor('counter', { numGpus: 0.5 }).remote(0n));
    const ids = (await tsray.get(actors.map((a) => a.placement.remote()))).map((s) => /\[([\d,]*)\]/.exec(s)[1]);
    t.strictSame(ids, ['0', '0', '1'], 'three actors at 0.5 on three GPUs hold devices [0, 0, 1] for their lives');
    for (const a of actors) tsray.kill(a);
    t.equal(tsray.availableResources().GPU, 3, 'all GPUs are back after the tasks');
  });
});

t.test('custom accelerators (NPU) get device ids and pack the same way', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  await withRuntime({ numCpus: 3, resources: { NPU: 2 } }, async () => {
    const out = await tsray.get(Array.from({ length: 3 }, () => slow.fn('nap').options({ resources: { NPU: 0.5 } }).remote(300)));
    t.strictSame(out.map(devices).sort(), ['0', '0', '1'], 'three 0.5 NPU requests on two NPUs: devices [0, 0, 1]');
    t.throws(() => slow.fn('nap').options({ resources: { NPU: 1.5 } }), { code: 'ERR_INVALID_ARGUMENT' }, 'NPU 1.5 is refused like GPU 1.5');
    t.equal(tsray.availableResources().NPU, 2, 'returned after the tasks');
  });
});

t.test('CUDA_VISIBLE_DEVICES=1,3 at init: the node has two GPUs, ids 1 and 3', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  const before = process.env.CUDA_VISIBLE_DEVICES;
  process.env.CUDA_VISIBLE_DEVICES = '1,3';
  try {
    await withRuntime({ numCpus: 2 }, async () => {
      t.equal(tsray.clusterResources().GPU, 2, 'two GPUs, as many as the variable lists');
      const out = await tsray.get([0, 1].map(() => slow.fn('nap').options({ numGpus: 1 }).remote(200)));
      t.strictSame(out.map(devices).sort(), ['1', '3'], 'each task sees a real device id');
    });
    await t.rejects(withRuntime({ numCpus: 1, numGpus: 4 }, async () => {}), { code: 'ERR_INVALID_ARGUMENT', message: /numGpus is 4, but CUDA_VISIBLE_DEVICES=1,3/ });
  } finally {
    if (before === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
    else process.env.CUDA_VISIBLE_DEVICES = before;
  }
});

t.test('memory-aware scheduling: with 200 MB on the node, two 100 MB actors start and a third waits for a kill', async (t) => {
  const counter = await tsray.load(await prebuilt('counter'));
  await withRuntime({ numCpus: 1, memory: 200e6 }, async () => {
    t.equal(tsray.clusterResources().memory, 200e6);
    const C = counter.actor('counter', { memory: 100e6 });
    const a = C.remote(0n);
    const b = C.remote(0n);
    t.equal(await tsray.get(a.incr.remote(1n)), 1n);
    t.equal(await tsray.get(b.incr.remote(1n)), 1n);
    const c = C.remote(0n);
    const third = c.incr.remote(1n);
    const [ready] = await tsray.wait([third], { timeoutMs: 300 });
    t.equal(ready.length, 0, 'the third actor waits: no memory left');
    t.equal(tsray.availableResources().memory, 0);
    tsray.kill(a);
    t.equal(await tsray.get(third, { timeoutMs: 5000 }), 1n, 'it starts once one is killed');
  });
});

t.test('GPUs detected with the vendors\' tools: NVIDIA, AMD and Intel output', async (t) => {
  t.strictSame(parseNvidiaSmi('NVIDIA H100 80GB HBM3\nNVIDIA H100 80GB HBM3\n'), { count: 2, source: 'nvidia-smi', type: 'H100' });
  const rocm = JSON.stringify({
    card0: { 'Card series': 'AMD Instinct MI300X', 'Card model': '0x74a1', 'Card vendor': 'Advanced Micro Devices, Inc. [AMD/ATI]', 'Card SKU': 'M3000100' },
    card1: { 'Card series': 'AMD Instinct MI300X', 'Card model': '0x74a1', 'Card vendor': 'Advanced Micro Devices, Inc. [AMD/ATI]', 'Card SKU': 'M3000100' },
    system: { 'Driver version': '6.7.0' },
  });
  t.strictSame(parseRocmSmi(rocm), { count: 2, source: 'rocm-smi', type: 'MI300X' }, 'rocm-smi: cards counted, the system entry not');
  const xpu = JSON.stringify({ device_list: [{ device_id: 0, device_name: 'Intel(R) Data Center GPU Max 1550', device_type: 'GPU' }] });
  t.strictSame(parseXpuSmi(xpu), { count: 1, source: 'xpu-smi', type: 'Max1550' });
  t.strictSame(parseXpuSmi('{}'), { count: 0 }, 'no devices listed: none');
  t.throws(() => parseRocmSmi('not json'), 'output that is not the tool\'s is refused (the node then counts none)');
});

t.test('accelerator types: a node declares one; tasks asking for another wait', async (t) => {
  const slow = await tsray.load(await prebuilt('slow'));
  t.equal(acceleratorTypeOf('NVIDIA H100 80GB HBM3'), 'H100');
  t.equal(acceleratorTypeOf('Tesla V100-SXM2-16GB'), 'V100');
  t.equal(acceleratorTypeOf('NVIDIA A10G'), 'A10G');
  await withRuntime({ numCpus: 1, numGpus: 1, acceleratorType: 'H100' }, async () => {
    t.equal(tsray.clusterResources()['accelerator_type:H100'], 1, 'the node offers accelerator_type:H100');
    t.match(await tsray.get(slow.fn('nap').options({ numGpus: 1, acceleratorType: 'H100' }).remote(1)), /accelerators \[0\]/, 'an H100 task runs');
    const ref = slow.fn('nap').options({ numGpus: 1, acceleratorType: 'A100' }).remote(1);
    const e = await caught(t, () => tsray.get(ref, { timeoutMs: 300 }));
    t.equal(e?.code, 'ERR_GET_TIMEOUT', 'an A100 task waits (no such node)');
    t.throws(() => slow.fn('nap').options({ acceleratorType: 'H 100' }), { code: 'ERR_INVALID_ARGUMENT' });
    t.throws(() => slow.fn('nap').options({ resources: { memory: 5 } }), { code: 'ERR_INVALID_ARGUMENT' }, 'memory is its own option');
  });
  await sleep(1);
});

t.test('resources come back after failures, timeouts, cancels and crashes', async (t) => {
  const [slow, faulty] = await Promise.all(['slow', 'faulty'].map(async (n) => tsray.load(await prebuilt(n))));
  await withRuntime({ numCpus: 2, numGpus: 2, resources: { TPU: 4 } }, async () => {
    const full = () => { const a = tsray.availableResources(); return a.CPU === 2 && a.GPU === 2 && a.TPU === 4; };
    const settle = async () => { for (let i = 0; i < 100 && !full(); i++) await sleep(10); return full(); };
    const opts = { numGpus: 1, resources: { TPU: 2 } };
    await caught(t, () => tsray.get(faulty.fn('trap').options(opts).remote()));
    t.ok(await settle(), 'after a trap');
    await caught(t, () => tsray.get(slow.fn('spin').options({ ...opts, timeoutMs: 100 }).remote()));
    t.ok(await settle(), 'after a timeout');
    const running = slow.fn('spin').options(opts).remote();
    await sleep(100);
    t.equal(tsray.availableResources().GPU, 1, 'a running task holds its GPU');
    tsray.cancel(running, { force: true });
    await caught(t, () => tsray.get(running));
    t.ok(await settle(), 'after a forced cancel');
    const crashed = slow.fn('nap').options({ ...opts, maxRetries: 0 }).remote(2000);
    await sleep(100);
    t.ok(tsray.testing.crashWorker(crashed), 'its worker was killed');
    await caught(t, () => tsray.get(crashed));
    t.ok(await settle(), 'after a worker crash');
  });
});
