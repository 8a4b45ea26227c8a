// `console` in AssemblyScript guests writes to the task log at its level, and
// in a world without the runtime imports the build says what to add.
import t from 'tap';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { build, load, BuildError, ComponentError } from 'tsray';
import { ROOT, scratch } from '../helpers/components.mjs';

const WIT = `package ux:con;
world con { include tsray:runtime/task; export talk: func(x: s32) -> s32; export roll: func() -> f64; }
world plain { export talk: func(x: s32) -> s32; export roll: func() -> f64; }
`;
const TALK = `export function talk(x: i32): i32 {
  console.log("log " + x.toString());
  console.info("info line");
  console.debug("debug line");
  console.warn("warn line");
  console.error("error line");
  console.trace("trace line");
  console.assert(x > 100, "x is small");
  console.assert(x > 0, "never printed");
  trace("values", 2, 1.5, -2);
  return x * 2;
}
export function roll(): f64 { return Math.random(); }
`;

const dir = scratch({ 'con.wit': WIT, 'g.ts': TALK });
const built = build({ entry: join(dir, 'g.ts'), wit: join(dir, 'con.wit'), world: 'con', out: join(dir, 'con.wasm') });

t.test('console methods reach the task log at their levels', async (t) => {
  const mod = await load((await built).component);
  const logs = [];
  t.equal(await mod.call('talk', [7], { log: (level, message) => logs.push([level, message]) }), 14);
  t.strictSame(logs, [
    ['info', 'log 7'],
    ['info', 'info line'],
    ['debug', 'debug line'],
    ['warn', 'warn line'],
    ['error', 'error line'],
    ['trace', 'trace line'],
    ['error', 'Assertion failed: x is small'],
    ['trace', 'values 1.5, -2.0'],
  ]);
  const r = await mod.call('roll', []);
  t.ok(r >= 0 && r < 1, `Math.random works (${r})`);
});

t.test('the core module imports only tsray:runtime/host for them, nothing from env', async (t) => {
  const modules = new Set(WebAssembly.Module.imports(new WebAssembly.Module((await built).core)).map((i) => i.module));
  t.strictSame([...modules], ['tsray:runtime/host']);
});

t.test("a task's console output reaches the driver: info on stdout, warn and error on stderr", async (t) => {
  await built;
  const script = `import * as tsray from 'tsray';
    await tsray.init({ numCpus: 1 });
    const mod = await tsray.load(${JSON.stringify(join(dir, 'con.wasm'))});
    process.stdout.write(String(await tsray.get(mod.fn('talk').remote(5))) + '\\n');
    await tsray.shutdown();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((r) => child.on('exit', r));
  t.equal(code, 0, `the driver exits cleanly (stderr: ${err})`);
  t.equal(out.trim().split('\n').at(-1), '10', 'the result');
  t.match(out, /^\(talk pid=\d+ node=[0-9a-f]+\) \[info\] .*$/m, 'console.log and console.info at info, on stdout');
  t.notMatch(out, /\[(debug|trace)\]/, 'debug and trace are below the default level');
  t.match(err, /warn\b.*warn line/, 'console.warn at warn');
  t.match(err, /error\b.*error line/, 'console.error at error');
});

t.test('console in a world without the runtime imports is a build error that says what to add', async (t) => {
  const err = await build({ entry: join(dir, 'g.ts'), wit: join(dir, 'con.wit'), world: 'plain' }).then(() => null, (e) => e);
  t.ok(err instanceof BuildError && err instanceof ComponentError, `BuildError, a ComponentError (got ${err?.constructor?.name})`);
  t.equal(err.code, 'ERR_BUILD');
  const fix = "world plain does not import tsray:runtime/host: add 'include tsray:runtime/task;' to it";
  t.equal(err.diagnostics[0], `${join(dir, 'g.ts')}:2:3: console.log writes to the task log, and ${fix}`);
  t.ok(err.diagnostics.some((d) => d.includes(':7:3: console.trace writes to the task log')), 'console.trace is named');
  t.ok(err.diagnostics.some((d) => d.includes(':10:3: trace() writes to the task log')), 'trace() is named');
  t.ok(err.diagnostics.some((d) => d.includes(':13:38: Math.random is seeded from the host clock')), 'Math.random is named');
  t.notMatch(err.message, /env::|failed to resolve import/, 'no raw toolchain message');
});
