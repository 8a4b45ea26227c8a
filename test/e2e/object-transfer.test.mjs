// Moving sealed objects between two stores over a real WebSocket: chunks, collapse of concurrent pulls, failures.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { ObjectStore } from '../../dist/store/object-store.js';
import { ObjectServer, ObjectPuller } from '../../dist/host/cluster/object-transfer.js';
import * as tsray from 'tsray';

const MiB = 2 ** 20;
const TOKEN = 'transfer-token';

function store(id) {
  return new ObjectStore({
    nodeId: id.padEnd(16, '0'), capacity: 256 * MiB, spillDir: mkdtempSync(join(tmpdir(), 'tsray-xfer-')),
    spillThreshold: 0.8, minSpillBytes: 100 * MiB, localFsCapacityThreshold: 1, recordTaskCallSites: false,
  });
}

t.test('an object larger than a frame moves in chunks and arrives byte-identical; concurrent pulls collapse', async (t) => {
  const a = store('a');
  const b = store('b');
  const server = await ObjectServer.start(a, TOKEN, '127.0.0.1');
  const puller = new ObjectPuller(b, TOKEN);
  t.teardown(async () => { puller.close(); await server.close(); a.close(); b.close(); });

  const data = new Uint8Array(80 * MiB);
  randomFillSync(data);
  const ref = a.put({ name: 'big', data });
  const size = 80 * MiB + 4096; // the block: the bytes plus a header and the skeleton, page-rounded
  const loc = server.location('a', ref.id, size);

  const [r1, r2] = await Promise.all([puller.pull(loc), puller.pull(loc)]);
  t.equal(r1.id, r2.id, 'two concurrent pulls of one object share one transfer');
  t.not(r1, r2, 'each puller holds a ref of its own');
  t.equal(server.served, 1, 'the owner sent it once');
  r2.release();
  await new Promise((r) => setImmediate(r));
  t.ok(b.has(r1), "one puller's release leaves the other's object in place");
  const v = b.view(r1).value;
  t.equal(v.name, 'big');
  t.ok(v.data.buffer instanceof SharedArrayBuffer, "it landed in the puller's shared store (read in place)");
  t.equal(Buffer.compare(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength), Buffer.from(data)), 0, 'byte-identical');
  t.ok(b.stats().usedBytes >= 80 * MiB, 'counted in the receiving store');

  const again = await puller.pull(loc);
  t.not(again.id, r1.id, 'a later pull is a new transfer');
  t.equal(server.served, 2);
});

t.test('pull failures are ObjectLostError: missing object, wrong token, owner gone', async (t) => {
  const a = store('c');
  const b = store('d');
  const server = await ObjectServer.start(a, TOKEN, '127.0.0.1');
  t.teardown(() => { a.close(); b.close(); });
  const ref = a.put(new Uint8Array(2 * MiB).fill(7));

  const good = new ObjectPuller(b, TOKEN);
  const missing = await good.pull(server.location('c', 'ffffffff00000000ffff', 10)).catch((e) => e);
  t.ok(missing instanceof tsray.ObjectLostError, `an unknown object: ObjectLostError (got ${missing?.constructor?.name})`);
  t.match(missing.message, /is not here/);

  const bad = new ObjectPuller(b, 'wrong');
  const refused = await bad.pull(server.location('c', ref.id, 2 * MiB)).catch((e) => e);
  t.ok(refused instanceof tsray.ObjectLostError, 'a refused connection: ObjectLostError');
  t.match(refused.message, /refused this connection/);
  t.equal(server.served, 0, 'nothing was sent to a puller without the token');

  await server.close();
  const gone = await new ObjectPuller(b, TOKEN).pull(server.location('c', ref.id, 2 * MiB)).catch((e) => e);
  t.ok(gone instanceof tsray.ObjectLostError, 'an owner that is gone: ObjectLostError');
  t.match(gone.message, /cannot be reached/);
  t.equal(b.stats().usedBytes, 0, 'failed pulls leave nothing behind in the receiving store');
  good.close();
  bad.close();
});
