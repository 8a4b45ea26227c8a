// CPU lending by blocked workers (host/node/lending.ts): a worker whose guests
// only wait lends its lease's CPU, takes it back when it has work again, even
// past the node's total, and never gives anything back twice.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Lending } = await source('host/node/lending.ts');
const { NodeResources } = await source('host/core/resources.ts');

function setup() {
  const res = new NodeResources({ CPU: 2, GPU: 1 });
  const slot = { waits: 0, inlines: 0, lent: 0, lease: { request: { CPU: 1, GPU: 1 } } };
  const devices = res.acquire(slot.lease.request);
  let told = 0;
  const lending = new Lending(res, () => told++);
  return { res, slot, devices, lending, told: () => told };
}

t.test('a blocked worker lends its CPU, not its GPU, and takes it back when answered', async (t) => {
  const { res, slot, lending, told } = setup();
  t.same(res.available(), { CPU: 1, GPU: 0 });
  lending.blocked(slot, 1, true);
  t.same(res.available(), { CPU: 2, GPU: 0 }, 'its CPU is free for other work; the GPU stays held');
  t.equal(told(), 1, 'the scheduler is told that work may fit');
  lending.blocked(slot, 1, true);
  t.same(res.available(), { CPU: 2, GPU: 0 }, 'a second wait lends nothing more');
  lending.blocked(slot, -1, true);
  lending.blocked(slot, -1, true);
  t.same(res.available(), { CPU: 1, GPU: 0 }, 'taken back once the waits are answered');
});

t.test('an inline run above the wait uses the CPU: nothing is lent while it runs', async (t) => {
  const { res, slot, lending } = setup();
  lending.blocked(slot, 1, true);
  slot.inlines = 1;
  lending.update(slot, true);
  t.same(res.available().CPU, 1);
  slot.inlines = 0;
  lending.update(slot, true);
  t.same(res.available().CPU, 2);
});

t.test('taking back a lent CPU that others took oversubscribes for a while, and the books balance after', async (t) => {
  const { res, slot, lending, devices } = setup();
  lending.blocked(slot, 1, true);
  const other = res.acquire({ CPU: 2 });
  t.ok(other, 'another task took both CPUs');
  lending.blocked(slot, -1, true);
  t.equal(res.available().CPU, 0, 'never reported below zero');
  t.notOk(res.acquire({ CPU: 0.5 }), 'nothing more starts while oversubscribed');
  res.release({ CPU: 2 }, other);
  t.equal(res.available().CPU, 1);
  lending.stop(slot);
  res.release(slot.lease.request, devices);
  t.same(res.available(), { CPU: 2, GPU: 1 }, 'all back, nothing given twice');
});

t.test('a worker that is gone lends nothing, and stop before release gives nothing back twice', async (t) => {
  const { res, slot, lending, devices } = setup();
  lending.blocked(slot, 1, false);
  t.equal(res.available().CPU, 1, 'a dropped worker does not lend');
  lending.blocked(slot, 1, true);
  lending.stop(slot);
  res.release(slot.lease.request, devices);
  t.same(res.available(), { CPU: 2, GPU: 1 });
});
