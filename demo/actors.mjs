// Actors, following the seed's Counter examples: state that lives in one
// sandboxed component instance, calls run in order, handles passed to tasks.
import * as tsray from 'tsray';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

await tsray.init();
const counters = await tsray.load(join(root, 'build', 'counter.wasm'));
const Counter = counters.actor('counter');

// 1. One counter, ten increments, then read it.
const counter = Counter.remote(0n);
for (let i = 0; i < 10; i++) counter.incr.remote(1n);
console.log(`after 10 increments: ${await tsray.get(counter.get.remote())}`);

// 2. Calls on different actors run in parallel; calls on one actor run in order and share state.
const ten = Array.from({ length: 10 }, () => Counter.remote(0n));
console.log('one increment on each of 10 counters:', (await tsray.get(ten.map((c) => c.incr.remote(1n)))).join(', '));
console.log('five more on the first:', (await tsray.get(Array.from({ length: 5 }, () => ten[0].incr.remote(1n)))).join(', '));

// 3. An actor handle passed to tasks: three tasks each increment the same counter ten times,
//    pausing 100 ms before each call, while the driver watches.
const client = await tsray.load(join(root, 'build', 'counter-client.wasm'));
const shared = Counter.remote(0n);
// Each task asks for half a CPU, so all three run at once even on a 2-core machine.
const tasks = [0, 1, 2].map(() => client.fn('bumpSlowly').options({ numCpus: 0.5 }).remote(shared, 10, 100));
const seen = [];
for (let i = 0; i < 10; i++) {
  await sleep(110);
  seen.push(await tsray.get(shared.get.remote()));
}
await tsray.get(tasks);
console.log(`the driver saw: ${seen.join(' ')} ... final ${await tsray.get(shared.get.remote())}`);

// 4. A named actor, found from elsewhere by name; killing it fails its later calls.
Counter.options({ name: 'global-counter' }).remote(100n);
const found = tsray.getActor('global-counter');
console.log(`global-counter: ${await tsray.get(found.incr.remote(1n))}`);
tsray.kill(found);
try {
  await tsray.get(found.incr.remote(1n));
} catch (e) {
  console.log(`after kill: ${e.name}`);
}

// 5. A method that traps: with maxRestarts the actor comes back with fresh state.
const sturdy = Counter.options({ maxRestarts: 1 }).remote(5n);
await tsray.get(sturdy.incr.remote(10n));
try {
  await tsray.get(sturdy.crash.remote('bad input'));
} catch (e) {
  console.log(`crash -> ${e.name}: ${e.guestMessage}`);
}
console.log(`restarted, state is fresh: ${await tsray.get(sturdy.get.remote())}`);

await tsray.shutdown();
