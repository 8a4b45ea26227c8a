// A driver process for the worker-leases test: makes a 2 MiB result on the node with resource `n` (on a lease,
// so only that node holds it), prints its id, and waits to be killed without freeing it: its node must free it
// once the head says this driver is gone.
import * as tsray from 'tsray';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './components.mjs';

const nested = await tsray.load(readFileSync(join(ROOT, 'build', 'nested.wasm')));
await tsray.init();
const held = nested.fn('fill').options({ resources: { n: 1 } }).remote(256 * 1024, 3);
await tsray.wait([held]);
process.stdout.write(`made ${held.id}\n`);
setInterval(() => {}, 1000);
