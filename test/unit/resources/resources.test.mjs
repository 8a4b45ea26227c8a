// Resource arithmetic shared by the embedded node, the head and placement: fractional sums that never drift, and device packing.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { fits, isEmpty, addResources, ResourcePool, DeviceAllocator, shapeKey, acceleratorOf } = await source('host/core/resources.ts');

t.test('fits compares in 1/10000 units: 0.1 + 0.2 holds 0.3', async (t) => {
  const have = {};
  addResources(have, { CPU: 0.1 }, 1);
  addResources(have, { CPU: 0.2 }, 1);
  t.equal(have.CPU, 0.3, 'the sum is exact');
  t.ok(fits(have, { CPU: 0.3 }));
  t.notOk(fits(have, { CPU: 0.3001 }));
  t.ok(fits(have, { CPU: 0, GPU: 0 }), 'zero asks fit anywhere');
  t.notOk(fits(have, { GPU: 0.5 }), 'a resource the node lacks does not fit');
});

t.test('adding and taking away 0.1 ten thousand times returns to zero', async (t) => {
  const r = { CPU: 0 };
  for (let i = 0; i < 10_000; i++) addResources(r, { CPU: 0.1 }, 1);
  t.equal(r.CPU, 1000);
  for (let i = 0; i < 10_000; i++) addResources(r, { CPU: 0.1 }, -1);
  t.equal(r.CPU, 0);
});

t.test('isEmpty and shapeKey ignore zero amounts', async (t) => {
  t.ok(isEmpty({}));
  t.ok(isEmpty({ CPU: 0 }));
  t.notOk(isEmpty({ CPU: 0.5 }));
  t.equal(shapeKey({ GPU: 0, CPU: 1, memory: 5 }), 'CPU=1,memory=5');
  t.equal(shapeKey({ memory: 5, CPU: 1 }), shapeKey({ CPU: 1, memory: 5 }), 'order does not matter');
});

t.test('a pool gives out what it has and takes it back', async (t) => {
  const p = new ResourcePool({ CPU: 2, GPU: 1 });
  t.ok(p.feasible({ CPU: 2 }));
  t.notOk(p.feasible({ CPU: 3 }), 'more than the node has is infeasible');
  t.ok(p.tryAcquire({ CPU: 1.5 }));
  t.notOk(p.tryAcquire({ CPU: 1 }), 'only 0.5 is left');
  t.ok(p.tryAcquire({ CPU: 0.5 }));
  t.same(p.available(), { CPU: 0, GPU: 1 });
  p.release({ CPU: 2 });
  p.release({ CPU: 5 });
  t.same(p.available(), { CPU: 2, GPU: 1 }, 'a release never exceeds the total');
});

t.test('fractional devices pack one device before the next (Ray: [0, 0, 1])', async (t) => {
  const d = new DeviceAllocator(3);
  t.same([d.acquire(0.5), d.acquire(0.5), d.acquire(0.5)], [[0], [0], [1]]);
  t.equal(d.acquire(2), undefined, 'only device 2 is whole');
  t.same(d.acquire(1), [2]);
});

t.test('whole devices take whole free devices; releases make them free again', async (t) => {
  const d = new DeviceAllocator(4);
  t.same(d.acquire(0.25), [0]);
  t.same(d.acquire(2), [1, 2], 'device 0 is partly used, so not whole');
  t.equal(d.acquire(2), undefined, 'only device 3 is whole');
  d.release([1, 2], 2);
  t.same(d.acquire(3), [1, 2, 3]);
  t.equal(acceleratorOf({ CPU: 1, NPU: 0.5 }), 'NPU');
  t.equal(acceleratorOf({ CPU: 1 }), undefined);
});
