// Any component runs: a JavaScript guest made by componentize-js (several core
// modules, WASI imports) on the jco engine, with the task semantics of the lean
// engine and explicit capabilities; and a component assembled from WAT with no
// tsray metadata at all.
import t from 'tap';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as tsray from 'tsray';
import { ComponentError, OutOfMemoryError, TaskError, TaskTimeoutError, TaskCancelledError } from 'tsray';
import { CLI, ROOT, scratch } from '../helpers/components.mjs';
import { caught, withRuntime } from '../helpers/runtime.mjs';
import { jsGuest } from '../helpers/js-guest.mjs';
import { CORE_BASICS, watComponent } from '../helpers/wat-components.mjs';

t.setTimeout(900_000);
const run = promisify(execFile);
const CAPS = ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr'];
const js = await jsGuest();

t.test('a JavaScript guest runs on the jco engine: tasks, fresh state, an actor, errors, timeout, memory cap, cancel', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const mod = await tsray.load(js);
    t.equal(mod.engineName, 'jco', 'several core modules and WASI imports: the jco engine');

    const refused = await caught(t, () => mod.fn('add').remote(1, 2));
    t.ok(refused instanceof ComponentError && refused.code === 'ERR_CAPABILITY', `refused without grants (${refused?.code})`);
    for (const line of ["wasi:clocks/monotonic-clock@0.2.12 (grant 'wasi:clocks')", "wasi:random/random@0.2.12 (grant 'wasi:random')", "wasi:cli/stdout@0.2.12 (grant 'wasi:cli/stdout')"]) {
      t.ok(refused?.message.includes(line), `the refusal lists ${line}`);
    }
    for (const cap of ['wasi:filesystem', 'wasi:sockets', 'wasi:http', 'wasi:cli/environment', 'wasi:everything']) {
      const e = await caught(t, () => mod.fn('add').options({ capabilities: [cap] }));
      t.equal(e?.code, 'ERR_CAPABILITY', `a grant of ${cap} is refused`);
    }

    const fn = (name) => mod.fn(name).options({ capabilities: CAPS });
    t.equal(await tsray.get(fn('add').remote(2, 3)), 5, 'a task');
    t.strictSame(await tsray.get(Array.from({ length: 12 }, (_, i) => fn('add').remote(i, i))), Array.from({ length: 12 }, (_, i) => 2 * i), 'many tasks');
    t.strictSame(await tsray.get(Array.from({ length: 12 }, () => fn('bump').remote())), new Array(12).fill(1), 'every task sees a fresh instance (pooled ones are reset)');
    t.match(await tsray.get(fn('greet').remote('ada')), /^hello ada /, 'strings both ways');
    const rand = await tsray.get(fn('rand').remote());
    t.ok(rand >= 0 && rand < 1, `Math.random works when granted (${rand})`);
    const now = await tsray.get(fn('now').remote());
    t.ok(Math.abs(now - Date.now()) < 60_000, 'Date.now reads the wall clock when granted');

    const c = await mod.actor('counter', { capabilities: CAPS }).remote(10);
    t.equal(await tsray.get(c.incr.remote(5)), 15, 'an actor keeps its instance');
    t.equal(await tsray.get(c.incr.remote(5)), 20, 'and its state');
    const noGrant = await caught(t, () => mod.actor('counter').remote(1));
    t.equal(noGrant?.code, 'ERR_CAPABILITY', 'an actor is refused without its grants too');

    const thrown = await caught(t, () => tsray.get(fn('fail').remote('kaboom')));
    t.ok(thrown instanceof TaskError && /kaboom/.test(thrown.message), `a JavaScript exception is a TaskError with its message (${thrown?.message})`);

    const slow = await caught(t, () => tsray.get(fn('spin').options({ timeoutMs: 1500 }).remote()));
    t.ok(slow instanceof TaskTimeoutError, `timeoutMs stops a JavaScript loop (${slow?.constructor?.name})`);
    const spinning = fn('spin').remote();
    await new Promise((r) => setTimeout(r, 300));
    tsray.cancel(spinning, { force: true });
    const cancelled = await caught(t, () => tsray.get(spinning));
    t.ok(cancelled instanceof TaskCancelledError, `a forced cancel stops it (${cancelled?.constructor?.name})`);

    const hog = await caught(t, () => tsray.get(fn('hog').options({ maxMemoryMb: 48 }).remote(200)));
    t.ok(hog instanceof OutOfMemoryError, `maxMemoryMb caps the guest's memories: OutOfMemoryError (${hog?.constructor?.name}: ${hog?.message?.slice(0, 100)})`);
    t.match(hog?.message, /cap of 48 MiB.*out of memory/, 'the message has the cap and what the runtime said');
    t.equal(await tsray.get(fn('hog').options({ maxMemoryMb: 48 }).remote(4)), 4, 'below the cap it runs');
    t.equal(await tsray.get(fn('add').remote(1, 1)), 2, 'and the node still runs tasks');
  });
});

