// Guests that use the Ray API on a cluster of real processes: nested tasks
// run where the head places them (another node when they need what only it
// has, or ask to spread), refs cross nodes as values both ways (a driver's
// put passed at an object-ref position, refs a task on a node returns, a
// list of refs inside an argument), guests call an actor the driver made on
// whichever node hosts it, an actor a guest creates goes where it can run,
// streaming returns come from a node, and a
// recursive cancel reaches children placed on other nodes.
import t from 'tap';
import { encode } from 'cbor-x';
import { execFile, spawnSync } from 'node:child_process';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { caught } from '../helpers/runtime.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const env = isolatedEnv('nested-cluster');
const TOKEN = 'nested-cluster-token';

t.test('guests use the Ray API across a real-process cluster', async (t) => {
  const nested = await tsray.load(await prebuilt('nested'));
  // The head's node has 1 CPU; node A 2 CPUs and resource `a`; node B 1 CPU and resource `special`.
  const { address, nodes } = await cluster(t, env, TOKEN, {
    nodeArgs: [['--num-cpus', '2', '--resources', '{"a":4}'], ['--num-cpus', '1', '--resources', '{"special":4}']],
  });
  const [nodeA, nodeB] = nodes;
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const onA = { resources: { a: 1 } };

  t.test('nested tasks, failures and a parameter server on a node', async (t) => {
    t.equal(await tsray.get(nested.fn('fib').options(onA).remote(12)), 144, 'recursive fibonacci by nested tasks on a node');
    t.match(await tsray.get(nested.fn('catch-child').options(onA).remote('on a node')), /^ERR_TASK: .*on a node/, 'a child failure reaches its parent on a node');
    const server = nested.actor('param-server').remote(4);
    t.equal(await tsray.get(nested.fn('train').options(onA).remote(server, 2, 5)), 60, 'worker tasks on a node update the driver\'s actor');
  });

  t.test('the head places nested tasks on other nodes', async (t) => {
    t.equal(await tsray.get(nested.fn('node-here').options(onA).remote()), nodeA.nodeId, 'the parent runs on node A');
    const special = encode({ resources: { special: 1 } });
    const routed = () => JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--json', '--address', address, '--token', TOKEN], { env, encoding: 'utf8' }).stdout).routedTasks;
    const before = routed();
    const where = await tsray.get(nested.fn('nodes-of').options(onA).remote(4, special));
    t.same(where, [nodeB.nodeId, nodeB.nodeId, nodeB.nodeId, nodeB.nodeId], 'children that need what only node B has run there');
    t.equal(routed(), before, 'on worker leases node A holds (it owns them, as a driver would): the head placed neither them nor their parent');
    const spread = await tsray.get(nested.fn('nodes-of').options(onA).remote(9, encode({ schedulingStrategy: 'SPREAD' })));
    t.ok(new Set(spread).size >= 2, `SPREAD children run on several nodes (${[...new Set(spread)].join(', ')})`);
    t.equal(routed(), before + 9, 'SPREAD children go through the head');
    const pinned = await tsray.get(nested.fn('nodes-of').options(onA).remote(3, encode({ schedulingStrategy: { nodeId: nodeB.nodeId, soft: false } })));
    t.same(pinned, [nodeB.nodeId, nodeB.nodeId, nodeB.nodeId], 'node affinity from a guest reaches the node it names');
    const nowhere = await tsray.get(nested.fn('submit-raw').options(onA).remote('node-here', encode([]), encode({ schedulingStrategy: { nodeId: 'f'.repeat(16), soft: false } })));
    t.match(nowhere, /^ERR_UNSCHEDULABLE: .*not alive/, 'affinity to a node that does not exist fails the child with a typed error');
  });

  t.test('an actor a guest creates goes where it can run, and ends with the task that made it', async (t) => {
    const [where, sum, actorId] = (await tsray.get(nested.fn('server-with').options(onA).remote(encode({ resources: { special: 1 } }), 2, 5))).split(' ');
    t.equal(where, nodeB.nodeId, 'an actor that needs what only node B has is placed there by the head');
    t.equal(Number(sum), 60, "the guest's worker tasks updated it through the head");
    const [here, localSum] = (await tsray.get(nested.fn('server-with').options(onA).remote(new Uint8Array(0), 2, 5))).split(' ');
    t.equal(here, nodeA.nodeId, 'one it can host stays on its node');
    t.equal(Number(localSum), 60);
    const onB = async () => (await tsray.state.listActors({ filters: [`actorId=${actorId}`] }));
    const until = Date.now() + 10_000;
    while (Date.now() < until && !(await onB()).every((a) => a.state === 'DEAD')) await new Promise((r) => setTimeout(r, 100));
    const rows = await onB();
    t.ok(rows.length === 1 && rows[0].state === 'DEAD' && rows[0].nodeId === nodeB.nodeId, `the actor on node B ended with its creator (${JSON.stringify(rows)})`);
  });

  t.test('refs cross nodes as values', async (t) => {
    // 64k f64 (512 KiB): a sealed block in the driver's store, pulled by whichever node reads it.
    const data = new Float64Array(65536).map((_, i) => i);
    const expected = (data.length * (data.length - 1)) / 2;
    const put = tsray.put(data);
    t.equal(await tsray.get(nested.fn('tree-sum').options(onA).remote(put, 0, data.length, 8192)), expected, 'a tree reduction over a driver put, passed as an object-ref');
    const small = tsray.put(new Float64Array([1, 2, 3]));
    t.equal(await tsray.get(nested.fn('tree-sum').options({ resources: { special: 1 } }).remote(small, 0, 3, 1)), 6, 'a small put passed as an object-ref travels as its value');

    const made = await tsray.get(nested.fn('make-ref').options(onA).remote(40000, 1.5));
    t.ok(made instanceof tsray.ObjectRef, 'a ref a task on a node returns reaches the driver as an ObjectRef');
    const big = await tsray.get(made);
    t.equal(big.length, 40000, 'its value is read from the node that holds it');
    t.ok(big.every((x) => x === 1.5), 'with the guest\'s values');
    const tiny = await tsray.get(await tsray.get(nested.fn('make-ref').options(onA).remote(3, 2.5)));
    t.same([...tiny], [2.5, 2.5, 2.5], 'a small returned ref travels as its value');

    // Children not finished when their parent returns their refs: the refs cross once they are ready.
    const refs = await tsray.get(nested.fn('make-refs').options(onA).remote(3, 1000));
    t.equal(refs.length, 3, 'a list of refs returned from a node');
    const sums = (await tsray.get(refs)).map((a) => a.reduce((s, x) => s + x, 0));
    t.same(sums, [1000, 2000, 3000], 'each returned ref reads its child\'s value');
    // The refs go back out inside a list argument (the seeds' "serialized ref in a task argument").
    t.equal(await tsray.get(nested.fn('sum-refs').options({ resources: { special: 1 } }).remote(refs)), 6000, 'a list<object-ref> argument reaches a task on another node');
    t.equal(await tsray.get(nested.fn('sum-refs').options(onA).remote([put, small])), expected + 6, 'driver puts inside a list argument');

    // The seeds' scenario, on a cluster: refs inside a task's list argument, shown by `tsray memory --address`
    // as in use by the pending task, on the driver (which holds them for it) and on the node running it.
    // Held for 8 s: long enough for the CLI process to start and ask even on a loaded machine.
    const held = nested.fn('hold').options(onA).remote(refs, 8000);
    await new Promise((r) => setTimeout(r, 500));
    const mem = await new Promise((resolve) => execFile(process.execPath, [CLI, 'memory', '--address', address, '--json'], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => { t.error(error, `tsray memory --address ran ${stderr}`); resolve(error ? { nodes: [] } : JSON.parse(stdout)); }));
    const kindsOf = (report, id) => report.references.filter((x) => x.objectRef === id).map((x) => x.referenceType);
    const driverReport = mem.nodes.find((n) => n.references.some((x) => x.objectRef === refs[0].id));
    t.ok(driverReport && refs.every((r) => kindsOf(driverReport, r.id).includes('USED_BY_PENDING_TASK') && kindsOf(driverReport, r.id).includes('LOCAL_REFERENCE')),
      'tsray memory: the driver holds each ref and keeps it in use by the pending task');
    const onNodeA = mem.nodes.find((n) => n.nodeId === nodeA.nodeId);
    t.equal(onNodeA?.references.filter((x) => x.referenceType === 'USED_BY_PENDING_TASK').length, 3, "and node A's copies are in use by the task running there");
    t.equal(await tsray.get(held), 3, 'the task saw the three refs');

    const failed = nested.fn('fails').remote('bad child');
    await caught(t, () => tsray.get(failed));
    const e = await caught(t, () => tsray.get(nested.fn('sum-refs').options(onA).remote([failed])));
    t.equal(e?.code, 'ERR_TASK', 'a failed ref passed inside a list fails the reader with the child\'s error');
    t.match(e?.message, /bad child/);
  });

  t.test('streaming returns from a task on a node', async (t) => {
    const streaming = (name) => nested.fn(name).options({ ...onA, numReturns: 'streaming' });
    const started = performance.now();
    const got = [];
    const at = [];
    for await (const ref of streaming('squares').remote(5, 150)) {
      got.push(await tsray.get(ref));
      at.push(performance.now() - started);
    }
    t.same(got, [0, 1, 4, 9, 16], 'every value, in order');
    t.ok(at[0] < at[4] - 400, `the first value came long before the last (${at.map(Math.round)})`);

    const before = [];
    const e = await caught(t, async () => {
      for await (const ref of streaming('emit-then-fail').remote(3, 'stream broke')) before.push(await tsray.get(ref));
    });
    t.same(before, [0, 1, 2], 'a failing generator yields what it emitted');
    t.equal(e?.code, 'ERR_TASK', 'then throws the task error');

    const gen = streaming('squares').remote(1000, 20);
    let n = 0;
    const c = await caught(t, async () => {
      for await (const ref of gen) {
        ref.release();
        if (++n === 3) tsray.cancel(gen);
      }
    });
    t.equal(c?.code, 'ERR_TASK_CANCELLED', 'cancel stops the generator');
    t.ok(n < 100, `soon after the cancel (${n} values)`);
  });

  t.test('a recursive cancel reaches children on other nodes', async (t) => {
    const special = () => tsray.availableResources().special ?? 0;
    const until = async (what, ok) => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && !ok()) await new Promise((r) => setTimeout(r, 100));
      t.ok(ok(), what);
    };
    const parent = nested.fn('spawn-with-and-spin').options(onA).remote(2, 60_000, encode({ resources: { special: 1 } }));
    await until('a 60 s nap runs on node B (1 CPU there: one at a time)', () => special() === 3);
    tsray.cancel(parent);
    const e = await caught(t, () => tsray.get(parent));
    t.equal(e?.code, 'ERR_TASK_CANCELLED', 'the parent is cancelled');
    await until('the naps were cancelled with it: node B\'s `special` and every CPU are free again', () => special() === 4 && tsray.availableResources().CPU === 4);

    const alone = nested.fn('spawn-with-and-spin').options(onA).remote(1, 4000, encode({ resources: { special: 1 } }));
    await until('a 4 s nap runs on node B', () => special() === 3);
    tsray.cancel(alone, { recursive: false });
    t.equal((await caught(t, () => tsray.get(alone)))?.code, 'ERR_TASK_CANCELLED', 'the parent is cancelled alone');
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(special(), 3, 'a cancel with recursive: false leaves its child running on node B');
  });
});
