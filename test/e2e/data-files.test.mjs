// tsray.data over real files and over more data than the object store:
// CSV, JSON Lines, text and binary reads and the writes that round-trip
// them, typed errors naming the file and row, blocks cut at
// DataContext.targetMaxBlockSize (and a row too large to cut reported), and a
// lazy plan over 3x the store streaming within it.
import t from 'tap';
import * as tsray from 'tsray';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prebuilt } from '../helpers/components.mjs';

const MiB = 2 ** 20;
const TMP = mkdtempSync(join(tmpdir(), 'tsray-data-files-'));
t.before(() => tsray.init({ numCpus: 2, objectStoreMemory: 32 * MiB, spillDir: join(TMP, 'spill') }));
t.teardown(() => tsray.shutdown());
const mod = () => prebuilt('batches').then((b) => tsray.load(b));
const ctx = tsray.data.DataContext;

t.test('CSV: write and read back strings that need quotes, numbers and NaN; types and errors', async (t) => {
  const rows = [
    { id: 1, name: 'plain', score: 0.5 },
    { id: 2, name: 'a, comma', score: NaN },
    { id: 3, name: 'a "quote"\nand a line break', score: -2e10 },
    { id: 4, name: '', score: 7 },
  ];
  const dir = join(TMP, 'csv');
  const files = await tsray.data.fromItems(rows, { parallelism: 2 }).writeCsv(dir);
  t.same(files.map((f) => f.slice(dir.length + 1)), ['part-00000.csv', 'part-00001.csv']);
  t.equal(readFileSync(files[0], 'utf8'), 'id,name,score\n1,plain,0.5\n2,"a, comma",\n');
  const back = tsray.data.readCsv(dir);
  t.same(await back.schema(), { id: 'float64', name: 'string', score: 'float64' });
  const got = await back.takeAll();
  t.same(got.map((r) => r.name), rows.map((r) => r.name), 'quoted fields come back whole');
  t.ok(Number.isNaN(got[1].score) && got[2].score === -2e10);
  t.same(await tsray.data.readCsv(dir, { columnTypes: { id: 'string' } }).take(1), [{ id: '1', name: 'plain', score: 0.5 }], 'columnTypes overrides the guess');
  await t.rejects(tsray.data.fromItems(rows, { parallelism: 1 }).writeCsv(dir), { code: 'ERR_INVALID_ARGUMENT', message: /exists/ }, 'no file is overwritten unless asked');
  t.equal((await tsray.data.fromItems(rows, { parallelism: 1 }).writeCsv(dir, { overwrite: true })).length, 1);

  const bad = join(TMP, 'bad');
  mkdirSync(bad);
  writeFileSync(join(bad, 'a.csv'), 'x,y\n1,2\n3,oops\n');
  await t.rejects(tsray.data.readCsv(join(bad, 'a.csv'), { columnTypes: { y: 'number' } }).takeAll(), { code: 'ERR_INVALID_ARGUMENT', message: /a\.csv row 2: column 'y' holds numbers, got "oops"/ });
  writeFileSync(join(bad, 'b.csv'), 'x,y\n1,2\n3\n');
  await t.rejects(tsray.data.readCsv(join(bad, 'b.csv')).count(), { message: /b\.csv row 2: 1 fields, the header has 2/ });
  writeFileSync(join(bad, 'c.csv'), 'x\n"open\n');
  await t.rejects(tsray.data.readCsv(join(bad, 'c.csv')).count(), { message: /quoted field is not closed/ });
  await t.rejects(tsray.data.readCsv(join(TMP, 'missing')).count(), { code: 'ERR_INVALID_ARGUMENT', message: /no such file/ });
});

