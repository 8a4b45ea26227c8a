// The state API and its commands (Ray's `ray list` / `summary` / `get` / `timeline`):
// tasks and actors in their latest state, filters and limits, per-function
// summaries and a Chrome trace, on the embedded node through the API, and on
// a real-process cluster through the API and the CLI (via the head, and via
// this machine's admin sockets).
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { caught, withRuntime } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const nested = await tsray.load(await prebuilt('nested'));

t.test('embedded node: tasks, actors, filters, summaries and a timeline through tsray.state', async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    t.equal(await tsray.get(nested.fn('fib').remote(6)), 8);
    const bad = nested.fn('fails').remote('state api');
    await caught(t, () => tsray.get(bad));
    const server = nested.actor('param-server').options({ name: 'ps' }).remote(4);
    t.equal(await tsray.get(nested.fn('train').remote(server, 2, 3)), 36);

    const tasks = await tsray.state.listTasks({ limit: 1000 });
    const fibs = tasks.filter((r) => r.name === 'fib');
    t.equal(fibs.length, 25, 'every task of fib(6), nested ones included (25)');
    t.ok(fibs.every((r) => r.state === 'FINISHED'), 'all FINISHED');
    const failed = await tsray.state.listTasks({ filters: ['state=FAILED'] });
    t.equal(failed.length, 1, 'a filter keeps only the failed task');
    t.match(failed[0], { name: 'fails', errorCode: 'ERR_TASK', error: /state api/ }, 'with its error');
    t.same(await tsray.state.getTask(failed[0].taskId), failed[0], 'getTask finds it by id');
    t.equal((await tsray.state.listTasks({ filters: ['name!=fib'], limit: 1000 })).some((r) => r.name === 'fib'), false, 'key!=value excludes');
    t.equal((await tsray.state.listTasks({ limit: 3 })).length, 3, 'limit');
    // Calls a guest made over a direct link are reported by the actor's worker just after they ran.
    let calls = [];
    for (const until = Date.now() + 2000; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      calls = (await tsray.state.listTasks({ limit: 1000 })).filter((r) => r.actorId !== undefined);
      if (calls.length >= 7) break;
    }
    t.ok(calls.length >= 7 && calls.every((r) => r.name.startsWith('param-server.') && r.state === 'FINISHED'), `actor calls are tasks too (${calls.length})`);
    const ran = fibs.find((r) => r.startedAt !== undefined);
    t.ok(ran && ran.workerId > 0 && ran.endedAt >= ran.startedAt, 'a task that ran has its worker and times');

    const [actor] = await tsray.state.listActors({ filters: ['name=ps'] });
    t.match(actor, { className: 'param-server', state: 'ALIVE', restarts: 0 }, 'the named actor is ALIVE');
    tsray.kill(server);
    await new Promise((r) => setTimeout(r, 100));
    t.match(await tsray.state.getActor(actor.actorId), { state: 'DEAD', death: /kill/ }, 'and DEAD once killed, with why');

    const summary = await tsray.state.summarizeTasks();
    t.match(summary.find((s) => s.name === 'fib'), { total: 25, states: { FINISHED: 25 } }, 'summary per function');
    t.match((await tsray.state.summarizeActors()).find((s) => s.className === 'param-server'), { total: 1, states: { DEAD: 1 } });
    const trace = await tsray.state.timeline();
    const slices = trace.filter((e) => e.ph === 'X');
    t.ok(slices.length >= 10 && slices.every((e) => e.ts > 0 && e.dur >= 1 && e.tid > 0), 'the timeline has a slice per task that ran, on its worker row');
    t.ok(trace.some((e) => e.ph === 'M' && e.name === 'process_name'), 'and names its process');
    await t.rejects(tsray.state.listTasks({ filters: ['no filter'] }), { code: 'ERR_INVALID_ARGUMENT' }, 'a malformed filter is a typed error');

    const put = tsray.put(new Float64Array(50_000));
    t.match(await tsray.state.listObjects({ filters: [`objectId=${put.id}`] }), [{ size: Number, where: 'memory', references: ['LOCAL_REFERENCE'] }], 'listObjects shows a put with its reference');
    t.match((await tsray.state.summarizeObjects()).find((x) => x.where === 'memory'), { objects: Number, bytes: Number }, 'summarizeObjects by where the bytes are');
    t.ok((await tsray.state.listWorkers({ filters: ['type=Worker'] })).length >= 2, 'listWorkers has the worker threads');
    t.match(await tsray.state.listNodes(), [{ state: 'ALIVE', resources: { CPU: 2 } }], 'listNodes: the embedded node');
  });
});

