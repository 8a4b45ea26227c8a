// ObjectStore.lose with an owner's rebuild (lineage reconstruction): every lost object goes pending before any
// is rebuilt, so a task made again waits for a lost argument made again too, whatever the order; what cannot be
// made again fails with ObjectLostError saying why, and whoever waited on it hears so.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';

const { ObjectStore } = await source('store/object-store.ts');

const store = () => new ObjectStore({
  nodeId: 'n'.repeat(16), capacity: 2 ** 20, spillDir: mkdtempSync(join(tmpdir(), 'tsray-lose-')),
  spillThreshold: 0.8, minSpillBytes: 2 ** 20, localFsCapacityThreshold: 1, recordTaskCallSites: false,
});
const at = (nodeId, objectId) => ({ nodeId, address: 'ws://127.0.0.1:9', objectId, size: 1000 });

t.test('lost objects: pending while made again, failed with the reason otherwise, waiters told', async (t) => {
  const s = store();
  const [a, b, c, keep] = [s.create(), s.create(), s.create(), s.create()];
  s.resolveRemote(a, at('dead', 'a'));
  s.resolveRemote(b, at('dead', 'b'));
  s.resolveRemote(c, at('dead', 'c'));
  s.resolveRemote(keep, at('alive', 'k'));
  const seen = [];
  s.lose({ nodeId: 'dead' }, 'its node died', (id) => {
    // Whatever the order, every lost object is pending by now: a rebuilt task would wait for it.
    seen.push([id, [a, b, c].map((r) => s.peek(r) === undefined)]);
    if (id === c.id) { s.onSettled(a, (x) => seen.push(['a settled', x.ok])); return 'its task cannot run again'; }
    return true;
  });
  t.same(seen.map(([, pending]) => pending), [[true, true, true], [true, true, true], [true, true, true]], 'all pending before any rebuild');
  t.equal(s.peek(a), undefined, 'a is pending, being made again');
  t.equal(s.peek(b), undefined);
  const failed = s.peek(c);
  t.equal(failed.ok, false);
  t.equal(failed.error.code, 'ERR_OBJECT_LOST');
  t.match(failed.error.message, /was lost: its node died; its task cannot run again/, 'c failed with where and why');
  t.same(s.peek(keep), { ok: true }, 'an object on another node is untouched');
  s.resolveRemote(a, at('alive', 'a2'));
  t.same(seen.at(-1), ['a settled', true], 'a waiter hears when a is made again');
  t.same(s.remoteOf(a), at('alive', 'a2'), 'at its new place');
});
