// tsray.data's row-order transforms (select, limit, addColumn, union, zip),
// its all-to-all stages (repartition, randomShuffle, sort, groupBy) and split,
// eager and lazy, over blocks made by component tasks (guest/examples/batches.ts).
// The sort and groupBy cases follow Ray's test_sort.py and test_groupby.py:
// many blocks, descending, string keys, every aggregation against a plain
// computation, an empty Dataset.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';

t.before(() => tsray.init({ numCpus: 2 }));
t.teardown(() => tsray.shutdown());
const mod = () => prebuilt('batches').then((b) => tsray.load(b));
const ids = (rows) => rows.map((r) => r.id);

t.test('addColumn, select, limit: eager and lazy give the same rows; a limit stops pulling blocks', async (t) => {
  const m = await mod();
  for (const lazy of [false, true]) {
    const base = tsray.data.range(100, { parallelism: 4 });
    const ds = (lazy ? base.lazy() : base).addColumn('twice', m.fn('double-id'));
    t.same(await ds.schema(), { id: 'float64', twice: 'float64' });
    t.same((await ds.takeAll()).filter((r) => r.twice !== r.id * 2), [], `every row's column from the task (${lazy ? 'lazy' : 'eager'})`);
    t.same(await ds.select(['twice']).take(3), [{ twice: 0 }, { twice: 2 }, { twice: 4 }]);
    t.same(ids(await ds.limit(7).takeAll()), [0, 1, 2, 3, 4, 5, 6]);
    t.equal(await ds.limit(0).count(), 0);
  }
  tsray.data.DataContext.maxBlocksInFlight = 2;
  try {
    const big = tsray.data.range(1000, { parallelism: 50 }).lazy().mapBatches(m.fn('square')).limit(25);
    t.same(ids(await big.takeAll()), Array.from({ length: 25 }, (_, i) => i * i));
    const read = big.stats().split('\n')[0];
    const started = Number(/: \d+\/(\d+) blocks/.exec(read)[1]);
    t.ok(started < 10, `the limit stopped the read after a few of its 50 blocks (${read})`);
  } finally {
    tsray.data.DataContext.maxBlocksInFlight = 8;
  }
  t.rejects(tsray.data.range(10).select(['nope']).take(), { code: 'ERR_INVALID_ARGUMENT', message: /no column 'nope'/ });
  t.rejects(tsray.data.range(10).addColumn('x', m.fn('square')).take(), { code: 'ERR_TASK', message: /one per row/ }, 'a column function that returns a record is refused');
  t.throws(() => tsray.data.range(10).limit(-1), { code: 'ERR_INVALID_ARGUMENT' });
  t.throws(() => tsray.data.range(10).select('id'), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('union and zip', async (t) => {
  const a = tsray.data.fromItems([{ id: 1 }, { id: 2 }]);
  const b = tsray.data.fromItems([{ id: 3 }]);
  const c = tsray.data.range(2).lazy();
  t.same(ids(await a.union(b, c).takeAll()), [1, 2, 3, 0, 1], 'rows of each in order');
  const names = tsray.data.fromArrays({ name: ['a', 'b', 'c', 'd', 'e'], id: Float64Array.from([9, 9, 9, 9, 9]) }, { parallelism: 2 });
  const zipped = tsray.data.range(5, { parallelism: 3 }).zip(names);
  t.same(await zipped.takeAll(), ['a', 'b', 'c', 'd', 'e'].map((name, id) => ({ id, name, id_1: 9 })), 'rows side by side across different block boundaries; a shared name gets _1');
  await t.rejects(tsray.data.range(6).zip(names).takeAll(), { code: 'ERR_INVALID_ARGUMENT', message: /fewer rows/ });
  await t.rejects(tsray.data.range(4).zip(names).takeAll(), { code: 'ERR_INVALID_ARGUMENT', message: /more rows/ });
});

t.test('repartition keeps the rows in order in the blocks asked', async (t) => {
  const ds = tsray.data.range(10, { parallelism: 4 });
  const three = ds.repartition(3);
  t.same(ids(await three.takeAll()), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.equal(three.numBlocks(), 3);
  const many = ds.lazy().repartition(15);
  t.equal(await many.count(), 10);
  t.equal(many.numBlocks(), 15, 'more blocks than rows: some are empty');
  t.throws(() => ds.repartition(0), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('randomShuffle: every row once; a seed gives the same order each run', async (t) => {
  const m = await mod();
  const ds = tsray.data.range(500, { parallelism: 5 }).mapBatches(m.fn('square'));
  const want = Array.from({ length: 500 }, (_, i) => i * i);
  const once = ids(await ds.randomShuffle({ seed: 7 }).takeAll());
  const again = ids(await ds.lazy().randomShuffle({ seed: 7 }).takeAll());
  t.same(once, again, 'the same seed, the same order (eager and lazy)');
  t.not(once.join(), want.join(), 'not in the order it was');
  t.same([...once].sort((x, y) => x - y), want, 'every row, once');
  const other = ids(await ds.randomShuffle({ seed: 8 }).takeAll());
  t.not(other.join(), once.join(), 'another seed, another order');
  t.same([...ids(await ds.randomShuffle().takeAll())].sort((x, y) => x - y), want);
  t.throws(() => ds.randomShuffle({ seed: 1.5 }), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('sort: numbers and strings, ascending and descending, over many blocks', async (t) => {
  const xs = Array.from({ length: 300 }, (_, i) => ({ id: (i * 7919) % 300, name: `w${(i * 31) % 97}` }));
  const ds = tsray.data.fromItems(xs, { parallelism: 7 }).randomShuffle({ seed: 3 });
  const asc = ds.sort('id');
  t.same(ids(await asc.takeAll()), Array.from({ length: 300 }, (_, i) => i));
  t.ok((asc.numBlocks() ?? 0) > 1, 'sorted into several blocks, in order');
  t.same(ids(await ds.sort('id', { descending: true }).takeAll()), Array.from({ length: 300 }, (_, i) => 299 - i));
  const byName = (await ds.lazy().sort('name').takeAll()).map((r) => r.name);
  t.same(byName, xs.map((r) => r.name).sort(), 'strings in code-unit order');
  t.same(await tsray.data.fromItems([]).sort('id').takeAll(), [], 'an empty Dataset sorts to nothing');
  await t.rejects(ds.sort('nope').takeAll(), { code: 'ERR_INVALID_ARGUMENT', message: /no column 'nope'/ });
  const stages = asc.stats().split('\n').filter((l) => l.startsWith('Stage')).map((l) => l.split(':')[0]);
  t.same(stages, ['Stage 0 from_items', 'Stage 1 random_shuffle', 'Stage 2 sort(id)']);
});

t.test('groupBy(key).aggregate: each aggregation as computed by hand, keys in order', async (t) => {
  const rows = Array.from({ length: 200 }, (_, i) => ({ key: i % 7, city: ['oslo', 'lima', 'rome'][i % 3], x: (i * 37) % 101 }));
  const ds = tsray.data.fromItems(rows, { parallelism: 6 });
  const A = tsray.data.aggregate;
  const got = await ds.groupBy('key').aggregate(A.count(), A.sum('x'), A.min('x'), A.max('x'), A.mean('x'), A.std('x')).takeAll();
  const want = [0, 1, 2, 3, 4, 5, 6].map((k) => {
    const v = rows.filter((r) => r.key === k).map((r) => r.x);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1));
    return { key: k, 'count()': v.length, 'sum(x)': v.reduce((a, b) => a + b, 0), 'min(x)': Math.min(...v), 'max(x)': Math.max(...v), 'mean(x)': mean, 'std(x)': std };
  });
  t.equal(got.length, 7);
  got.forEach((g, i) => {
    for (const [k, v] of Object.entries(want[i])) t.ok(Math.abs(g[k] - v) < 1e-9, `key ${i} ${k}: ${g[k]} vs ${v}`);
  });
  t.same(await ds.lazy().groupBy('city').count().takeAll(), [{ city: 'lima', 'count()': 67 }, { city: 'oslo', 'count()': 67 }, { city: 'rome', 'count()': 66 }]);
  t.same(await ds.groupBy('key').sum('x').count(), 7);
  await t.rejects(ds.groupBy('city').sum('city').takeAll(), { code: 'ERR_INVALID_ARGUMENT', message: /need numbers/ });
  t.throws(() => ds.groupBy('key').aggregate(), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('split: whole blocks with nearly equal rows, or exactly equal rows', async (t) => {
  const ds = tsray.data.range(100, { parallelism: 10 });
  const parts = await ds.split(3);
  const counts = await Promise.all(parts.map((p) => p.count()));
  t.equal(counts.reduce((a, b) => a + b, 0), 100);
  t.ok(Math.max(...counts) - Math.min(...counts) <= 10, `balanced: ${counts}`);
  t.same(ids((await Promise.all(parts.map((p) => p.takeAll()))).flat()), Array.from({ length: 100 }, (_, i) => i), 'in order, each row once');
  const equal = await ds.split(3, { equal: true });
  t.same(await Promise.all(equal.map((p) => p.count())), [33, 33, 33]);
  t.same(ids(await equal[1].takeAll()), Array.from({ length: 33 }, (_, i) => 33 + i));
  await t.rejects(ds.split(0), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('a stateful transform on an actor pool: actors made once, blocks spread over them, killed at the end', async (t) => {
  const m = await mod();
  const scaler = m.actor('scaler');
  const actorsNow = async () => (await tsray.state.listActors()).filter((a) => a.className.includes('scaler'));
  const ds = tsray.data.range(60, { parallelism: 6 }).lazy().mapBatches(scaler, { compute: tsray.data.actorPool({ size: 2 }), fnConstructorArgs: [3] });
  t.same(ids(await ds.takeAll()), Array.from({ length: 60 }, (_, i) => i * 3), 'every block through an actor built with factor 3');
  t.match(ds.stats(), /Stage 1 map_batches\(scaler\): 6\/6 blocks/, 'its own stage: an actor stage does not fuse with the read tasks');
  let actors = [];
  for (let i = 0; i < 50 && (actors = await actorsNow()).some((a) => a.state !== 'DEAD'); i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(actors.length, 2, 'two actors for the pool');
  t.ok(actors.every((a) => a.state === 'DEAD'), 'killed once the stage was done');
  t.throws(() => tsray.data.range(4).mapBatches(scaler), { code: 'ERR_INVALID_ARGUMENT', message: /compute: tsray\.data\.actorPool/ });
  t.throws(() => tsray.data.range(4).mapBatches(m.fn('square'), { compute: tsray.data.actorPool() }), { code: 'ERR_INVALID_ARGUMENT', message: /needs an actor class/ });
  t.throws(() => tsray.data.actorPool({ size: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('progress: DataContext.progressBars as a callback sees every stage to its end', async (t) => {
  const m = await mod();
  const seen = [];
  tsray.data.DataContext.progressBars = (stages) => seen.push(stages);
  try {
    await tsray.data.range(200, { parallelism: 4 }).lazy().mapBatches(m.fn('square')).sort('id').count();
    for (let i = 0; i < 20 && !seen.length; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 250));
  } finally {
    tsray.data.DataContext.progressBars = true;
  }
  const last = seen.at(-1);
  t.same(last.map((s) => s.stage), ['Stage 0 read->map_batches(square)', 'Stage 1 sort(id)']);
  t.ok(last.every((s) => s.done === s.total && s.total > 0), JSON.stringify(last));
});

t.test('pipelines: windows of blocks transformed lazily, repeated per epoch', async (t) => {
  const m = await mod();
  const pipe = tsray.data.range(40, { parallelism: 8 }).window({ blocksPerWindow: 3 }).mapBatches(m.fn('square'));
  const sizes = [];
  for await (const w of pipe.iterWindows()) sizes.push(await w.count());
  t.same(sizes, [15, 15, 10], 'windows of 3, 3 and 2 blocks of 5 rows');
  t.same(ids(await pipe.takeAll()), Array.from({ length: 40 }, (_, i) => i * i), 'every row once, in order');
  const epochs = [];
  for await (const epoch of tsray.data.range(6, { parallelism: 2 }).repeat(3).iterEpochs()) {
    const rows = [];
    for await (const w of epoch) rows.push(...ids(await w.takeAll()));
    epochs.push(rows);
  }
  t.same(epochs, [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]], 'each epoch reads the source again');
  t.equal(await tsray.data.range(10, { parallelism: 5 }).window({ blocksPerWindow: 2 }).repeat(2).filter(m.fn('keep-even')).count(), 10);
  t.same(ids(await pipe.take(3)), [0, 1, 4]);
  t.throws(() => tsray.data.range(4).window({ blocksPerWindow: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
  t.throws(() => tsray.data.range(4).repeat(0), { code: 'ERR_INVALID_ARGUMENT' });
});

t.test('map and flatMap call a component function per row; mapBatches batchSize slices each block', async (t) => {
  const m = await mod();
  const ds = tsray.data.range(7, { parallelism: 2 });
  t.same(await ds.map(m.fn('label-row')).takeAll(), [0, 1, 2, 3, 4, 5, 6].map((i) => ({ id: i * i, label: i % 2 ? 'odd' : 'even' })), 'a row in, a row out');
  t.same(ids(await ds.flatMap(m.fn('repeat-row')).takeAll()), [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6], 'each row n times (none for 0)');
  const fused = ds.lazy().map(m.fn('label-row')).mapBatches(m.fn('label'));
  t.equal((await fused.takeAll()).length, 7);
  t.match(fused.stats(), /Stage 0 read->map\(label-row\)->map_batches\(label\)/, 'row-wise stages fuse with the others');
  const sizes = ids(await tsray.data.range(10, { parallelism: 1 }).mapBatches(m.fn('batch-lengths'), { batchSize: 4 }).takeAll());
  t.same(sizes, [4, 4, 4, 4, 4, 4, 4, 4, 2, 2], 'the function saw batches of 4, 4 and 2 rows of the one block');
  await t.rejects(ds.map(m.fn('repeat-row')).takeAll(), { code: 'ERR_TASK', message: /must return a row/ });
  await t.rejects(ds.flatMap(m.fn('label-row')).takeAll(), { code: 'ERR_TASK', message: /must return a list of rows/ });
  t.throws(() => ds.mapBatches(m.fn('square'), { batchSize: 0 }), { code: 'ERR_INVALID_ARGUMENT' });
});
