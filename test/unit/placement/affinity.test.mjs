// Node affinity on the embedded node is the Placer's own decision on a cluster of one.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { oneNodeMiss } = await source('host/core/placement.ts');

const here = () => ({ nodeId: 'a', total: { CPU: 2 }, available: { CPU: 0 } });

t.test('only hard affinity elsewhere, or to a node that can never hold the request, misses', async (t) => {
  t.equal(oneNodeMiss(undefined, { CPU: 1 }, here), undefined, 'DEFAULT runs here');
  t.equal(oneNodeMiss('SPREAD', { CPU: 1 }, here), undefined, 'SPREAD runs here');
  t.equal(oneNodeMiss({ nodeId: 'a', soft: false }, { CPU: 1 }, here), undefined, 'hard affinity to this node, busy now, waits here');
  t.equal(oneNodeMiss({ nodeId: 'b', soft: true }, { CPU: 1 }, here), undefined, 'soft affinity falls back to here');
  t.equal(oneNodeMiss({ nodeId: 'b', soft: false }, { CPU: 1 }, here), 'node b is not alive in this cluster');
  t.match(oneNodeMiss({ nodeId: 'a', soft: false }, { CPU: 3 }, here), /^node a can never hold/);
});

t.test('the node is looked at only for node affinity', async (t) => {
  let looked = 0;
  const view = () => { looked++; return here(); };
  oneNodeMiss(undefined, { CPU: 1 }, view);
  oneNodeMiss('SPREAD', { CPU: 1 }, view);
  t.equal(looked, 0);
  oneNodeMiss({ nodeId: 'a', soft: true }, { CPU: 1 }, view);
  t.equal(looked, 1);
});
