// tsray.data on a cluster of real processes (a head with its node and one
// more node, on loopback): fused stages and row-wise calls travel whole to
// the node that runs them, read tasks spread over the nodes as Ray spreads
// them, each transform's task runs where its block is, and the stages the
// driver runs (an exchange) read blocks from the nodes that hold them.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const env = isolatedEnv('data-cluster');
const TOKEN = 'data-cluster-token';

t.test('reads spread, transforms follow their blocks, an exchange gathers them', async (t) => {
  const m = await tsray.load(await prebuilt('batches'));
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  t.equal(tsray.clusterResources().CPU, 2);

  // Blocks of 1.6 MB: large enough to stay where they were made (small ones travel as values).
  const n = 1_200_000;
  // Unfused first: the transforms are tasks of their own, placed by where their blocks are.
  tsray.data.DataContext.optimizeFuseStages = false;
  try {
    t.equal(await tsray.data.range(n, { parallelism: 6 }).lazy().mapBatches(m.fn('square')).count(), n);
  } finally {
    tsray.data.DataContext.optimizeFuseStages = true;
  }
  const tasks = await tsray.state.listTasks({ limit: 1000 });
  const nodesOf = (name) => tasks.filter((x) => x.name === name && x.state === 'FINISHED').map((x) => x.nodeId);
  const reads = nodesOf('range');
  const squares = nodesOf('square');
  t.equal(reads.length, 6);
  t.equal(new Set(reads).size, 2, `the read tasks spread over both nodes (${reads.map((x) => x.slice(0, 6))})`);
  t.ok(nodes.every((x) => reads.includes(x.nodeId)), 'the joined node read too');
  // Locality is soft, as in Ray: a task whose block's node is busy may run on an idle one.
  const local = [...new Set(reads)].reduce((k, x) => k + Math.min(reads.filter((y) => y === x).length, squares.filter((y) => y === x).length), 0);
  t.ok(squares.length === 6 && local >= 4, `most transforms ran on the node holding their block (${local} of 6; reads ${reads.map((x) => x.slice(0, 4))}, squares ${squares.map((x) => x.slice(0, 4))})`);

  const ds = tsray.data.range(n, { parallelism: 6 }).lazy().mapBatches(m.fn('square')).filter(m.fn('keep-even'));
  let rows = 0;
  let wrong = 0;
  for await (const b of ds.iterBatches()) {
    for (let i = 0; i < b.id.length; i++) if (b.id[i] !== (2 * (rows + i)) ** 2) wrong++;
    rows += b.id.length;
  }
  t.equal(rows, n / 2);
  t.equal(wrong, 0, 'every row, in order');
  t.same(ds.stats().split('\n').filter((l) => l.startsWith('Stage')).map((l) => l.split(':')[0]),
    ['Stage 0 read->map_batches(square)->filter(keep-even)'], 'the read and both transforms fused: each task went whole to one node');
  const cpu = /Remote cpu time: ([\d.]+)ms min, ([\d.]+)ms max, ([\d.]+)ms mean, ([\d.]+)ms total/.exec(ds.stats());
  t.ok(cpu && Number(cpu[1]) > 0 && Number(cpu[4]) >= Number(cpu[2]), `the nodes report each task's run time: ${cpu?.[0]}`);
  t.same(await tsray.data.range(5, { parallelism: 2 }).map(m.fn('label-row')).takeAll(), [0, 1, 2, 3, 4].map((i) => ({ id: i * i, label: i % 2 ? 'odd' : 'even' })), 'row-wise calls run on the nodes too');

  const sorted = await tsray.data.range(600, { parallelism: 6 }).mapBatches(m.fn('square')).randomShuffle({ seed: 1 }).sort('id', { descending: true }).takeAll();
  t.same(sorted.map((r) => r.id), Array.from({ length: 600 }, (_, i) => (599 - i) ** 2), 'shuffled and sorted through the driver from blocks on every node');
});
