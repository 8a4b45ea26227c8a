// A driver process for guest-output tests: runs the `chatty` example's task and
// actor once with the init options in argv[2] (JSON), and says when it is done.
// Connects to a cluster when TSRAY_ADDRESS is set; otherwise starts the embedded node.
import * as tsray from 'tsray';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './components.mjs';

const mod = await tsray.load(readFileSync(join(ROOT, 'build', 'chatty.wasm')));
const opts = JSON.parse(process.argv[2] ?? '{}');
await tsray.init(process.env.TSRAY_ADDRESS ? opts : { numCpus: 1, ...opts });
const lines = await tsray.get(mod.fn('shout').remote('hello'));
const talker = mod.actor('talker').remote('ann');
const said = await tsray.get(talker.say.remote('hi'));
await tsray.shutdown();
process.stdout.write(`done ${lines} ${said}\n`);
