// Results and log lines from a hostile, hand-assembled guest: what a task
// hands the host is bounded by its per-task budget, bad results are typed
// task errors on both engines, and log lines cannot forge host lines.
import t from 'tap';
import * as tsray from 'tsray';
import { OutOfMemoryError, TaskError } from 'tsray';
import { FORGED, MiB, hostileComponent } from '../helpers/hostile-results.mjs';
import { caught } from '../helpers/runtime.mjs';
import { scratch } from '../helpers/components.mjs';

/** FORGED as a log line prints it. */
const ESCAPED = String.raw`harmless\n[0123456789abcdef warn] forged host line\r\x1b[2J\x1b]0;title\x07\u202e reversed \x9b31m end`;

const bytes = await hostileComponent();
const mod = await tsray.load(bytes);

/**
 * Collects what reaches this process's stderr (worker threads' stderr
 * included) while `body` runs and until `until` matches it (worker stderr
 * arrives on its own channel, after the task's result).
 */
async function stderrOf(body, until) {
  const chunks = [];
  const write = process.stderr.write;
  process.stderr.write = function (chunk) { chunks.push(String(chunk)); return true; };
  try {
    await body();
    for (let waited = 0; waited < 10_000 && !until.test(chunks.join('')); waited += 20) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.stderr.write = write;
  }
  return chunks.join('');
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;

await tsray.init({ numCpus: 1, spillDir: scratch() });
t.teardown(() => tsray.shutdown());

// First, so that the peak resident size measures these tasks and nothing before them.
t.test('results and logs count against the per-task host budget', async (t) => {
  const before = peakRss();
  const capped = (fn) => mod.fn(fn).options({ maxMemoryMb: 16, maxRetries: 3 });
  for (const fn of ['strs', 'lists']) {
    const e = await caught(t, () => tsray.get(capped(fn).remote(1024)));
    t.ok(e instanceof OutOfMemoryError, `${fn}: 1,024 entries aliasing one 1 MiB region fail with OutOfMemoryError (got ${e?.constructor.name}: ${e?.message})`);
    t.equal(e?.code, 'ERR_OUT_OF_MEMORY');
    t.match(e?.message, /budget of 32\.0 MiB .*2 x maxMemoryMb/, 'the message names the budget and where it comes from');
  }
  t.equal(await tsray.get(mod.fn('add').remote(2, 3)), 5, 'the same node then runs a normal task');
  const fine = await tsray.get(capped('strs').remote(8));
  t.equal(fine.length, 8, 'a result within the budget (8 aliased MiB of a 16 MiB task) is returned');
  t.ok(fine.every((s) => s.length === MiB && s === fine[0] && /^a+$/.test(s)), 'with every entry intact');

  const err = await stderrOf(() => tsray.get(mod.fn('spam').remote(2000, MiB)), /dropped: a task prints/);
  const lines = err.split('\n').filter(Boolean);
  t.ok(err.length < 1.1 * MiB, `2,000 log lines of 1 MiB print about 1 MiB (${err.length} bytes)`);
  t.ok(lines.every((l) => l.length < 8300), 'every line is cut to about 8 KiB');
  t.match(lines[0], /^\(spam pid=\d+ node=[0-9a-f]{8}\) \[warn\] a{8192} \.\.\. \[1040384 more characters cut\]$/, 'a cut line says how much was cut');
  t.match(lines.at(-1), /^\(spam pid=\d+ node=[0-9a-f]{8}\) \[warn\] \d+ more log lines \(\d+ characters\) dropped: a task prints at most 1048576 bytes of log text$/, 'the task ends with a notice of the dropped lines');
  const grew = peakRss() - before;
  t.ok(grew < 512 * MiB, `the host's peak resident size grew by ${(grew / MiB).toFixed(0)} MiB, not gigabytes`);
  t.equal(await tsray.get(mod.fn('add').remote(4, 5)), 9, 'the node still runs tasks');
});

t.test('bad results fail the task with TaskError, on the node', async (t) => {
  const cases = [
    ['oob', [], /the result at 4294967280 is outside guest memory/],
    ['span', [0xffff0000, 16], /string at 4294901760\+16 is outside guest memory/],
    ['huge', [], /string of 629145600 bytes is longer than the host takes/],
    ['bad-utf8', [], /not valid UTF-8/],
  ];
  for (const [fn, args, re] of cases) {
    const e = await caught(t, () => tsray.get(mod.fn(fn).remote(...args)));
    t.ok(e instanceof TaskError, `${fn}: TaskError (got ${e?.constructor.name} ${e?.code}: ${e?.message})`);
    t.equal(e?.code, 'ERR_TASK');
    t.match(e?.message, re, `${fn}: the message says what was wrong`);
    t.notMatch(e?.message, /\n\s+at /, `${fn}: no host stack in the message`);
  }
  t.equal(await tsray.get(mod.fn('add').remote(1, 1)), 2, 'the node still runs tasks');
});

t.test('bad results are TaskErrors on both engines in-process', async (t) => {
  for (const engine of ['lean', 'jco']) {
    const m = await tsray.load(bytes, { engine });
    for (const [fn, args] of [['oob', []], ['span', [0xffff0000, 16]], ['huge', []], ['bad-utf8', []]]) {
      const e = await caught(t, () => m.call(fn, args));
      t.ok(e instanceof TaskError, `${engine} ${fn}: TaskError (got ${e?.constructor.name}: ${e?.message})`);
    }
    t.equal(await m.call('add', [2, 3]), 5, `${engine}: the module keeps working`);
  }
});

t.test('guest log lines cannot forge host lines or carry terminal escapes', async (t) => {
  const err = await stderrOf(() => tsray.get(mod.fn('forge').remote()), /harmless/);
  const lines = err.split('\n').filter(Boolean);
  t.equal(lines.length, 1, 'one message is one line');
  t.equal(lines[0].replace(/^\(forge pid=\d+ node=[0-9a-f]{8}\) \[warn\] /, ''), ESCAPED, 'newlines, CR, ESC, BEL, C1 and bidi controls are escaped');
  t.match(lines[0], new RegExp(`^\\(forge pid=${process.pid} node=[0-9a-f]{8}\\) \\[warn\\] harmless`), 'the line is prefixed with its task, process and node');
  t.notMatch(err, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/, 'no raw control character reaches stderr');

  const inProcess = await stderrOf(() => mod.call('forge'), /harmless/);
  t.equal(inProcess, `[guest warn] ${ESCAPED}\n`, 'the in-process default log escapes the same way');
});

t.test("a guest's last words are one escaped line in TaskError.message", async (t) => {
  for (const [where, run] of [['on the node', () => tsray.get(mod.fn('die').remote())], ['in-process', () => mod.call('die')]]) {
    const e = await caught(t, run);
    t.ok(e instanceof TaskError, `${where}: TaskError`);
    t.equal(e?.message, `task 'die' failed: ${ESCAPED}`, `${where}: the message is escaped`);
    t.equal(e?.guestMessage, FORGED, `${where}: guestMessage keeps the guest's text`);
  }
});
