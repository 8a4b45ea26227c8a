// A driver (run as a child process) that runs the JavaScript guest's `greet` and `complain`
// with the stdio capabilities, so a test can read what reached this process's output.
//   node js-log-driver.mjs COMPONENT
import * as tsray from 'tsray';

const caps = ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr'];
await tsray.init({ numCpus: 1 });
const mod = await tsray.load(process.argv[2]);
await tsray.get(mod.fn('greet').options({ capabilities: caps }).remote('bob'));
await tsray.get(mod.fn('complain').options({ capabilities: caps }).remote('it hurts'));
await tsray.shutdown();
