// The `tsray` command line, run as a user runs it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'tsray';
import { CLI, ROOT, scratch, prebuilt } from '../helpers/components.mjs';

function tsray(args, opts = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 110_000, ...opts });
  if (r.error) throw r.error;
  return r;
}

t.test('help', async (t) => {
  const top = tsray(['--help']);
  t.equal(top.status, 0, 'tsray --help exits 0');
  t.match(top.stdout, /Usage: tsray/);
  t.match(top.stdout, /\bbuild\b/);
  t.match(top.stdout, /\binspect\b/);
  t.match(top.stdout, /--help/);

  const b = tsray(['build', '--help']);
  t.equal(b.status, 0, 'tsray build --help exits 0');
  t.match(b.stdout, /Usage: tsray build/);
  t.match(b.stdout, /<entry>/);
  t.match(b.stdout, /--wit/);
  t.match(b.stdout, /--world/);
  t.match(b.stdout, /-o, --out/);

  const i = tsray(['inspect', '--help']);
  t.equal(i.status, 0, 'tsray inspect --help exits 0');
  t.match(i.stdout, /Usage: tsray inspect/);
  t.match(i.stdout, /<component>/);
  t.match(i.stdout, /--json/);
});

t.test('build writes a component', async (t) => {
  const dir = scratch();
  const out = join(dir, 'text.wasm');
  const r = tsray(['build', 'guest/examples/text.ts', '--wit', 'wit', '--world', 'text', '-o', out]);
  t.equal(r.status, 0, `exits 0 (stderr: ${r.stderr})`);
  t.ok(existsSync(out), 'writes the output file');
  t.match(r.stderr, /resolved world tsray:examples\/text/, 'progress on stderr');
  t.match(r.stderr, /compiled AssemblyScript/);
  t.match(r.stderr, new RegExp(`built .*text\\.wasm \\(\\d+ bytes\\)`));
  t.equal(r.stdout, '', 'nothing on stdout');
  const bytes = new Uint8Array(readFileSync(out));
  t.match(r.stderr, `(${bytes.length} bytes)`, 'reports the size written');
  const mod = await load(bytes);
  t.strictSame(mod.functions.map((f) => f.name), ['greet', 'word-count']);
  t.equal(await mod.call('greet', ['CLI']), 'Hello, CLI!');
});

t.test('a failing build', async (t) => {
  const dir = scratch({
    't.wit': 'package demo:t;\nworld w {\n  include tsray:runtime/task;\n  export f: func(x: u32) -> u32;\n}\n',
    'g.ts': 'export function f(x: u32): u32 {\n  return "no";\n}\n',
  });
  const r = tsray(['build', 'g.ts', '--wit', '.', '--world', 'w', '-o', 'out.wasm'], { cwd: dir });
  t.not(r.status, 0, 'exits non-zero');
  t.match(r.stderr, /error \[ERR_BUILD\]/);
  t.match(r.stderr, /g\.ts:2:\d+: TS2322/, 'names the file, line and diagnostic');
  t.notOk(existsSync(join(dir, 'out.wasm')), 'writes no output');

  const unknown = tsray(['build', 'g.ts', '--wit', '.', '--world', 'nope', '-o', 'out.wasm'], { cwd: dir });
  t.not(unknown.status, 0, 'an unknown world exits non-zero');
  t.match(unknown.stderr, /world 'nope' not found/);

  const missing = tsray(['build', 'g.ts', '--world', 'w'], { cwd: dir });
  t.not(missing.status, 0, 'a missing --wit exits non-zero');
  t.match(missing.stderr, /--wit/);
});

t.test('inspect', async (t) => {
  const dir = scratch();
  const matrix = join(dir, 'matrix.wasm');
  writeFileSync(matrix, await prebuilt('matrix'));
  const r = tsray(['inspect', matrix]);
  t.equal(r.status, 0, `exits 0 (stderr: ${r.stderr})`);
  t.match(r.stdout, /world tsray:examples\/matrix/);
  t.match(r.stdout, /imports: tsray:runtime\/host/);
  for (const sig of [
    'sum: func(m: list<f64>) -> f64',
    'scale: func(m: list<f64>, k: f64) -> list<f64>',
    'matmul: func(a: matrix, b: matrix) -> result<matrix, string>',
    'add: func(a: s32, b: s32) -> s32',
  ]) t.match(r.stdout, sig, `lists ${sig.split(':')[0]}`);

  const j = tsray(['inspect', matrix, '--json']);
  t.equal(j.status, 0);
  const parsed = JSON.parse(j.stdout);
  t.equal(parsed.world, 'tsray:examples/matrix');
  t.match(parsed.hash, /^[0-9a-f]{64}$/);
  t.ok(Array.isArray(parsed.functions));
  t.strictSame(parsed.functions.map((f) => f.name), ['sum', 'scale', 'matmul', 'add', 'sum-rows']);
  t.strictSame(parsed.functions[3].params, [{ name: 'a', type: 's32' }, { name: 'b', type: 's32' }]);
  t.strictSame(parsed.resources, []);

  const counter = join(dir, 'counter.wasm');
  writeFileSync(counter, await prebuilt('counter'));
  const c = tsray(['inspect', counter]);
  t.equal(c.status, 0);
  t.match(c.stdout, /resources:\n\s+tsray:examples\/counters#counter/);
  t.match(c.stdout, 'counter.incr: func(by: s64) -> s64');
  t.match(c.stdout, 'counter.get: func() -> s64');
});

t.test('inspect on a non-component', async (t) => {
  const r = tsray(['inspect', join(ROOT, 'package.json')]);
  t.not(r.status, 0, 'exits non-zero');
  t.match(r.stderr, /error \[ERR_COMPONENT\]: not a WebAssembly binary/);
  t.equal(r.stdout, '');
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');

  const dir = scratch();
  const missing = tsray(['inspect', join(dir, 'nothing.wasm')]);
  t.not(missing.status, 0, 'a missing file exits non-zero');
  t.match(missing.stderr, /error \[ERR_COMPONENT\]: cannot read component .*nothing\.wasm/);
});
