// A driver process for head-restart tests: joins the cluster at TSRAY_ADDRESS, makes a detached named
// counter (`keeper`) and a named one that lives only as long as this driver (`temp`), bumps each, and leaves.
import * as tsray from 'tsray';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './components.mjs';

const counter = await tsray.load(readFileSync(join(ROOT, 'build', 'counter.wasm')));
await tsray.init();
const keeper = counter.actor('counter').options({ name: 'keeper', lifetime: 'detached', resources: { away: 1 } }).remote(0n);
const temp = counter.actor('counter').options({ name: 'temp' }).remote(0n);
const [k, t] = await tsray.get([keeper.incr.remote(5n), temp.incr.remote(1n)]);
await tsray.shutdown();
process.stdout.write(`made ${k} ${t}\n`);
