// Actor constructors may call the host like any method: sleep, log, now,
// task-context, and other actors through their handles.
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ROOT, prebuilt } from '../helpers/components.mjs';

const dir = join(ROOT, 'test', 'fixtures', 'probe');
const [probeMod, counterMod] = await Promise.all([
  tsray.build({ entry: join(dir, 'probe.ts'), wit: dir, world: 'probe' }).then((r) => tsray.load(r.component)),
  prebuilt('counter').then((b) => tsray.load(b)),
]);

await tsray.init({ numCpus: 2 });
t.teardown(() => tsray.shutdown());
const Probe = probeMod.actor('probe');
const other = counterMod.actor('counter').remote(41n);

/** The report of a probe whose constructor made host call `what`. */
const probe = (what) => tsray.get(Probe.remote(what, other).report.remote());

t.test('a constructor sleeps through the host', async (t) => {
  const m = /^slept (\d+(\.\d+)?)$/.exec(await probe('sleep'));
  t.ok(m, 'the constructor finished its sleep');
  t.ok(Number(m?.[1]) >= 45, `it slept the full 50 ms (${m?.[1]} ms)`);
});

t.test('a constructor logs', async (t) => {
  const lines = [];
  const write = process.stderr.write;
  process.stderr.write = function (chunk, ...rest) { lines.push(String(chunk)); return write.call(this, chunk, ...rest); };
  t.teardown(() => { process.stderr.write = write; });
  t.equal(await probe('log'), 'logged');
  for (let i = 0; i < 100 && !lines.some((l) => l.includes('probe constructed')); i++) await new Promise((r) => setTimeout(r, 10));
  t.ok(lines.some((l) => l.includes('probe constructed')), 'its warn line reached stderr');
});

t.test('a constructor reads the clock', async (t) => {
  const before = Date.now();
  const m = /^now (\d+(\.\d+)?)$/.exec(await probe('now'));
  t.ok(m && Number(m[1]) >= before - 1 && Number(m[1]) <= Date.now() + 1, `now() is the wall clock (${m?.[1]})`);
});

t.test('a constructor reads its task context', async (t) => {
  const report = await probe('context');
  t.match(report, new RegExp(`^task [0-9a-f]+ on ${tsray.getRuntimeContext().nodeId}$`), `the actor's id and this node (${report})`);
});

t.test('a constructor calls another actor through its handle', async (t) => {
  t.equal(await probe('call'), 'other 41');
  t.equal(await tsray.get(other.incr.remote(1n)), 42n, 'the other actor keeps working');
});

t.test('a constructor that makes host calls can be restarted by kill', async (t) => {
  const p = Probe.options({ maxRestarts: 1 }).remote('sleep', other);
  t.match(await tsray.get(p.report.remote()), /^slept /);
  tsray.kill(p, { noRestart: false });
  t.match(await tsray.get(p.report.remote()), /^slept /, 'the rebuilt actor ran its constructor again');
});
