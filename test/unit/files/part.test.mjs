// File parts (host/files/): text cut at any byte offsets reads every line once, CSV and JSON parts with fixed
// types, the data-root check (links resolved), and the wire check of a part from a peer.
import t from 'tap';
import { mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';

const { linesOfPart } = await source('host/files/lines.ts');
const { isFilePart, readPart, readableUnder } = await source('host/files/part.ts');

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsray-parts-')));
let seed = 7;
const rand = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };

t.test('lines cut at any offsets: each line once, in order, LF or CRLF, multi-byte text whole', async (t) => {
  const lines = Array.from({ length: 400 }, (_, i) => `${i} ${'é€x'.repeat(rand(40))}`);
  lines[17] = ''; // an empty line
  const path = join(dir, 'lines.txt');
  const text = lines.map((l, i) => l + (i % 3 ? '\n' : '\r\n')).join('');
  writeFileSync(path, text);
  const size = Buffer.byteLength(text);
  for (let round = 0; round < 40; round++) {
    const cuts = [...new Set(Array.from({ length: 1 + rand(12) }, () => rand(size)))].sort((a, b) => a - b);
    const bounds = [0, ...cuts.filter((c) => c > 0), Infinity];
    const got = [];
    for (let i = 0; i + 1 < bounds.length; i++) got.push(...linesOfPart(path, bounds[i], bounds[i + 1]).lines);
    if (JSON.stringify(got) !== JSON.stringify(lines)) { t.fail(`cut at ${cuts.join(',')}`); return; }
  }
  t.pass('40 random cuttings each read every line exactly once');
});

t.test('CSV and JSON parts take the types they are given, and name the row that does not fit', async (t) => {
  const csv = join(dir, 'a.csv');
  writeFileSync(csv, 'x,name\n1,a\n2,"b,\nc"\nnope,d\n');
  const part = { format: 'csv', path: csv, start: 0, end: Infinity, delimiter: ',', types: { x: 'number', name: 'string' } };
  await t.rejects(readPart(part), { code: 'ERR_INVALID_ARGUMENT', message: /a\.csv row 3: column 'x' holds numbers, got "nope"/ });
  t.same(await readPart({ ...part, types: { x: 'string', name: 'string' } }), { x: ['1', '2', 'nope'], name: ['a', 'b,\nc', 'd'] }, 'a quoted line break inside a whole-file part');
  const json = join(dir, 'a.json');
  writeFileSync(json, '{"a":1,"b":"x"}\n\n{"a":2}\n');
  t.same(await readPart({ format: 'json', path: json, start: 0, end: Infinity, names: ['a', 'b'], types: { a: 'number', b: 'string' } }), { a: Float64Array.of(1, 2), b: ['x', ''] });
});

t.test('data roots: inside is read, outside (or through a link out) is refused, none means no files', async (t) => {
  const root = join(dir, 'root');
  const outside = join(dir, 'outside.txt');
  writeFileSync(outside, 'secret\n');
  (await import('node:fs')).mkdirSync(root);
  writeFileSync(join(root, 'in.txt'), 'hello\n');
  symlinkSync(outside, join(root, 'out.txt'));
  t.doesNotThrow(() => readableUnder(join(root, 'in.txt'), [root]));
  t.throws(() => readableUnder(outside, [root]), { code: 'ERR_NOT_GIVEN', message: /outside this node's data roots/ });
  t.throws(() => readableUnder(join(root, 'out.txt'), [root]), { code: 'ERR_NOT_GIVEN' }, 'a link is judged by where it points');
  t.throws(() => readableUnder(join(root, 'in.txt'), []), { code: 'ERR_NOT_GIVEN', message: /reads no files: start it with --data-root/ });
  t.throws(() => readableUnder(`${root}-sibling/in.txt`, [root]), { code: 'ERR_INVALID_ARGUMENT' }, 'a missing file is an argument error');
  t.doesNotThrow(() => readableUnder(outside, undefined), 'no roots given: anywhere (the embedded node)');
  await t.rejects(readPart({ format: 'text', path: outside, start: 0, end: Infinity, dropEmptyLines: true }, [root]), { code: 'ERR_NOT_GIVEN' }, 'readPart checks before it reads');
});

t.test('a part from a peer is checked field by field', async (t) => {
  const good = { format: 'text', path: '/x', start: 0, end: Infinity, dropEmptyLines: true };
  t.ok(isFilePart(good));
  for (const [why, p] of [
    ['an unknown format', { ...good, format: 'exe' }],
    ['a negative offset', { ...good, start: -1 }],
    ['a NaN offset', { ...good, end: NaN }],
    ['an empty path', { ...good, path: '' }],
    ['a NUL in the path', { ...good, path: '/x\0y' }],
    ['a bad column type', { format: 'json', path: '/x', start: 0, end: 1, names: ['a'], types: { a: 'date' } }],
    ['a long delimiter', { format: 'csv', path: '/x', start: 0, end: 1, delimiter: ',,', types: {} }],
    ['too many files', { format: 'binary', paths: new Array(100_001).fill('/x'), includePaths: false }],
    ['null', null],
  ]) t.notOk(isFilePart(p), why);
});