t.test('JSON Lines, text and binary files', async (t) => {
  const dir = join(TMP, 'json');
  const rows = [{ city: 'oslo', n: 3, ok: true }, { city: 'lima', n: 1.5, ok: false }];
  await tsray.data.fromItems(rows.map(({ city, n }) => ({ city, n }))).writeJson(dir);
  t.same(await tsray.data.readJson(dir).takeAll(), rows.map(({ city, n }) => ({ city, n })));
  writeFileSync(join(TMP, 'flags.json'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const flags = tsray.data.readJson(join(TMP, 'flags.json'));
  t.same(await flags.schema(), { city: 'string', n: 'float64', ok: 'uint8' }, 'booleans as a u8 column');
  t.same((await flags.takeAll()).map((r) => r.ok), [1, 0]);
  writeFileSync(join(TMP, 'nested.json'), '{"a": {"b": 1}}\n');
  await t.rejects(tsray.data.readJson(join(TMP, 'nested.json')).count(), { message: /nested\.json line 1: field 'a' is nested/ });
  writeFileSync(join(TMP, 'broken.json'), '{"a": 1}\n{"a": \n');
  await t.rejects(tsray.data.readJson(join(TMP, 'broken.json')).count(), { message: /broken\.json line 2: not JSON/ });

  const text = join(TMP, 'text');
  mkdirSync(text);
  writeFileSync(join(text, 'a.txt'), 'one\n\ntwo\r\n');
  writeFileSync(join(text, 'b.txt'), 'three');
  writeFileSync(join(text, '.hidden'), 'never');
  t.same((await tsray.data.readText(text).takeAll()).map((r) => r.text), ['one', 'two', 'three'], 'files in name order, CRLF and empty lines handled, hidden files skipped');
  t.equal(await tsray.data.readText(text, { dropEmptyLines: false }).count(), 4);

  const bytes = tsray.data.readBinaryFiles(text, { includePaths: true });
  t.same(await bytes.schema(), { bytes: 'binary', path: 'string' });
  const got = await bytes.takeAll();
  t.same(got.map((r) => Buffer.from(r.bytes).toString()), ['one\n\ntwo\r\n', 'three']);
  t.same(got.map((r) => r.path), [join(text, 'a.txt'), join(text, 'b.txt')]);
  await t.rejects(bytes.writeCsv(join(TMP, 'nope')), { message: /holds bytes/ });
});

t.test('Parquet: write and read back every column type; only the columns asked; a file that is not Parquet', async (t) => {
  const dir = join(TMP, 'parquet');
  const cols = {
    x: Float64Array.from([1.5, -2, NaN, 4]),
    n: Int32Array.from([1, -2, 3, 2 ** 31 - 1]),
    big: BigInt64Array.from([1n, -(2n ** 62n), 3n, 4n]),
    s: ['a', '', 'é,"q"', 'd'],
    b: [Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(255), Uint8Array.of(0)],
  };
  const files = await tsray.data.fromArrays(cols, { parallelism: 2 }).writeParquet(dir);
  t.same(files.map((f) => f.slice(dir.length + 1)), ['part-00000.parquet', 'part-00001.parquet']);
  const back = tsray.data.readParquet(dir);
  t.same(await back.schema(), { x: 'float64', n: 'float64', big: 'bigint64', s: 'string', b: 'binary' }, 'INT32 comes back as f64, INT64 as s64');
  const rows = await back.takeAll();
  t.same(rows.map((r) => r.s), cols.s);
  t.same(rows.map((r) => r.big), [...cols.big]);
  t.same(rows.map((r) => r.n), [...cols.n]);
  t.same(rows.map((r) => [...r.b]), cols.b.map((x) => [...x]));
  t.ok(Number.isNaN(rows[2].x) && rows[0].x === 1.5);
  t.same(await tsray.data.readParquet(dir, { columns: ['s'] }).take(2), [{ s: 'a' }, { s: '' }]);
  writeFileSync(join(TMP, 'fake.parquet'), 'not parquet at all');
  await t.rejects(tsray.data.readParquet(join(TMP, 'fake.parquet')).count(), { code: 'ERR_INVALID_ARGUMENT', message: /not a Parquet file/ });
  await t.rejects(tsray.data.fromArrays({ u: Uint32Array.of(1) }).writeParquet(join(TMP, 'pq2')), { code: 'ERR_INVALID_ARGUMENT', message: /does not take/ });
});

t.test('blocks are cut at targetMaxBlockSize; a row too large to cut is reported in stats', async (t) => {
  const saved = ctx.targetMaxBlockSize;
  ctx.targetMaxBlockSize = 64 * 1024;
  try {
    const r = tsray.data.range(80_000, { parallelism: 2 });
    t.equal(r.numBlocks(), 10, '640 KB of ids in 64 KiB blocks, though 2 were asked');
    const dir = join(TMP, 'lines');
    mkdirSync(dir);
    writeFileSync(join(dir, 'lines.txt'), Array.from({ length: 40_000 }, (_, i) => `line ${i}`).join('\n'));
    const lines = tsray.data.readText(dir);
    t.equal(await lines.count(), 40_000);
    t.ok(lines.numBlocks() >= 5, `a 400 KB file read as ${lines.numBlocks()} blocks`);
    writeFileSync(join(dir, 'long.txt'), 'x'.repeat(200 * 1024));
    const long = tsray.data.readText(join(dir, 'long.txt'));
    t.equal(await long.count(), 1);
    t.match(long.stats(), /\* Blocks over targetMaxBlockSize \(64\.0 KiB\): 1, the largest 200\.0 KiB \(a single row or batch that could not be cut\)/);
  } finally {
    ctx.targetMaxBlockSize = saved;
  }
});

t.test('a lazy plan over 3x the store streams through it: no ObjectStoreFullError, every row right', async (t) => {
  const m = await mod();
  // 96 MiB of f64 ids in 2 MiB blocks through a 32 MiB store.
  const n = 12 * MiB;
  const ds = tsray.data.range(n, { parallelism: 48 }).lazy().mapBatches(m.fn('square')).filter(m.fn('keep-even'));
  let rows = 0;
  let sum = 0;
  for await (const b of ds.iterBatches()) {
    rows += b.id.length;
    sum += b.id[b.id.length - 1];
  }
  t.equal(rows, n / 2, 'the even squares of every id');
  const lastOfBlocks = Array.from({ length: 48 }, (_, i) => { let x = Math.floor(((i + 1) * n) / 48) - 1; if (x % 2) x--; return x * x; }).reduce((a, b) => a + b, 0);
  t.equal(sum, lastOfBlocks, 'the last row of each block is its largest even square');
  const { spill } = tsray.memory().nodes[0].store;
  t.ok(spill.spilledBytes < (n * 8) / 4, `at most a few blocks in flight: ${(spill.spilledBytes / MiB).toFixed(1)} MiB spilled of ${(n * 8) / MiB} MiB read`);
});
