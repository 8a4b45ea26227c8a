// A restarted head's recovery (host/cluster/head/recovery.ts): work is held until every restored node is back
// or dead, then matched to what the nodes said (work they run, results they sent meanwhile), each claim once;
// the recovery ends when every owner is back, or after the grace, naming who never came back, the results
// nobody asked for, and the work nobody sent again.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Recovery } = await source('host/cluster/head/recovery.ts');

function recovery(nodes, owners, graceMs = 10_000) {
  const events = { settled: 0, ended: undefined };
  const r = new Recovery(nodes, owners, graceMs, {
    nodesSettled: () => { events.settled++; },
    ended: (gone, unclaimed, orphans) => { events.ended = { gone, unclaimed, orphans }; },
  });
  return { r, events };
}

const result = (taskId) => ({ t: 'result', taskId, ok: true, returns: [] });

t.test('work waits for the nodes, in order, then each claim is matched once', async (t) => {
  const { r, events } = recovery(['a', 'b'], ['d1']);
  const ran = [];
  t.ok(r.holding);
  r.hold(() => ran.push(1));
  r.hold(() => ran.push(2));
  r.nodeBack('a', ['t1', 't2']);
  r.nodeGone('b');
  t.same(ran, [], 'a node reconnected, but the results it sends again are not in yet: nothing runs');
  t.ok(r.park('a', result('t3')), 'a result nobody waits for is kept');
  t.ok(r.park('a', { ...result('t3'), ok: false }), 'sent again');
  r.nodeReplayed('a');
  t.same(ran, [1, 2], 'every node is back or dead: held work runs in the order it came');
  t.equal(events.settled, 1);
  t.notOk(r.holding);
  r.hold(() => ran.push(3));
  t.same(ran, [1, 2, 3], 'later work runs at once');
  t.same(r.claim('t1'), { nodeId: 'a' }, 'work a node runs is claimed where it runs');
  t.equal(r.claim('t1'), undefined, 'once');
  t.equal(r.claim('t3').result.ok, true, 'the first result a node sent stands');
  t.equal(r.claim('nope'), undefined);
  t.ok(r.expects('d1'));
  r.ownerBack('d1');
  t.same(events.ended, { gone: [], unclaimed: [], orphans: [{ nodeId: 'a', id: 't2' }] }, 'everyone is back: work nobody sent again is named');
  t.notOk(r.active);
  t.notOk(r.park('a', result('t9')), 'after the end, stray results are not kept');
  t.notOk(r.expects('d1'));
});

t.test('a dead node claims nothing; owners that never come back are named after the grace', async (t) => {
  const { r, events } = recovery(['a'], ['d1', 'd2'], 30);
  r.nodeBack('a', ['t1']);
  r.park('a', result('t2'));
  r.nodeReplayed('a');
  r.ownerBack('d1');
  await new Promise((res) => setTimeout(res, 80));
  t.same(events.ended.gone, ['d2'], 'd2 did not come back within the grace');
  t.same(events.ended.unclaimed.map((u) => u.result.taskId), ['t2'], 'a result nobody asked for again');
  t.same(events.ended.orphans, [{ nodeId: 'a', id: 't1' }]);

  const second = recovery(['a', 'b'], []);
  second.r.nodeBack('a', ['x']);
  second.r.nodeGone('a');
  t.equal(second.r.claim('x'), undefined, 'the work of a node that died is not claimed');
});

t.test('with nothing to wait for, the recovery ends at once', async (t) => {
  const { r, events } = recovery([], []);
  await new Promise((res) => setImmediate(res));
  t.notOk(r.active);
  t.same(events.ended, { gone: [], unclaimed: [], orphans: [] });
});
