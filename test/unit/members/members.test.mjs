// The cluster's nodes as a node or driver knows them from the head (host/cluster/members.ts): what the head announced
// is alive, a node declared dead is remembered as dead (so work naming it is answered lost), and an address the head
// has not spoken of yet is waited for a bounded time, then called foreign.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Members, KNOWN_WITHIN_MS } = await source('host/cluster/members.ts');

t.test('joined, dead, and a snapshot that leaves a node out', async (t) => {
  const m = new Members();
  t.equal(m.apply({ t: 'result', taskId: 'x', ok: true }), false, 'other frames are not its');
  m.apply({ t: 'members', nodes: [{ nodeId: 'a', address: 'ws://a' }, { nodeId: 'b', address: 'ws://b' }] });
  t.ok(m.isAlive('ws://a') && m.isAlive('ws://b'), 'the snapshot\'s nodes are alive');
  m.apply({ t: 'node-dead', nodeId: 'a', cause: 'killed' });
  t.notOk(m.isAlive('ws://a'), 'a dead node is not');
  t.same(m.standing('ws://a'), { alive: false, nodeId: 'a', cause: 'killed' }, 'and is remembered as dead, with why');
  m.apply({ t: 'node-joined', nodeId: 'c', address: 'ws://a' });
  t.same(m.standing('ws://a'), { alive: true }, 'a new node at a dead one\'s address is alive');
  m.apply({ t: 'members', nodes: [{ nodeId: 'c', address: 'ws://a' }] });
  t.equal(m.standing('ws://b')?.alive, false, 'a node a new snapshot leaves out is dead');
  m.apply({ t: 'node-dead', nodeId: 'never-joined', cause: 'x' });
  t.equal(m.standing('ws://never'), undefined, 'a death of a node never heard of changes nothing');
  m.apply({ t: 'node-joined', nodeId: 'c', address: 'ws://c2' });
  t.notOk(m.isAlive('ws://a'), 'a node that moved is not alive at its old address');
  t.ok(m.isAlive('ws://c2'), 'but at its new one');
});

t.test('an address the head announces a moment later is waited for; one it never announces is foreign after the bound', async (t) => {
  const m = new Members();
  const late = m.whenKnown('ws://late', 1000);
  const dies = m.whenKnown('ws://dies', 1000);
  m.apply({ t: 'node-joined', nodeId: 'd', address: 'ws://dies' });
  setTimeout(() => m.apply({ t: 'node-joined', nodeId: 'l', address: 'ws://late' }), 50);
  t.same(await late, { alive: true }, 'announced after the ask: alive');
  t.same(await dies, { alive: true }, 'known at once');
  const started = Date.now();
  t.equal(await m.whenKnown('ws://nobody', 200), undefined, 'never announced: foreign');
  t.ok(Date.now() - started >= 190, 'after the bound');
  t.equal(await m.whenKnown('ws://nobody', 0), undefined, 'no wait asked: foreign at once');
  t.ok(KNOWN_WITHIN_MS >= 1000 && KNOWN_WITHIN_MS <= 10_000, `the default bound is seconds (${KNOWN_WITHIN_MS} ms)`);
});
