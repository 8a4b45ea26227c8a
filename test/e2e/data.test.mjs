// tsray.data: Datasets of columnar blocks transformed by component functions
// (guest/examples/batches.ts, built in the test run) as tasks: sources,
// mapBatches and filter, eager and lazy execution, consumers, stats() in the
// format of Ray Datasets, block move semantics, and failures.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';

t.before(() => tsray.init({ numCpus: 2 }));
t.teardown(() => tsray.shutdown());
const mod = () => prebuilt('batches').then((b) => tsray.load(b));

const STAGE = /^Stage \d+ [\w>()-]+: \d+\/\d+ blocks executed in [\d.]+m?s$/;

// First, so no Dataset of another test is freed by the GC while it counts the objects in the store.
t.test('lazy: nothing runs until consumed, and the blocks between stages are released', async (t) => {
  const m = await mod();
  const objects = async () => (await tsray.state.listObjects({ limit: 100_000 })).length;
  const before = await objects();
  const lazy = tsray.data.range(400, { parallelism: 4 }).lazy().mapBatches(m.fn('square')).mapBatches(m.fn('label')).filter(m.fn('keep-even'));
  t.equal(lazy.stats(), '', 'nothing has run, not even the read');
  tsray.data.DataContext.optimizeFuseStages = false;
  const done = await lazy.materialize();
  tsray.data.DataContext.optimizeFuseStages = true;
  t.equal(await done.count(), 200, 'even squares of 0..399');
  t.same(done.stats().split('\n').filter((l) => l.startsWith('Stage')).map((l) => l.split(':')[0]),
    ['Stage 0 read', 'Stage 1 map_batches(square)', 'Stage 2 map_batches(label)', 'Stage 3 filter(keep-even)'], 'the plan ran when consumed, a stage per step with fusion off');
  const held = (await objects()) - before;
  t.equal(held, 4, `only the last stage's 4 blocks are held: the 12 before them were released (${held} held)`);
  const source = tsray.data.fromArrays({ id: Float64Array.from({ length: 400 }, (_, i) => i) }, { parallelism: 4 });
  const eager = source.mapBatches(m.fn('square')).mapBatches(m.fn('label'));
  await eager.materialize();
  t.equal((await objects()) - before, 16, 'eager stages keep their blocks (each Dataset holds its own)');
  t.same(await source.take(2), [{ id: 0 }, { id: 1 }], 'the source is untouched');
});

t.test('range -> mapBatches -> filter, eager: the rows, count, schema and stats', async (t) => {
  const m = await mod();
  const ds = tsray.data.range(1000, { parallelism: 8 }).mapBatches(m.fn('square')).filter(m.fn('keep-even'));
  const want = Array.from({ length: 1000 }, (_, i) => i * i).filter((x) => x % 2 === 0);
  t.same(await ds.take(4), want.slice(0, 4).map((id) => ({ id })));
  t.equal(await ds.count(), want.length);
  t.same((await ds.takeAll()).map((r) => r.id), want, 'every row, in order');
  t.same(await ds.schema(), { id: 'float64' });
  t.equal(ds.numBlocks(), 8);
  const stats = ds.stats();
  const lines = stats.split('\n').filter(Boolean);
  t.same(lines.filter((l) => l.startsWith('Stage')).map((l) => l.split(':')[0]), ['Stage 0 read->map_batches(square)', 'Stage 1 filter(keep-even)'], 'the read runs as tasks and fuses with the first transform, as Ray\'s semi-lazy reads');
  t.ok(lines.filter((l) => l.startsWith('Stage')).every((l) => STAGE.test(l)), stats);
  t.match(stats, /\* Remote wall time: [\d.]+ms min, [\d.]+m?s max, [\d.]+m?s mean, [\d.]+m?s total/);
  t.match(stats, /\* Remote wall time: [^\n]+\n\* Remote cpu time: [\d.]+ms min, [\d.]+m?s max, [\d.]+m?s mean, [\d.]+m?s total\n\* Output num rows/, 'then the time each task ran on its worker thread, as the seed orders them');
  t.match(stats, /Stage 1 filter\(keep-even\): 8\/8 blocks[^\n]*\n[^\n]*\n[^\n]*\n\* Output num rows: 62 min, 63 max, 62.5 mean, 500 total/, 'output rows per stage');
});

