// Scheduling strategies on the embedded node: one node, so only node affinity can fail.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { withRuntime, caught } from '../helpers/runtime.mjs';

t.test('node affinity on the embedded node', async (t) => {
  const [slow, counter] = await Promise.all(['slow', 'counter'].map(async (n) => tsray.load(await prebuilt(n))));
  await withRuntime({ numCpus: 1 }, async () => {
    const { nodeId, acceleratorIds } = tsray.getRuntimeContext();
    t.match(nodeId, /^[0-9a-f]{16}$/, 'the runtime context names the node');
    t.strictSame(acceleratorIds, [], 'a driver holds no accelerators');
    t.match(await tsray.get(slow.fn('nap').options({ schedulingStrategy: { nodeId } }).remote(1)), new RegExp(`on ${nodeId}`), 'hard affinity to this node runs');
    t.match(await tsray.get(slow.fn('nap').options({ schedulingStrategy: 'SPREAD' }).remote(1)), /on /, 'SPREAD on one node runs there');
    const e = await caught(t, () => tsray.get(slow.fn('nap').options({ schedulingStrategy: { nodeId: 'ffffffffffffffff' } }).remote(1)));
    t.ok(e instanceof tsray.UnschedulableError, `hard affinity to another node: UnschedulableError (got ${e?.constructor?.name})`);
    t.equal(e?.code, 'ERR_UNSCHEDULABLE');
    t.match(await tsray.get(slow.fn('nap').options({ schedulingStrategy: { nodeId: 'ffffffffffffffff', soft: true } }).remote(1)), /on /, 'soft affinity falls back to this node');
    const a = counter.actor('counter', { schedulingStrategy: { nodeId: 'ffffffffffffffff' } }).remote(0n);
    const d = await caught(t, () => tsray.get(a.incr.remote(1n)));
    t.ok(d instanceof tsray.ActorDiedError && d.cause instanceof tsray.UnschedulableError, 'an actor pinned elsewhere is dead, with UnschedulableError as the cause');
    t.throws(() => slow.fn('nap').options({ schedulingStrategy: { nodeId: 'x', soft: 'yes' } }), { code: 'ERR_INVALID_ARGUMENT' });
  });
});