t.test('a JavaScript guest in-process: capabilities through the call environment', async (t) => {
  const mod = await tsray.load(js);
  const refused = await caught(t, () => mod.call('add', [2, 3]));
  t.equal(refused?.code, 'ERR_CAPABILITY', 'refused without grants, as a task is');
  t.equal(await mod.call('add', [2, 3], { capabilities: CAPS }), 5, 'granted: it runs');
  const logs = [];
  t.match(await mod.call('greet', ['eve'], { capabilities: CAPS, log: (level, message) => logs.push([level, message]) }), /^hello eve /);
  t.strictSame(logs, [['info', 'hi from js eve']], 'its stdout line reaches the log callback at info');
});

t.test("a JavaScript guest's console output reaches the driver as its task's log", async (t) => {
  const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'test', 'helpers', 'js-log-driver.mjs'), js], { cwd: ROOT, env: { ...process.env, TSRAY_ADDRESS: '', TSRAY_TOKEN: '' } });
  t.match(stdout, /\(greet pid=\d+ node=[0-9a-f]+\) \[info\] hi from js bob/, 'console.log: an info line of the task');
  t.match(stderr, /\(complain pid=\d+ node=[0-9a-f]+\) \[error\] it hurts/, 'console.error: an error line of the task');
});

t.test('tsray inspect says which engine runs a component, why, and what it must be granted', async (t) => {
  const { stdout } = await run(process.execPath, [CLI, 'inspect', js]);
  t.match(stdout, /^engine: jco \(it imports .* which only the jco engine serves\)$/m, 'jco, with the reason');
  t.match(stdout, /capabilities a task must be granted:\n(  .*\n)*  wasi:random\/random@0\.2\.12 \(grant 'wasi:random'\)/, 'the grants it needs');
  const json = JSON.parse((await run(process.execPath, [CLI, 'inspect', '--json', js])).stdout);
  t.equal(json.engine, 'jco');
  t.ok(json.capabilities.length >= 4, 'JSON lists the capabilities');
  const lean = (await run(process.execPath, [CLI, 'inspect', join(ROOT, 'build', 'matrix.wasm')])).stdout;
  t.match(lean, /^engine: lean \(one core module/m, 'an AssemblyScript example keeps the lean engine');
});

t.test('a component assembled from WAT with wasm-tools, with no tsray metadata, loads and runs', async (t) => {
  const wat = `(module\n    ${CORE_BASICS}\n    (func (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1))))`;
  const bytes = await watComponent(wat, ['mul: func(a: s32, b: s32) -> s32;'], { metadata: false });
  t.notOk(Buffer.from(bytes).includes(Buffer.from('tsray:wit')), 'no tsray metadata section');
  const mod = await tsray.load(bytes);
  t.strictSame(mod.functions.map((f) => f.signature), ['mul: func(a: s32, b: s32) -> s32'], 'its world comes from its own types');
  t.equal(mod.engineName, 'lean', 'one core module with canonical names: the lean engine');
  t.equal(await mod.call('mul', [6, 7]), 42, 'in-process');
  await withRuntime({ numCpus: 1 }, async () => {
    t.equal(await tsray.get((await tsray.load(bytes)).fn('mul').remote(-3, 5)), -15, 'as a task');
  });
  const file = join(scratch({}), 'mul.wasm');
  writeFileSync(file, bytes);
  const { stdout } = await run(process.execPath, [CLI, 'inspect', file]);
  t.match(stdout, /engine: lean/, 'inspect reads it too');
  t.match(stdout, /mul: func\(a: s32, b: s32\) -> s32/);
});