t.test('fromItems and fromArrays; a transform adds a string column; batches and rows as asked', async (t) => {
  const m = await mod();
  const items = Array.from({ length: 10 }, (_, i) => ({ id: i, name: `n${i}` }));
  const fromItems = tsray.data.fromItems(items, { parallelism: 3 });
  t.same(await fromItems.schema(), { id: 'float64', name: 'string' });
  t.same(await fromItems.takeAll(), items);
  const labeled = tsray.data.fromArrays({ id: Float64Array.from([1, 2, 3, 4, 5, 6, 7]) }, { parallelism: 2 }).mapBatches(m.fn('label'));
  t.same(await labeled.take(3), [{ id: 1, label: 'odd' }, { id: 2, label: 'even' }, { id: 3, label: 'odd' }]);
  const sizes = [];
  for await (const b of labeled.iterBatches({ batchSize: 3 })) {
    t.equal(b.id.length, b.label.length);
    sizes.push(b.id.length);
  }
  t.same(sizes, [3, 3, 1], 'batches cut across blocks to the size asked, the last one short');
  const rows = [];
  for await (const r of labeled.iterRows()) rows.push(r.label);
  t.same(rows, ['odd', 'even', 'odd', 'even', 'odd', 'even', 'odd']);
  t.rejects(async () => { for await (const _ of labeled.iterBatches({ batchSize: 0 })); }, { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('lazy stages with the same options fuse into one task per block, as Ray fuses them', async (t) => {
  const m = await mod();
  const plan = (ds) => ds.lazy().mapBatches(m.fn('square')).mapBatches(m.fn('label')).filter(m.fn('keep-even'));
  const fused = plan(tsray.data.range(300, { parallelism: 3 }));
  const rows = await fused.takeAll();
  const stages = fused.stats().split('\n').filter((l) => l.startsWith('Stage'));
  t.same(stages.map((l) => l.split(':')[0]), ['Stage 0 read->map_batches(square)->map_batches(label)->filter(keep-even)'], 'the read and every transform fused into one stage, named with ->');
  t.match(stages[0], /: 3\/3 blocks executed/);
  tsray.data.DataContext.optimizeFuseStages = false;
  const unfused = await plan(tsray.data.range(300, { parallelism: 3 })).takeAll();
  tsray.data.DataContext.optimizeFuseStages = true;
  t.same(rows, unfused, 'the same rows as stage by stage');
  t.same(rows.slice(0, 2), [{ id: 0 }, { id: 4 }], 'keep-even returns only the id column');
  const split = tsray.data.range(40, { parallelism: 2 }).lazy().mapBatches(m.fn('square')).mapBatches(m.fn('label'), { numCpus: 0.5 });
  await split.materialize();
  t.same(split.stats().split('\n').filter((l) => l.startsWith('Stage')).map((l) => l.split(':')[0]), ['Stage 0 read->map_batches(square)', 'Stage 1 map_batches(label)'], 'different resources do not fuse');
  const failing = tsray.data.range(40, { parallelism: 2 }).lazy().mapBatches(m.fn('square')).mapBatches(m.fn('fail-on'), { fnArgs: [25] });
  await t.rejects(failing.takeAll(), /bad row 25/, 'a failure inside a fused task names its cause');
});

t.test('failures: a transform that traps, a function of the wrong shape, bad sources', async (t) => {
  const m = await mod();
  const failing = tsray.data.range(100, { parallelism: 4 }).mapBatches(m.fn('fail-on'), { fnArgs: [60] });
  await t.rejects(failing.takeAll(), /bad row 60/, "the consumer gets the task's error");
  t.same(await failing.take(2), [{ id: 0 }, { id: 1 }], 'blocks before the failing one still read');
  await t.rejects(tsray.data.range(10).mapBatches(m.fn('fail-on')).count(), /fail-on cannot follow range|expected 2 arguments/, 'a function that needs more arguments than a block is refused, before any of its tasks runs');
  t.throws(() => tsray.data.range(-1), { code: 'ERR_INVALID_ARGUMENT' });
  t.throws(() => tsray.data.range(10, { parallelism: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
  t.throws(() => tsray.data.fromArrays({ a: new Float64Array(3), b: new Float64Array(2) }), /column 'b' has 2 rows/);
  t.throws(() => tsray.data.fromItems([{ x: 1 }, { x: 'two' }]), { code: 'ERR_INVALID_ARGUMENT' });
  t.throws(() => tsray.data.range(10).mapBatches('square'), { code: 'ERR_INVALID_ARGUMENT' });
});