t.test('a cluster: the API through the head, and the CLI by --address and on this machine', async (t) => {
  const env = isolatedEnv('state-cluster');
  const TOKEN = 'state-token';
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1', '--resources', '{"n":1}']] });
  const cli = (...args) => new Promise((resolve) => execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN }, encoding: 'utf8', timeout: 60_000 },
    (error, stdout, stderr) => resolve({ status: error ? error.code ?? 1 : 0, stdout, stderr })));
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const onN = { resources: { n: 1 } };
  t.equal(await tsray.get(nested.fn('fib').options(onN).remote(5)), 5);
  await caught(t, () => tsray.get(nested.fn('fails').options(onN).remote('on a node')));

  const rows = await tsray.state.listTasks({ filters: [`nodeId=${nodes[0].nodeId}`], limit: 1000 });
  t.equal(rows.filter((r) => r.name === 'fib').length, 15, "fib(5)'s 15 tasks, all on node n, through the head");
  t.equal(rows.find((r) => r.name === 'fails')?.state, 'FAILED');

  const listed = await cli('list', 'tasks', '--address', address, '--filter', 'name=fib', '--limit', '1000', '--json');
  t.equal(listed.status, 0, `tsray list tasks --address runs (${listed.stderr.trim()})`);
  t.equal(JSON.parse(listed.stdout).length, 15, 'the CLI lists them through the head');
  const text = await cli('list', 'tasks', '--address', address, '--filter', 'state=FAILED');
  t.match(text.stdout, /TASK_ID +NAME +STATE +NODE_ID[\s\S]*fails +FAILED/, 'as a table');
  const local = await cli('list', 'tasks', '--filter', 'name=fib', '--limit', '1000', '--json');
  t.equal(JSON.parse(local.stdout).length, 15, "without --address: this machine's processes, read from their admin sockets");
  const summary = await cli('summary', 'tasks', '--address', address);
  t.match(summary.stdout, /FUNC_OR_METHOD_NAME +TOTAL +STATE_COUNTS[\s\S]*fib +15 +FINISHED: 15/, 'tsray summary tasks');
  const out = join(mkdtempSync(join(tmpdir(), 'tsray-trace-')), 'trace.json');
  const tl = await cli('timeline', '--address', address, '-o', out);
  t.match(tl.stdout, /wrote \d+ task slices from 2 processes/, 'tsray timeline');
  const trace = JSON.parse(readFileSync(out, 'utf8'));
  t.ok(Array.isArray(trace.traceEvents) && trace.traceEvents.some((e) => e.ph === 'X' && e.name === 'fib'), 'valid Chrome trace JSON with the tasks');
  const one = await cli('get', 'task', rows[0].taskId, '--address', address);
  t.equal(JSON.parse(one.stdout).taskId, rows[0].taskId, 'tsray get task ID');
  const bad = await cli('list', 'tasks', '--filter', 'oops', '--address', address);
  t.not(bad.status, 0, 'a malformed --filter fails');
  t.match(bad.stderr, /ERR_INVALID_ARGUMENT.*key=value/);
  t.equal((await tsray.state.listNodes()).filter((n) => n.state === 'ALIVE').length, 2, 'listNodes through the head: the head\'s node and node n');
  const put = tsray.put(new Uint8Array(300_000));
  const objs = JSON.parse((await cli('list', 'objects', '--address', address, '--filter', `objectId=${put.id}`, '--json')).stdout);
  t.match(objs, [{ objectId: put.id, size: Number, references: ['LOCAL_REFERENCE'] }], 'tsray list objects finds the driver\'s put through the head');
  const nodeList = (await cli('list', 'nodes', '--address', address)).stdout;
  t.match(nodeList, new RegExp(`NODE_ID +ADDRESS +STATE[\\s\\S]*${nodes[0].nodeId} +\\S+ +ALIVE`), 'tsray list nodes');
  t.ok(JSON.parse((await cli('list', 'workers', '--address', address, '--json')).stdout).some((w) => w.type === 'Worker'), 'tsray list workers');
  t.match((await cli('summary', 'objects', '--address', address)).stdout, /WHERE +OBJECTS +BYTES/, 'tsray summary objects');
  // On node n by affinity, holding none of its resources: its CPU and `n` stay free for the tasks below.
  const ps = nested.actor('param-server').options({ numCpus: 0, schedulingStrategy: { nodeId: nodes[0].nodeId, soft: false } }).remote(4);
  t.equal(await tsray.get(ps.apply.remote(new Float64Array([1, 2, 3, 4]))), 1);
  const [psRow] = await tsray.state.listActors({ filters: [`actorId=${ps.id}`] });
  t.match(psRow, { actorId: ps.id, state: 'ALIVE', nodeId: nodes[0].nodeId }, 'an actor on a node is listed under the id its driver knows');
  const failedId = rows.find((r) => r.name === 'fails').taskId;
  const logs = await cli('logs', '--address', address, '--task', failedId);
  t.match(logs.stdout, /^\(fails node=[0-9a-f]{8} worker=\d+\) \[fatal\] .*on a node/m, "tsray logs --task shows that task's guest lines, from its node");
  t.equal(logs.stdout.trim().split('\n').length, 1, 'and only its own');
  t.match(JSON.parse((await cli('logs', '--task', failedId, '--json')).stdout), [{ taskId: failedId, level: 'fatal', text: /on a node/ }], 'the same from this machine\'s admin sockets, as JSON');
  // --follow prints lines as they come.
  const follower = spawn(process.execPath, [CLI, 'logs', '--follow', '--address', address], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN } });
  let followed = '';
  follower.stdout.on('data', (d) => { followed += d; });
  t.teardown(() => follower.kill());
  await new Promise((r) => setTimeout(r, 700));
  await caught(t, () => tsray.get(nested.fn('fails').options(onN).remote('followed later')));
  for (let i = 0; i < 50 && !followed.includes('followed later'); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(followed, /followed later/, 'tsray logs --follow prints a line written after it started');
  follower.kill();
  const help = (await cli('list', '--help')).stdout;
  t.ok(['--filter', '--limit', '--address', '--json'].every((o) => help.includes(o)), '--help lists the options');
});
