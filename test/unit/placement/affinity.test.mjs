// Node affinity on the embedded node is the Placer's rule seen from one node.
import t from 'tap';
import { source } from '../source.mjs';

const { affinityMiss, Placer, DEFAULT_PLACEMENT } = await source('host/core/placement.ts');

t.test('hard affinity elsewhere misses with the Placer\'s own reason; soft or here does not', async (t) => {
  t.equal(affinityMiss(undefined, 'a'), undefined);
  t.equal(affinityMiss('SPREAD', 'a'), undefined);
  t.equal(affinityMiss({ nodeId: 'a', soft: false }, 'a'), undefined);
  t.equal(affinityMiss({ nodeId: 'b', soft: true }, 'a'), undefined);
  const miss = affinityMiss({ nodeId: 'b', soft: false }, 'a');
  const placed = new Placer({ ...DEFAULT_PLACEMENT, random: () => 0 })
    .place([{ nodeId: 'a', total: { CPU: 1 }, available: { CPU: 1 } }], { resources: { CPU: 1 }, strategy: { nodeId: 'b', soft: false } });
  t.same(placed, { error: miss }, 'the same words as a cluster');
});
