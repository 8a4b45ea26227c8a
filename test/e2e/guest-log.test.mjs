// Guest output on the embedded node: every log level can reach the driver's
// output, prefixed with the task or actor method and where it ran, filtered
// by the driver's level (default info) or turned off.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/components.mjs';
import { isolatedEnv } from '../helpers/cluster.mjs';

const DRIVER = join(ROOT, 'test', 'helpers', 'log-driver.mjs');
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** Runs the log driver with init options `opts`; resolves with its stdout, stderr and pid. */
export function runDriver(opts, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER, JSON.stringify(opts)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ out, err, pid: child.pid }) : reject(new Error(`driver exited ${code}: ${err}`))));
  });
}

/** The levels of `shout`'s lines in `text`, checking each line's prefix. */
function shouted(t, text, pid) {
  const found = [];
  for (const line of text.split('\n')) {
    const m = /^\(shout pid=(\d+) node=([0-9a-f]{8})\) \[(\w+)\] (\w+) hello$/.exec(line);
    if (!m) continue;
    t.equal(m[3], m[4], `the ${m[4]} line says its level`);
    if (pid !== undefined) t.equal(Number(m[1]), pid, 'the pid is the process that ran it');
    found.push(m[3]);
  }
  return found;
}

const env = isolatedEnv('guest-log');

t.test('by default info and above reach the driver, with the task as prefix', async (t) => {
  const { out, err, pid } = await runDriver({}, env);
  t.match(out, /done 6 1/);
  t.strictSame(shouted(t, out, pid), ['info'], 'stdout has the info line (as Ray prints a worker\'s stdout there)');
  t.strictSame(shouted(t, err, pid), ['warn', 'error', 'fatal'], 'stderr has warn, error and fatal');
  t.match(out, /^\(talker pid=\d+ node=[0-9a-f]{8}\) \[info\] ann is here$/m, 'an actor\'s constructor is named for its class');
  t.match(out, /^\(talker\.say pid=\d+ node=[0-9a-f]{8}\) \[info\] ann says hi$/m, 'an actor call is named class.method');
});

t.test("logLevel 'trace' prints all six levels", async (t) => {
  const { out, err } = await runDriver({ logLevel: 'trace' }, env);
  t.strictSame([...shouted(t, out), ...shouted(t, err)], LEVELS);
});

t.test('TSRAY_LOG_LEVEL sets the level when init does not', async (t) => {
  const { out, err } = await runDriver({}, { ...env, TSRAY_LOG_LEVEL: 'error' });
  t.strictSame([...shouted(t, out), ...shouted(t, err)], ['error', 'fatal']);
  const both = await runDriver({ logLevel: 'debug' }, { ...env, TSRAY_LOG_LEVEL: 'error' });
  t.strictSame([...shouted(t, both.out), ...shouted(t, both.err)], LEVELS.slice(1), 'the init option wins');
});

t.test('logToDriver: false prints no guest output', async (t) => {
  const { out, err } = await runDriver({ logToDriver: false, logLevel: 'trace' }, env);
  t.match(out, /done 6 1/);
  t.notMatch(out + err, /hello|ann/, 'not one guest line');
  const off = await runDriver({}, { ...env, TSRAY_LOG_LEVEL: 'off' });
  t.notMatch(off.out + off.err, /hello|ann/, "nor with TSRAY_LOG_LEVEL=off");
});

t.test('a level that is not one is refused with a typed error', async (t) => {
  const e = await runDriver({ logLevel: 'loud' }, env).catch((x) => x);
  t.match(e?.message, /logLevel must be one of 'trace', 'debug', 'info', 'warn', 'error', 'fatal', got loud/);
});
