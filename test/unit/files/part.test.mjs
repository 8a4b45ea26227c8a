// File parts (host/files/): text cut at any byte offsets reads every line once, CSV and JSON parts with fixed
// types, the data-root check (links resolved), and the wire check of a part from a peer.
import t from 'tap';
import { mkdtempSync, readFileSync, realpathSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';

const { linesOfPart } = await source('host/files/lines.ts');
const { isFilePart, readPart, openUnder } = await source('host/files/part.ts');

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
  const opened = (path, roots) => { const f = openUnder(path, roots); f.close(); return f; };
  t.doesNotThrow(() => opened(join(root, 'in.txt'), [root]));
  t.throws(() => opened(outside, [root]), { code: 'ERR_NOT_GIVEN', message: /outside this node's data roots/ });
  t.throws(() => opened(join(root, 'out.txt'), [root]), { code: 'ERR_NOT_GIVEN' }, 'a link is judged by where it points');
  t.throws(() => opened(join(root, 'in.txt'), []), { code: 'ERR_NOT_GIVEN', message: /reads no files: start it with --data-root/ });
  t.throws(() => opened(`${root}-sibling/in.txt`, [root]), { code: 'ERR_INVALID_ARGUMENT' }, 'a missing file is an argument error');
  t.doesNotThrow(() => opened(outside, undefined), 'no roots given: anywhere (the embedded node)');

  // A link inside the root that is turned outside between the check and the read: the read gets what was checked.
  symlinkSync(join(root, 'in.txt'), join(root, 'swapped.txt'));
  const f = openUnder(join(root, 'swapped.txt'), [root]);
  unlinkSync(join(root, 'swapped.txt'));
  symlinkSync(outside, join(root, 'swapped.txt'));
  t.equal(readFileSync(f.at, 'utf8'), 'hello\n', 'a link swapped after the check still reads the file that was checked, not the secret');
  f.close();
  t.throws(() => opened(join(root, 'swapped.txt'), [root]), { code: 'ERR_NOT_GIVEN' }, 'and opened again, the swapped link is refused');

  // A FIFO outside the roots (nobody writing to it) is refused at once, not waited on.
  const fifo = join(dir, 'fifo');
  if (spawnSync('mkfifo', [fifo]).status === 0) t.throws(() => opened(fifo, [root]), { code: 'ERR_NOT_GIVEN' }, 'a FIFO outside the roots is refused without blocking');
  await t.rejects(readPart({ format: 'binary', paths: [join(root, 'in.txt'), outside], includePaths: false }, [root]), { code: 'ERR_NOT_GIVEN' }, 'a binary part with one file outside is refused whole');
  t.same(await readPart({ format: 'binary', paths: [], includePaths: false }, [root]), { bytes: [] }, 'an empty binary part reads nothing');
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
