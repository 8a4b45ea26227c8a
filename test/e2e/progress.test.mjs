// Progress on long work: `get` of many refs reports to a callback, draws a bar
// on a terminal (a real pty, through util-linux `script`), and prints nothing
// when stderr is not a terminal; `tsray build` draws a bar on a terminal.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { withRuntime } from '../helpers/runtime.mjs';

const TMP = mkdtempSync(join(tmpdir(), 'tsray-progress-'));
const env = { ...process.env, TMPDIR: TMP };

t.test('get reports progress to a callback as objects become ready', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const nested = await tsray.load(await prebuilt('nested'));
    const refs = Array.from({ length: 40 }, (_, i) => nested.fn('nap').remote(5 + (i % 4) * 5));
    const seen = [];
    const vals = await tsray.get([...refs, refs[0]], { progress: (p) => seen.push(p) });
    t.equal(vals.length, 41);
    t.ok(seen.length >= 2, `the callback ran as objects became ready (${seen.length} calls)`);
    t.ok(seen.every((p) => p.total === 40), 'total counts each object once');
    t.ok(seen.every((p, i) => i === 0 || p.done >= seen[i - 1].done), 'done never goes back');
    t.equal(seen.at(-1).done, 40, 'and ends at the total');
    const quiet = [];
    await tsray.get(refs, { progress: (p) => quiet.push(p) });
    t.ok(quiet.length <= 1, 'objects already ready report at most once');
  });
});

const DRIVER = join(TMP, 'driver.mjs');
writeFileSync(DRIVER, `
import * as tsray from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'host', 'index.js')).href)};
await tsray.init({ numCpus: 2 });
const nested = await tsray.load(${JSON.stringify(join(ROOT, 'build', 'nested.wasm'))});
const refs = Array.from({ length: 30 }, () => nested.fn('nap').remote(20));
const v = await tsray.get(refs, { progress: true });
process.stdout.write('sum ' + v.reduce((a, b) => a + b, 0) + '\\n');
await tsray.shutdown();
`);

t.test('a bar on a terminal, nothing elsewhere', async (t) => {
  const plain = spawnSync(process.execPath, [DRIVER], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  t.match(plain.stdout, /sum 600/, 'the driver ran');
  t.notMatch(plain.stderr, /get \[/, 'no bar when stderr is not a terminal');
  // `script` gives the driver a pseudo-terminal and copies what it drew to stdout.
  const tty = spawnSync('script', ['-qfec', `${process.execPath} ${DRIVER}`, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  t.match(tty.stdout, /sum 600/, 'the driver ran on a terminal');
  t.match(tty.stdout, /get \[[^\]]*\] 30\/30 \(100%\)/, 'and drew a bar that reached 30/30');

  const out = join(TMP, 'matrix.wasm');
  const build = spawnSync('script', ['-qfec', `${process.execPath} ${CLI} build guest/examples/matrix.ts --wit wit --world matrix -o ${out} --force`, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  t.match(build.stdout, /building \S+matrix\.wasm \[[^\]]*\] 5\/5/, 'tsray build draws a bar over its steps on a terminal');
  t.match(build.stdout, /built \S+matrix\.wasm/);
});

t.test('spilling a backlog reports to a callback with growing totals', async (t) => {
  const seen = [];
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * 2 ** 20, spillProgress: (p) => seen.push(p) }, async () => {
    const refs = Array.from({ length: 40 }, (_, i) => tsray.put(new Float64Array(2 ** 19).fill(i)));
    const until = Date.now() + 5000;
    while (Date.now() < until && (seen.at(-1)?.spilledBytes ?? 0) < 64 * 2 ** 20) await new Promise((r) => setTimeout(r, 100));
    t.ok(seen.length >= 1, `the callback ran while the store spilled (${seen.length} calls)`);
    t.ok(seen.at(-1).spilledBytes >= 64 * 2 ** 20, `it counts the bytes spilled (${seen.at(-1).spilledBytes})`);
    t.ok(seen.every((p, i) => i === 0 || p.spilledBytes >= seen[i - 1].spilledBytes), 'totals never go back');
    t.ok(seen.every((p) => p.spilledObjects > 0 && p.bytesPerSecond > 0));
    t.equal((await tsray.get(refs[0]))[7], 0, 'what was spilled reads back');
  });
});

const SPILLER = join(TMP, 'spiller.mjs');
writeFileSync(SPILLER, `
import * as tsray from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'host', 'index.js')).href)};
await tsray.init({ numCpus: 1, objectStoreMemory: 32 * 2 ** 20 });
const refs = [];
// 112 MiB into a 32 MiB store: past the 64 MiB an episode spills before its bar shows.
for (let i = 0; i < 28; i++) { refs.push(tsray.put(new Float64Array(2 ** 19).fill(i))); await new Promise((r) => setTimeout(r, 10)); }
await new Promise((r) => setTimeout(r, 600));
process.stdout.write('put ' + refs.length + '\\n');
await tsray.shutdown();
`);

t.test('spilling shows a status bar on a terminal, nothing elsewhere', async (t) => {
  const plain = spawnSync(process.execPath, [SPILLER], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  t.match(plain.stdout, /put 28/);
  t.notMatch(plain.stderr, /spilling to disk/, 'no bar when stderr is not a terminal');
  const tty = spawnSync('script', ['-qfec', `${process.execPath} ${SPILLER}`, '/dev/null'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  t.match(tty.stdout, /put 28/);
  t.match(tty.stdout, /spilling to disk: [\d.]+ MiB in \d+ objects, [\d.]+ [KMG]?i?B\/s/, 'a status line of what was spilled and how fast');
});
