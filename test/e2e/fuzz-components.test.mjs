// load() fuzzing: mutated copies of real compiled components (byte flips, truncations, section
// swaps, mutated or corrupt metadata) each end in success or a typed ComponentError, within a
// bounded time and heap. Loads run in child processes, so a crash, a hang or a runaway heap is
// counted and fails the test instead of taking the runner down. TSRAY_FUZZ_N runs more cases.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, prebuilt } from '../helpers/components.mjs';

const N = Number(process.env.TSRAY_FUZZ_N ?? 400);
const CHILDREN = 2;
const HEAP_MB = 512;
/** A load may take this long; one still running after HANG_MS counts as a hang. */
const LOAD_MS = 5000;
const HANG_MS = 15000;
/** Time a child may take to start (import tsray and wasm-tools) before its first case. */
const STARTUP_MS = 60000;
const CHILD = join(ROOT, 'test', 'helpers', 'fuzz-load-child.mjs');

/**
 * Runs cases [from, to) in one child process after another, starting a new one after a crash
 * or a hang; records `{ ms, outcome }` per case in `results` (outcome `crash ...` or `hang` for
 * the case a child died on).
 */
function runRange(dir, from, to, results, opts) {
  return new Promise((resolve) => {
    if (from >= to) return resolve();
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, CHILD, dir, String(from), String(to)], {
      env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let next = from; // the case running now, or the next one to start
    let hung = false;
    let buffered = '';
    let stderr = '';
    let timer;
    const watch = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => { hung = true; child.kill('SIGKILL'); }, ms);
    };
    watch(STARTUP_MS);
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    child.stdout.on('data', (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const [what, i, ms, ...rest] = buffered.slice(0, nl).split(' ');
        buffered = buffered.slice(nl + 1);
        if (what === 'start') watch(opts.hangMs);
        if (what === 'done') { results.set(Number(i), { ms: Number(ms), outcome: rest.join(' ') }); next = Number(i) + 1; }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (next >= to) return resolve();
      results.set(next, { ms: NaN, outcome: hung ? 'hang' : `crash (exit ${code}, signal ${signal}): ${stderr.replace(/\s+/g, ' ').slice(-300)}` });
      resolve(runRange(dir, next + 1, to, results, opts));
    });
  });
}

/** Runs cases [0, n) split over CHILDREN concurrent children; resolves to the Map of results. */
async function runCases(dir, n, { hangMs = HANG_MS, env = {} } = {}) {
  const results = new Map();
  const per = Math.ceil(n / CHILDREN);
  await Promise.all(Array.from({ length: CHILDREN }, (_, k) => runRange(dir, k * per, Math.min(n, (k + 1) * per), results, { hangMs, env })));
  return results;
}

async function bases() {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-fuzz-'));
  writeFileSync(join(dir, 'a-matrix.wasm'), await prebuilt('matrix'));
  writeFileSync(join(dir, 'b-counter.wasm'), await prebuilt('counter'));
  return dir;
}

t.test('the harness counts a crash, a hang and a runaway heap in a child, and goes on', async (t) => {
  const dir = await bases();
  const results = await runCases(dir, 8, { hangMs: 2000, env: { TSRAY_FUZZ_SELFTEST: 'crash:1,hang:2,oom:5' } });
  t.equal(results.size, 8, 'every case has an outcome');
  t.match(results.get(1).outcome, /^crash/, 'an abort is a crash');
  t.equal(results.get(2).outcome, 'hang', 'an endless load is a hang');
  t.match(results.get(5).outcome, /^(crash|hang)/, 'a heap past the cap is counted (a crash at the cap, or a hang while the GC thrashes)');
  const others = [...results].filter(([i]) => ![1, 2, 5].includes(i));
  t.ok(others.every(([, r]) => !/^(crash|hang)/.test(r.outcome)), 'the cases after each failure still ran');
});

t.test(`${N} mutated components each load or fail with ComponentError, in bounded time and heap`, async (t) => {
  const dir = await bases();
  const start = performance.now();
  const results = await runCases(dir, N);
  t.equal(results.size, N, 'every case has an outcome');
  const bad = [...results].filter(([, r]) => !/^(loaded|component-error|wit-error)/.test(r.outcome));
  t.strictSame(bad.map(([i, r]) => `case ${i}: ${r.outcome}`), [], 'no crash, hang or untyped error');
  const slow = [...results].filter(([, r]) => r.ms > LOAD_MS);
  t.strictSame(slow.map(([i, r]) => `case ${i}: ${r.ms} ms`), [], `every load ends within ${LOAD_MS} ms`);
  const loaded = [...results.values()].filter((r) => r.outcome.startsWith('loaded')).length;
  t.ok(loaded > 0 && loaded < N, `both outcomes occur (${loaded} loaded, ${N - loaded} refused)`);
  t.comment(`${N} loads in ${((performance.now() - start) / 1000).toFixed(1)} s; slowest ${Math.max(...[...results.values()].map((r) => r.ms)).toFixed(0)} ms`);
});
