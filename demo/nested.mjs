// Programs a Ray user writes with nested tasks, run as components: every task
// below submits tasks, puts and gets objects or calls an actor from inside
// its guest (guest/examples/nested.ts), on a node with only two CPUs.
import * as tsray from 'tsray';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ms = (t) => `${Math.round(performance.now() - t)} ms`;

await tsray.init({ numCpus: 2 });
const nested = await tsray.load(join(root, 'build', 'nested.wasm'));

// 1. Recursive fibonacci: each call submits fib(n-1) and fib(n-2) as tasks and gets both.
//    A task blocked in get runs the task it waits for, or lends its CPU: no deadlock on 2 CPUs.
let t = performance.now();
const fib = await tsray.get(nested.fn('fib').remote(20));
console.log(`fib(20) = ${fib} by 21,891 nested tasks on 2 CPUs in ${ms(t)}`);

// 2. A tree reduction over a large array put once: the tasks pass the ref itself down the tree.
const data = new Float64Array(2_000_000).map((_, i) => i % 10);
const ref = tsray.put(data);
t = performance.now();
const sum = await tsray.get(nested.fn('tree-sum').remote(ref, 0, data.length, 250_000));
console.log(`tree sum of 2M floats (8 leaves, the ref passed down the tree, never the array) = ${sum} in ${ms(t)}`);

// 3. A parameter server: an actor holding weights, updated by worker tasks that a task submits.
const server = nested.actor('param-server').remote(4);
t = performance.now();
const total = await tsray.get(nested.fn('train').remote(server, 4, 25));
console.log(`parameter server after 4 workers x 25 updates: weights ${[...await tsray.get(server.weights.remote())].join(', ')} (sum ${total}) in ${ms(t)}`);

// 4. Refs as values: a task returns the ref of an object it put; the driver now owns it.
const inner = await tsray.get(nested.fn('make-ref').remote(3, 0.5));
console.log(`a task returned ${inner}; its value outlives the task: [${[...await tsray.get(inner)].join(', ')}]`);

// 5. A streaming generator: each value arrives as the guest emits it.
t = performance.now();
const arrivals = [];
for await (const r of nested.fn('squares').options({ numReturns: 'streaming' }).remote(5, 100)) {
  arrivals.push(`${await tsray.get(r)} @${ms(t)}`);
}
console.log(`streamed squares: ${arrivals.join(', ')}`);

// 6. A failed child reaches its parent as a typed error it can handle.
console.log(`a parent caught its child's failure: ${await tsray.get(nested.fn('catch-child').remote('bad shard 7'))}`);

await tsray.shutdown();
