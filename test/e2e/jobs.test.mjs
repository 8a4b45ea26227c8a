// Jobs, as `ray job`: a driver program the head runs on its machine against a
// real-process cluster, through the CLI: submit with a working directory,
// status, logs, list, stop, failures, its tasks and actors attributed to it,
// and hostile submissions refused with typed errors.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';
import { connect } from '../../dist/host/cluster/connect.js';

const TOKEN = 'jobs-test-token';
const env = isolatedEnv('jobs');

/** Runs the CLI; resolves with its exit code and output. */
function tsray(args, extraEnv = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN, ...extraEnv }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const DRIVER = `
import * as tsray from 'tsray';
await tsray.init();
const nested = await tsray.load(process.argv[2]);
const server = nested.actor('param-server').remote(4);
const fib = await tsray.get(nested.fn('fib').remote(10));
const trained = await tsray.get(nested.fn('train').remote(server, 2, 3));
console.log('fib ' + fib + ' trained ' + trained + ' job ' + process.env.TSRAY_JOB_ID);
console.error('to stderr too');
// Time for a follower on a terminal to see the finished tasks.
await new Promise((r) => setTimeout(r, 1500));
await tsray.shutdown();
`;

t.test('jobs on a real-process cluster', async (t) => {
  const { address } = await cluster(t, env, TOKEN, { headArgs: ['--num-cpus', '2'] });
  const at = ['--address', address];

  t.test('submit runs a driver program from a working directory, follows its output, and the job is listed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsray-job-'));
    writeFileSync(join(dir, 'driver.mjs'), DRIVER);
    const r = await tsray(['job', 'submit', ...at, '--working-dir', dir, '--', 'node', 'driver.mjs', join(ROOT, 'build', 'nested.wasm')]);
    t.equal(r.code, 0, `submit waits and exits 0 for a job that succeeded (${r.stderr})`);
    const m = /fib 55 trained 36 job ([0-9a-f]{8})/.exec(r.stdout);
    t.ok(m, `the job's output is followed: ${r.stdout}`);
    const jobId = m[1];
    t.match(r.stdout, /to stderr too/, 'stderr is kept with stdout');
    t.match(r.stderr, new RegExp(`Job '${jobId}' succeeded`));

    const status = JSON.parse((await tsray(['job', 'status', ...at, jobId, '--json'])).stdout);
    t.match(status, { jobId, status: 'SUCCEEDED', exitCode: 0, entrypoint: /^node driver\.mjs / });
    t.match((await tsray(['job', 'logs', ...at, jobId])).stdout, /fib 55 trained 36/, 'its output is kept after it ended');
    const list = JSON.parse((await tsray(['job', 'list', ...at, '--json'])).stdout);
    t.ok(list.some((j) => j.jobId === jobId && j.status === 'SUCCEEDED'));
    t.match((await tsray(['list', 'jobs', ...at])).stdout, new RegExp(`${jobId}\\s+SUCCEEDED`), 'tsray list jobs shows it');

    // What its driver made carries its id.
    const tasks = JSON.parse((await tsray(['list', 'tasks', ...at, '--filter', `jobId=${jobId}`, '--limit', '1000', '--json'])).stdout);
    t.ok(tasks.some((x) => x.name === 'fib') && tasks.some((x) => x.name === 'train'), `the job's tasks are attributed to it (${tasks.map((x) => x.name).join(', ')})`);
    t.ok(tasks.every((x) => x.taskId.startsWith(jobId)));
    t.ok(tasks.some((x) => x.name === 'push-grads'), 'so are the tasks its guests submitted in turn');
    t.ok(tasks.some((x) => x.name === 'param-server.apply'), "and the guests' calls to its actor");
    const actors = JSON.parse((await tsray(['list', 'actors', ...at, '--filter', `jobId=${jobId}`, '--json'])).stdout);
    t.equal(actors.length, 1, 'and its actor');
    t.equal(actors[0].className, 'param-server');
    const table = (await tsray(['list', 'tasks', ...at, '--limit', '1000'])).stdout;
    t.match(table, /JOB_ID/, 'the table has a JOB_ID column when the cluster has jobs');
  });

  t.test("following a job on a terminal draws a bar of its tasks under its output", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsray-job-'));
    writeFileSync(join(dir, 'driver.mjs'), DRIVER);
    // `script` gives the CLI a pseudo-terminal and copies what it drew to stdout.
    const cmd = `${process.execPath} ${CLI} job submit --address ${address} --working-dir ${dir} -- node driver.mjs ${join(ROOT, 'build', 'nested.wasm')}`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN }, encoding: 'utf8', timeout: 60_000 });
    t.match(r.stdout, /fib 55 trained 36/, 'the output is printed above the bar');
    const frames = [...r.stdout.matchAll(/job [0-9a-f]{8} tasks \[[^\]]*\] (\d+)\/(\d+) finished/g)].map((m) => [Number(m[1]), Number(m[2])]);
    t.ok(frames.some(([done, total]) => total >= 2 && done === total), `the bar counted the job's tasks to the end (${JSON.stringify(frames.slice(-3))})`);
  });

  t.test('a job that fails, one that cannot start, and one stopped', async (t) => {
    const failed = await tsray(['job', 'submit', ...at, '--', 'node', '-e', 'console.log("bye"); process.exit(3)']);
    t.equal(failed.code, 1, 'submit exits 1 when the job fails');
    t.match(failed.stderr, /failed \(exit code 3\)/);
    t.match(failed.stdout, /bye/);

    const missing = await tsray(['job', 'submit', ...at, '--', 'no-such-command-for-tsray']);
    t.equal(missing.code, 1);
    t.match(missing.stderr, /failed.*could not start/);

    const long = await tsray(['job', 'submit', ...at, '--no-wait', '--', 'node', '-e', 'console.log("up"); setInterval(() => {}, 1000)']);
    t.equal(long.code, 0);
    const jobId = long.stdout.trim();
    t.match(jobId, /^[0-9a-f]{8}$/, '--no-wait prints the job id');
    t.match((await tsray(['job', 'stop', ...at, jobId])).stdout, /is stopping/);
    const followed = await tsray(['job', 'logs', ...at, jobId, '--follow']);
    t.match(followed.stderr, new RegExp(`Job '${jobId}' stopped`), 'a followed job ends stopped');
    t.equal(JSON.parse((await tsray(['job', 'status', ...at, jobId, '--json'])).stdout).status, 'STOPPED');
    t.match((await tsray(['job', 'stop', ...at, jobId])).stdout, /had already ended/);
  });

  t.test('jobs need the token, and hostile submissions end in typed errors', async (t) => {
    // Another user's view: no token in the environment and no head record of theirs to find it in.
    const none = await tsray(['job', 'list', ...at], { TSRAY_TOKEN: '', TMPDIR: mkdtempSync(join(tmpdir(), 'tsray-other-')) });
    t.equal(none.code, 1);
    t.match(none.stderr, /no cluster token/);
    const wrong = await tsray(['job', 'submit', ...at, '--', 'node', '-e', '1'], { TSRAY_TOKEN: 'not-the-token' });
    t.equal(wrong.code, 1, 'a wrong token submits nothing');
    t.notMatch(wrong.stderr, /submitted/);

    const { peer } = await connect(address, TOKEN, 'cli', {}, {});
    t.teardown(() => peer.close());
    const submit = (req) => peer.request({ t: 'job', id: 0, op: 'submit', ...req });
    for (const path of ['../escape.txt', '/etc/evil', 'a/../../b', 'x\u0000y']) {
      const r = await submit({ entrypoint: ['node', '-e', '1'], files: { [path]: new Uint8Array([1]) } });
      t.match(r, { ok: false, code: 'ERR_INVALID_ARGUMENT' }, `a working-directory path '${JSON.stringify(path)}' is refused`);
    }
    t.match(await submit({ entrypoint: [] }), { ok: false, code: 'ERR_INVALID_ARGUMENT' }, 'an empty entrypoint');
    t.match(await submit({ entrypoint: ['node'], files: { a: 'not bytes' } }), { ok: false, code: 'ERR_INVALID_ARGUMENT' });
    t.match(await peer.request({ t: 'job', id: 0, op: 'status', jobId: '../../x' }), { ok: false, code: 'ERR_INVALID_ARGUMENT' }, 'an unknown job id');
    t.match(await peer.request({ t: 'job', id: 0, op: 'logs', jobId: 'ffffffff', from: 0 }), { ok: false, code: 'ERR_INVALID_ARGUMENT' });
    t.match(await peer.request({ t: 'job', id: 0, op: 'explode' }), { ok: false, code: 'ERR_INVALID_ARGUMENT' }, 'an unknown operation');
    t.match((await tsray(['job', 'list', ...at])).stdout, /JOB_ID/, 'the head still serves jobs');
  });
});
