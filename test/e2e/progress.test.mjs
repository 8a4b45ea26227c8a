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
