// Lineage reconstruction on a cluster of real processes, as Ray's test_reconstruction: results whose only copy
// died with their node are made again by running their tasks again (and first the tasks of their lost
// arguments), while maxRetries allow; what cannot be made again fails with ObjectLostError saying why.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { cluster, fnv, isolatedEnv, MiB } from '../helpers/cluster.mjs';
import { caught } from '../helpers/runtime.mjs';

const env = isolatedEnv('lineage');
const TOKEN = 'lineage-token';

t.test('results lost with their node are made again, through lost arguments too; others fail saying why', async (t) => {
  const [matrix, blobs] = await Promise.all(['matrix', 'blobs'].map(async (n) => tsray.load(await prebuilt(n))));
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1'], ['--num-cpus', '1']] });
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());
  const victim = nodes[0];
  const on = { schedulingStrategy: { nodeId: victim.nodeId, soft: true } };

  // 8 MiB each: sealed objects left on the node that made them.
  const n = 1 << 20;
  const a = matrix.fn('scale').options(on).remote(Float64Array.from({ length: n }, (_, i) => i), 2);
  const b = matrix.fn('scale').options(on).remote(a, 3);
  const made = blobs.fn('fill').options(on).remote(8 * MiB, 9);
  const once = blobs.fn('fill').options({ ...on, maxRetries: 0 }).remote(4 * MiB, 1);
  await tsray.wait([a, b, made, once], { numReturns: 4 });

  victim.child.kill('SIGKILL');
  const got = await tsray.get(b, { timeoutMs: 60_000 });
  t.equal(got.length, n);
  t.ok(got.every((v, i) => v === 6 * i), 'b, whose only copy died, is made again from a, which is made again first');
  const again = (await tsray.state.listTasks({ limit: 1000 })).filter((x) => x.name === 'scale' && x.state === 'FINISHED' && x.nodeId !== victim.nodeId);
  t.equal(again.length, 2, `both scale tasks ran again, elsewhere (${again.map((x) => x.nodeId.slice(0, 6))})`);
  const bytes = await tsray.get(made, { timeoutMs: 60_000 });
  t.equal(fnv(bytes), await tsray.get(blobs.fn('checksum').remote(blobs.fn('fill').remote(8 * MiB, 9))), 'a lost 8 MiB result made again holds the same bytes');

  const noRetry = await caught(t, () => tsray.get(once, { timeoutMs: 10_000 }));
  t.ok(noRetry instanceof tsray.ObjectLostError, `a task with maxRetries 0 is not run again: ObjectLostError (${noRetry?.message})`);
  t.match(noRetry?.message, /^object \w+ was lost: its node \w+ (cannot be reached|died).*; only results of tasks that may run again \(maxRetries > 0\) are made again/, 'saying where it was and why it is not made again');

  // Kept lineage holds a task's arguments only while its results exist.
  const p = blobs.fn('fill').remote(2 * MiB, 4);
  const q = blobs.fn('checksum').remote(p);
  await tsray.get(q);
  const objects = () => tsray.memory().nodes.reduce((k, x) => k + x.store.objects, 0);
  const withBoth = objects();
  p.release();
  t.equal(objects(), withBoth, 'an argument released by its submitter stays while the result of its task does (lineage)');
  q.release();
  t.equal(objects(), withBoth - 2, 'and goes with that result');
});
