// `tsray memory` against a running driver in another process, as a user runs it.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, ROOT } from '../helpers/components.mjs';

// Each run gets its own temp dir, so nodes of other test processes are not seen.
const TMP = mkdtempSync(join(tmpdir(), 'tsray-memcli-'));
const env = { ...process.env, TMPDIR: TMP };

function tsray(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env });
  if (r.error) throw r.error;
  return r;
}

const DRIVER = `
import * as tsray from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'host', 'index.js')).href)};
await tsray.init({ numCpus: 1, objectStoreMemory: 48 * 2 ** 20, spillDir: ${JSON.stringify(join(TMP, 'spill'))} });
const MiB = 2 ** 20;
const big = tsray.put(new Uint8Array(15 * MiB).fill(1));
const inner = tsray.put(new Uint8Array(3 * MiB).fill(2));
const outer = tsray.put([inner]);
inner.release();
const pinnedRef = tsray.put(new Float64Array(MiB / 8).fill(3));
const view = await tsray.getView(pinnedRef);
pinnedRef.release();
// Enough to pass the spill threshold: the oldest objects go to disk, then one is read back.
const more = [1, 2, 3].map((i) => tsray.put(new Uint8Array(10 * MiB).fill(i)));
await new Promise((r) => setTimeout(r, 100));
await tsray.get(big);
process.stdout.write('ready\\n');
// Only what a closure captures outlives the module's evaluation; the rest would be collected and released.
setInterval(() => [view.value[0], big, outer, more], 1000);
`;

t.test('tsray memory reports a running driver', async (t) => {
  const dir = mkdtempSync(join(TMP, 'driver-'));
  const script = join(dir, 'driver.mjs');
  writeFileSync(script, DRIVER);
  const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill());
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    child.on('exit', (code) => reject(new Error(`driver exited with ${code}`)));
  });

  const r = tsray(['memory']);
  t.equal(r.status, 0, `exits 0 ${r.stderr}`);
  const out = r.stdout;
  t.match(out, /======== Object references status: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  t.match(out, /Grouping by node address\.\.\. +Sorting by object size\.\.\./);
  t.match(out, /--- Summary for node address: 127\.0\.0\.1 \(node [0-9a-f]+\) ---/);
  t.match(out, /Mem Used by Objects +Local References +Pinned Count +Pending Tasks +Captured in Objects +Actor Handles/);
  t.match(out, /--- Object references for node address: 127\.0\.0\.1 \(node [0-9a-f]+\) ---/);
  t.match(out, /IP Address +PID +Type +Object Ref +Size +Reference Type +Call Site/);
  t.match(out, new RegExp(`127\\.0\\.0\\.1 +${child.pid} +Driver +[0-9a-f]{32} +15\\.0 MiB +LOCAL_REFERENCE +\\(put object\\) \\| .*driver\\.mjs:5`), 'a row per reference with size and call site');
  t.match(out, /CAPTURED_IN_OBJECT +\(put object\) \| .*driver\.mjs:6/, 'the captured object');
  t.match(out, /PINNED_IN_MEMORY/, 'the pinned view');
  t.match(out, /--- Memory for node address: 127\.0\.0\.1 \(node [0-9a-f]+\) ---/);
  t.match(out, /Object store memory \(shared\): .* committed of 48\.0 MiB/, 'object store memory');
  t.match(out, /RSS minus shared store memory/, 'heap memory, Ray-style RSS - SHR');
  t.match(out, /Thread +Type +JS Heap +Guest Memory/);
  t.match(out, new RegExp(`${child.pid}:\\d+ +Worker`), 'worker threads');
  t.match(out, /--- Aggregate object store stats across all nodes ---\nObject store memory usage [\d.]+ MiB, \d+ objects, [\d.]+% full/);
  const rows = out.split('\n').filter((l) => / Driver +[0-9a-f]{32} /.test(l));
  const sizes = rows.map((l) => / ([\d.]+) MiB /.exec(l)?.[1]).filter(Boolean).map(Number);
  t.strictSame(sizes, [...sizes].sort((a, b) => a - b), 'sorted by object size, smallest first (as Ray sorts)');

  const stats = tsray(['memory', '--stats-only']);
  t.equal(stats.status, 0);
  t.notMatch(stats.stdout, /Object references for node/, '--stats-only leaves out the rows');
  t.match(stats.stdout, /Spilled [\d.]+ MiB, \d+ objects/, 'spill totals');
  t.match(stats.stdout, /Restored [\d.]+ MiB, \d+ objects/, 'restore totals');

  const kb = tsray(['memory', '--units', 'KB']);
  t.match(kb.stdout, /15360 KiB +LOCAL_REFERENCE/, '--units KB');
  const b = tsray(['memory', '--units', 'B', '--sort-by', 'REFERENCE_TYPE']);
  const types = b.stdout.split('\n').map((l) => /(LOCAL_REFERENCE|USED_BY_PENDING_TASK|CAPTURED_IN_OBJECT|PINNED_IN_MEMORY|ACTOR_HANDLE)/.exec(l)?.[1]).filter(Boolean);
  const order = ['LOCAL_REFERENCE', 'USED_BY_PENDING_TASK', 'CAPTURED_IN_OBJECT', 'PINNED_IN_MEMORY', 'ACTOR_HANDLE'];
  t.strictSame(types, [...types].sort((x, y) => order.indexOf(x) - order.indexOf(y)), '--sort-by REFERENCE_TYPE');
  t.match(b.stdout, /1572\d{4} B +LOCAL_REFERENCE/, '--units B (the block holds a small header too)');
  const g = tsray(['memory', '--group-by', 'STACK_TRACE']);
  t.match(g.stdout, /Grouping by stack trace/);
  t.match(g.stdout, /--- Summary for call site: \(put object\) \| .*driver\.mjs:5/, '--group-by STACK_TRACE groups by call site');
  const pid = tsray(['memory', '--sort-by', 'PID']);
  t.equal(pid.status, 0, '--sort-by PID');
  const json = JSON.parse(tsray(['memory', '--json']).stdout);
  t.equal(json.nodes[0].summary.capturedInObjects, 1, '--json gives the report as data');
  t.ok(json.nodes[0].summary.pinnedCount >= 1, 'the view is counted as pinned');

  const bad = tsray(['memory', '--sort-by', 'COLOR']);
  t.not(bad.status, 0, 'a bad option value is refused');
  t.match(bad.stderr, /Allowed choices are OBJECT_SIZE, REFERENCE_TYPE, PID/);
});

t.test('tsray memory without a running node, and --help', async (t) => {
  const r = tsray(['memory']);
  t.equal(r.status, 1, 'exits 1');
  t.match(r.stderr, /error \[ERR_RUNTIME_STATE\]: no running tsray node found/);
  const h = tsray(['memory', '--help']);
  t.equal(h.status, 0);
  for (const o of ['--group-by', '--sort-by', '--units', '--stats-only', '--json']) t.match(h.stdout, o, `--help lists ${o}`);
});
