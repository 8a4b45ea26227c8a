// Claims (host/worker/claims.ts): the worker and the node settle who runs a
// claimable nested task with one compare-and-swap each; exactly one wins, and
// a slot is reused only once settled.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { WorkerClaims, nodeTakes, newClaimTable, CLAIM_SLOTS } = await source('host/worker/claims.ts');

t.test('exactly one side wins each claim, and asking again gives the same answer', async (t) => {
  const buf = newClaimTable();
  const table = new Int32Array(buf);
  const w = new WorkerClaims(buf);
  const a = w.open();
  const b = w.open();
  t.ok(w.take(a), 'the worker takes an open claim');
  t.notOk(nodeTakes(table, a), 'then the node cannot');
  t.ok(nodeTakes(table, b), 'the node takes an open claim');
  t.ok(nodeTakes(table, b), 'and keeps it when it asks again');
  t.notOk(w.take(b), 'then the worker cannot');
  t.notOk(w.take(a), 'a claim is taken once');
});

t.test('a slot is reused only once its claim is settled', async (t) => {
  const buf = newClaimTable();
  const table = new Int32Array(buf);
  const w = new WorkerClaims(buf);
  const first = w.open();
  for (let i = 1; i < CLAIM_SLOTS; i++) nodeTakes(table, w.open());
  t.equal(w.open(), undefined, 'the slot of the first claim is still open: no new claim there');
  t.ok(nodeTakes(table, first));
  const again = w.open();
  t.equal(again, first + CLAIM_SLOTS, 'once settled, the slot serves the next claim number');
  t.notOk(nodeTakes(table, first + 2 * CLAIM_SLOTS), 'a claim number never opened is not the node\'s');
  t.ok(w.take(again));
});
