// Nested work from inside guests (issue 15), on the embedded node with two
// CPUs, each figure beside its same-run comparison:
//   1. a nested submit + get from a guest (`chain`: one task doing n round
//      trips in a row) vs the driver's own sequential `await get(remote())`;
//   2. a guest-to-actor call (`bump` from counter-client) vs the driver's own
//      sequential actor call;
//   3. tasks/s of a binary tree of ~100,000 nested tasks (`tree`), each task
//      submitting two and getting both;
//   4. recursive fibonacci(20) (21,891 tasks).
// Ray 2.22's microbenchmark figures (64 vCPUs) are printed as anchors: a
// nested task in Ray is submitted by a worker as a driver submits one.
//
//   npm run build && node bench/nested.mjs [--tree-leaves N]
//
// Progress goes to stderr, the table to stdout.
import * as tsray from 'tsray';
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median } from './lib/stats.mjs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const progress = makeProgress();
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };

const RAY_TASK_SYNC_US = 1e6 / 971; // single_client_tasks_sync
const RAY_ACTOR_SYNC_US = 1e6 / 2096; // 1_1_actor_calls_sync
const RAY_TASKS_ASYNC = 8194; // single_client_tasks_async, tasks/s
const CHAIN = 3000, CALLS = 3000, ROUNDS = 9;
const LEAVES = arg('--tree-leaves', 50_000);

await tsray.init({ numCpus: 2 });
const nested = await tsray.load(join(ROOT, 'build', 'nested.wasm'));
const counterMod = await tsray.load(join(ROOT, 'build', 'counter.wasm'));
const clientMod = await tsray.load(join(ROOT, 'build', 'counter-client.wasm'));
const noop = nested.fn('noop');
const check = (what, got, want) => { if (got !== want) throw new Error(`${what}: got ${got}, expected ${want}`); };

// Warm every path once (workers, compiled modules, JIT).
check('chain', await tsray.get(nested.fn('chain').remote(CHAIN)), CHAIN);
check('noop', await tsray.get(noop.remote()), 1);
const counter = counterMod.actor('counter').remote(0n);
let expected = 0n;
check('bump', await tsray.get(clientMod.fn('bump').remote(counter, CALLS)), (expected += BigInt(CALLS)));
progress('warm: node up with 2 CPUs, components compiled');

// 1 and 2: rounds interleaved so both sides of each ratio see the same machine.
const nestedUs = [], driverUs = [], guestCallUs = [], driverCallUs = [];
for (let r = 0; r < ROUNDS; r++) {
  let t = performance.now();
  check('chain', await tsray.get(nested.fn('chain').remote(CHAIN)), CHAIN);
  nestedUs.push(((performance.now() - t) / CHAIN) * 1000);
  t = performance.now();
  for (let i = 0; i < CHAIN; i++) await tsray.get(noop.remote());
  driverUs.push(((performance.now() - t) / CHAIN) * 1000);
  t = performance.now();
  check('bump', await tsray.get(clientMod.fn('bump').remote(counter, CALLS)), (expected += BigInt(CALLS)));
  guestCallUs.push(((performance.now() - t) / CALLS) * 1000);
  t = performance.now();
  for (let i = 0; i < CALLS; i++) await tsray.get(counter.incr.remote(1n));
  expected += BigInt(CALLS);
  driverCallUs.push(((performance.now() - t) / CALLS) * 1000);
  progress(`round ${r + 1}/${ROUNDS}: nested ${nestedUs.at(-1).toFixed(1)} us, driver ${driverUs.at(-1).toFixed(1)} us, guest->actor ${guestCallUs.at(-1).toFixed(1)} us, driver->actor ${driverCallUs.at(-1).toFixed(1)} us`);
}

// 3: the tree.
const treeTasks = 2 * LEAVES - 1;
let t = performance.now();
check('tree', await tsray.get(nested.fn('tree').remote(LEAVES)), LEAVES);
const treeRate = treeTasks / ((performance.now() - t) / 1000);
progress(`tree of ${fmtInt(treeTasks)} tasks: ${fmtInt(treeRate)} tasks/s`);

// 4: fibonacci.
t = performance.now();
check('fib', await tsray.get(nested.fn('fib').remote(20)), 6765);
const fibMs = performance.now() - t;
progress(`fib(20): ${fibMs.toFixed(0)} ms`);

const m = (xs) => median(xs);
printTable([
  ['measurement', 'tsray', 'goal', 'goal met', 'same run', 'Ray 2.22 anchor'],
  ['nested submit + get from a guest (chain)', `${m(nestedUs).toFixed(1)} us`, '<= 50 us', m(nestedUs) <= 50 ? 'met' : 'not met', `driver submit + get: ${m(driverUs).toFixed(1)} us (nested/driver ${(m(nestedUs) / m(driverUs)).toFixed(2)}x)`, `${RAY_TASK_SYNC_US.toFixed(0)} us (tasks sync)`],
  ['guest-to-actor call (bump)', `${m(guestCallUs).toFixed(1)} us`, '<= 30 us', m(guestCallUs) <= 30 ? 'met' : 'not met', `driver-to-actor call: ${m(driverCallUs).toFixed(1)} us`, `${RAY_ACTOR_SYNC_US.toFixed(0)} us (1:1 actor sync)`],
  [`tree of ${fmtInt(treeTasks)} nested tasks`, `${fmtInt(treeRate)} tasks/s`, '-', '-', '-', `${fmtInt(RAY_TASKS_ASYNC)} tasks/s (tasks async)`],
  ['fibonacci(20), 21,891 nested tasks', `${fibMs.toFixed(0)} ms (${fmtInt(21891 / (fibMs / 1000))} tasks/s)`, 'completes on 2 CPUs', 'met', '-', '-'],
]);
console.log(`\nmedians of ${ROUNDS} interleaved rounds; node: tsray.init({ numCpus: 2 }); workers at the end: ${tsray.testing.workerCount()}`);
await tsray.shutdown();
