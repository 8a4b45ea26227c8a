// Datasets demo: word counts over a directory of text files larger than the
// object store. The files are read block by block, each block's words are
// counted by a component task (guest/examples/batches.ts, count-words), the
// counts are grouped by word through the store and sorted, the whole table is
// written as CSV and read back, and the result is checked against the words
// the generator wrote. Run with `npm run demo:data` (`--mib N`: text size).
import * as tsray from 'tsray';
import { mkdtempSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 2 ** 20;
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const TEXT = arg('--mib', 96) * MiB;
const STORE = 32 * MiB;
const FILES = 12;

// A vocabulary with Zipf-like frequencies (word i about 1/i as often as the first), so a few words are common and most are rare.
const VOCAB = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);
VOCAB.unshift('the', 'of', 'and', 'to', 'in', 'tsray', 'ray', 'data', 'block', 'store');
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = () => VOCAB[Math.floor(VOCAB.length ** rand()) - 1];

const dir = mkdtempSync(join(tmpdir(), 'tsray-demo-text-'));
const truth = new Map();
let written = 0;
let lastShown = 0;
for (let f = 0; f < FILES; f++) {
  const out = createWriteStream(join(dir, `part-${f}.txt`));
  while (written < ((f + 1) * TEXT) / FILES) {
    let line = '';
    const n = 6 + Math.floor(rand() * 10);
    for (let i = 0; i < n; i++) {
      const w = pick();
      truth.set(w, (truth.get(w) ?? 0) + 1);
      line += (i ? ' ' : '') + (i === 0 ? w[0].toUpperCase() + w.slice(1) : w);
    }
    line += '.\n';
    written += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  if (written - lastShown > TEXT / 4 || f === FILES - 1) { process.stderr.write(`writing text: ${(written / MiB).toFixed(0)}/${(TEXT / MiB).toFixed(0)} MiB\n`); lastShown = written; }
}

await tsray.init({ numCpus: 2, objectStoreMemory: STORE, spillDir: mkdtempSync(join(tmpdir(), 'tsray-demo-spill-')) });
tsray.data.DataContext.targetMaxBlockSize = 2 * MiB;
const batches = await tsray.load(join(root, 'build', 'batches.wasm'));
console.log(`${FILES} files, ${(written / MiB).toFixed(0)} MiB of text; an object store of ${STORE / MiB} MiB; blocks of at most ${tsray.data.DataContext.targetMaxBlockSize / MiB} MiB\n`);

const t0 = performance.now();
const counts = await tsray.data.readText(dir).lazy()
  .mapBatches(batches.fn('count-words'))
  .groupBy('word').sum('n')
  .sort('sum(n)', { descending: true })
  .materialize();
const secs = (performance.now() - t0) / 1000;

console.log('the most common words:');
for (const r of await counts.take(8)) console.log(`  ${r.word.padEnd(8)} ${String(r['sum(n)']).padStart(10)}`);

const outDir = join(dir, 'counts');
const files = await counts.writeCsv(outDir);
const back = await tsray.data.readCsv(outDir, { columnTypes: { word: 'string' } }).takeAll();
const total = back.reduce((n, r) => n + r['sum(n)'], 0);
const wrong = back.filter((r) => truth.get(r.word) !== r['sum(n)']);
const want = [...truth.values()].reduce((a, b) => a + b, 0);
console.log(`\n${back.length} distinct words, ${total.toLocaleString()} in all, written to ${files.length} CSV files and read back`);
console.log(`checked against the generator: ${wrong.length === 0 && back.length === truth.size && total === want ? 'every count right' : `WRONG (${wrong.length} words differ)`}`);
console.log(`${(written / MiB / secs).toFixed(1)} MiB/s of text, ${secs.toFixed(2)} s\n`);
console.log(counts.stats());
const { spill } = tsray.memory().nodes[0].store;
console.log(`\nspilled to disk: ${(spill.spilledBytes / MiB).toFixed(1)} MiB`);
await tsray.shutdown();
if (wrong.length || back.length !== truth.size) process.exitCode = 1;
