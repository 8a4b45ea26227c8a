// Typed drivers from WIT, as a user gets them: `tsray build -o x.wasm` writes
// x.d.ts, `tsray types` writes one for any component, and `tsc --noEmit`
// accepts a driver typed by them and rejects one with a type error. The typed
// driver then runs, checking that every value is what its type says.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { CLI, ROOT, example, kitchen, scratch } from '../helpers/components.mjs';

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function run(cmd, args, cwd) {
  const r = spawnSync(process.execPath, [cmd, ...args], { cwd, encoding: 'utf8', timeout: 110_000 });
  if (r.error) throw r.error;
  return r;
}

// A user's project: the drivers, tsray installed in node_modules, and the components with their types.
const dir = scratch();
cpSync(join(ROOT, 'test', 'fixtures', 'typed'), dir, { recursive: true });
mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
symlinkSync(ROOT, join(dir, 'node_modules', 'tsray'), 'dir');
symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');

t.test('tsray build -o writes the types beside the component', async (t) => {
  const r = run(CLI, ['build', 'guest/examples/matrix.ts', '--wit', 'wit', '--world', 'matrix', '-o', join(dir, 'matrix.wasm')], ROOT);
  t.equal(r.status, 0, `exits 0 (stderr: ${r.stderr})`);
  t.match(r.stderr, /built .*matrix\.wasm \(\d+ bytes\) and .*matrix\.d\.ts/);
  const dts = readFileSync(join(dir, 'matrix.d.ts'), 'utf8');
  t.match(dts, 'sum(m: Float64Array): number;');
  t.match(dts, 'export interface Matrix {');
  const again = run(CLI, ['types', join(dir, 'matrix.wasm'), '-o', '-'], ROOT);
  t.equal(again.status, 0, `tsray types exits 0 (stderr: ${again.stderr})`);
  t.equal(again.stdout, dts, 'tsray types of the built component gives the same declarations');
});

t.test('tsray types writes the types of any loadable component', async (t) => {
  writeFileSync(join(dir, 'counter.wasm'), await example('counter'));
  writeFileSync(join(dir, 'kitchen.wasm'), await kitchen());
  const c = run(CLI, ['types', 'counter.wasm'], dir);
  t.equal(c.status, 0, `exits 0 (stderr: ${c.stderr})`);
  t.match(c.stderr, /wrote counter\.d\.ts \(types of tsray:examples\/counter\)/, 'by default beside the component');
  t.match(readFileSync(join(dir, 'counter.d.ts'), 'utf8'), 'incr(by: bigint): bigint;');
  const k = run(CLI, ['types', 'kitchen.wasm', '-o', 'kitchen.d.ts'], dir);
  t.equal(k.status, 0, `exits 0 (stderr: ${k.stderr})`);

  const help = run(CLI, ['types', '--help'], dir);
  t.equal(help.status, 0);
  t.match(help.stdout, /Usage: tsray types \[options\] <component>/);
  t.match(help.stdout, /-o, --out <file>/);
  t.match(help.stdout, /load<Component>/);
  const missing = run(CLI, ['types', 'nope.wasm'], dir);
  t.not(missing.status, 0, 'a missing component fails');
  t.match(missing.stderr, /error \[ERR_COMPONENT\]: cannot read component nope\.wasm/);
});

/** tsc's errors, by file. */
function tscErrors(out) {
  const byFile = new Map();
  let last;
  for (const line of out.split('\n')) {
    const m = /^(\S+?\.ts)\(\d+,\d+\): error (TS\d+: .*)$/.exec(line);
    if (m) { last = m[2]; byFile.set(m[1], [...(byFile.get(m[1]) ?? []), last]); } else if (last && line.startsWith(' ')) {
      const list = byFile.get([...byFile.keys()].pop());
      list[list.length - 1] += `\n${line.trim()}`;
    }
  }
  return byFile;
}

t.test('tsc --noEmit: typed drivers check, type errors are caught', async (t) => {
  const r = run(TSC, ['--noEmit', '-p', '.'], dir);
  const errors = tscErrors(r.stdout + r.stderr);
  t.notOk(errors.has('good.ts'), `the typed driver type-checks: ${errors.get('good.ts')?.join('\n')}`);
  t.notOk(errors.has('untyped.ts'), `untyped use compiles as before: ${errors.get('untyped.ts')?.join('\n')}`);
  const expect = {
    'bad-name.ts': /Argument of type '"summ"' is not assignable to parameter of type '"sum" \| .*"sumRows"/,
    'bad-get.ts': /Type 'number' is not assignable to type 'string'/,
    'bad-method.ts': /Property 'nope' does not exist on type 'ActorHandleOf<CounterActor>'/,
    'bad-arg.ts': /Argument of type 'string' is not assignable to parameter of type 'Float64Array.* \| readonly number\[\] \| ObjectRef</,
    'bad-arity.ts': /Expected 2 arguments, but got 1/,
    'bad-ctor.ts': /Argument of type 'string' is not assignable to parameter of type '.*bigint/,
    'bad-ref.ts': /'ObjectRef<string>' is not assignable/,
    'bad-enum.ts': /Argument of type '"purple"' is not assignable to parameter of type 'Color \| ObjectRef<Color>'/,
    'bad-u64s.ts': /Type 'number' is not assignable to type 'bigint'/,
    'bad-actor.ts': /Argument of type '"countr"' is not assignable to parameter of type '"counter" \|/,
  };
  const bad = readdirSync(dir).filter((f) => f.startsWith('bad-'));
  t.same(bad.sort(), Object.keys(expect).sort(), 'every bad driver has its expected error');
  for (const [file, re] of Object.entries(expect)) {
    const list = errors.get(file) ?? [];
    t.equal(list.length, 1, `${file} fails to type-check, once`);
    t.match(list[0] ?? '', re, `${file}: ${list[0]}`);
  }
  t.not(r.status, 0, 'tsc exits non-zero');
});

t.test('the typed driver runs, and its values are what its types say', async (t) => {
  const js = ts.transpileModule(readFileSync(join(dir, 'good.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(join(dir, 'good.mjs'), js);
  const r = run(join(dir, 'good.mjs'), [], dir);
  t.equal(r.status, 0, `exits 0 (stderr: ${r.stderr})`);
  t.match(r.stdout, 'typed driver ok');
});
