// tsray.data on a cluster of real processes (a head with its node and one
// more node, on loopback): fused stages and row-wise calls travel whole to
// the node that runs them, read tasks spread over the nodes as Ray spreads
// them, each transform's task runs where its block is, and the stages the
// driver runs (an exchange) read blocks from the nodes that hold them; file
// reads run as tasks on the nodes, only under their --data-root.
import t from 'tap';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const env = isolatedEnv('data-cluster');
const TOKEN = 'data-cluster-token';

// Files the nodes may read (--data-root), and one beside them they may not.
const DATA = mkdtempSync(join(tmpdir(), 'tsray-data-root-'));
const OUTSIDE = mkdtempSync(join(tmpdir(), 'tsray-data-outside-'));
mkdirSync(join(DATA, 'text'));
const LINES = 40_000;
for (let f = 0; f < 3; f++) writeFileSync(join(DATA, 'text', `part-${f}.txt`), Array.from({ length: LINES }, (_, i) => `file ${f} line ${i}`).join('\n') + '\n');
writeFileSync(join(DATA, 'rows.csv'), 'x,name\n1,a\n2,b\n3,c\n');
writeFileSync(join(OUTSIDE, 'secret.txt'), 'not yours\n');
symlinkSync(join(OUTSIDE, 'secret.txt'), join(DATA, 'link.txt'));

t.test('reads spread, transforms follow their blocks, an exchange gathers them', async (t) => {
  const m = await tsray.load(await prebuilt('batches'));
  const root = ['--data-root', DATA];
  const { address, nodes } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '1', ...root], nodeArgs: [['--num-cpus', '1', ...root]] });
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

  // File reads: a task per part, on the nodes, which read only under their data roots.
  tsray.data.DataContext.targetMaxBlockSize = 256 * 1024;
  try {
    const text = tsray.data.readText(join(DATA, 'text'));
    const lines = await text.takeAll();
    t.equal(lines.length, 3 * LINES, 'every line of three files cut into parts, once');
    t.same(lines.slice(LINES - 1, LINES + 1).map((r) => r.text), [`file 0 line ${LINES - 1}`, 'file 1 line 0'], 'in order across parts and files');
    const readers = (await tsray.state.listTasks({ limit: 2000 })).filter((x) => x.name === 'read_text' && x.state === 'FINISHED').map((x) => x.nodeId);
    t.ok(readers.length >= 6 && new Set(readers).size === 2, `the read tasks ran on both nodes (${readers.length} tasks)`);
  } finally {
    tsray.data.DataContext.targetMaxBlockSize = 512 * 2 ** 20;
  }
  t.same(await tsray.data.readCsv(join(DATA, 'rows.csv')).takeAll(), [{ x: 1, name: 'a' }, { x: 2, name: 'b' }, { x: 3, name: 'c' }], 'a CSV read on a node');
  await t.rejects(tsray.data.readText(join(OUTSIDE, 'secret.txt')).takeAll(), { code: 'ERR_NOT_GIVEN', message: /outside this node's data roots.*--data-root/ }, 'a file outside the data roots is refused');
  await t.rejects(tsray.data.readText(join(DATA, 'link.txt')).takeAll(), { code: 'ERR_NOT_GIVEN' }, 'and so is a link inside them that points outside');
});
