// Moving sealed objects between two stores over a real WebSocket: chunks, collapse of concurrent pulls, failures.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { ObjectStore } from '../../dist/store/object-store.js';
import { ObjectServer, ObjectPuller } from '../../dist/host/cluster/object-transfer.js';
import * as tsray from 'tsray';
import { authed, encode, until } from '../helpers/raw-wire.mjs';

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

t.test('many pullers of one object form a tree: the origin sends it two at a time, holders send the rest', async (t) => {
  const origin = store('o');
  const server = await ObjectServer.start(origin, TOKEN, '127.0.0.1');
  const nodes = [];
  for (let i = 0; i < 7; i++) {
    const s = store(`p${i}`);
    const srv = await ObjectServer.start(s, TOKEN, '127.0.0.1');
    const puller = new ObjectPuller(s, TOKEN, undefined, { location: (ref, size) => srv.location(`p${i}`, ref.id, size), maxBytes: 64 * MiB });
    nodes.push({ s, srv, puller });
  }
  t.teardown(async () => {
    for (const n of nodes) { n.puller.close(); await n.srv.close(); n.s.close(); }
    await server.close();
    origin.close();
  });
  const data = new Uint8Array(24 * MiB);
  randomFillSync(data);
  const ref = origin.put(data);
  const loc = server.location('o', ref.id, origin.stats().usedBytes);
  const got = await Promise.all(nodes.map((n) => n.puller.pull(loc)));
  for (const [i, r] of got.entries()) {
    const v = nodes[i].s.view(r).value;
    t.equal(Buffer.compare(Buffer.from(v.buffer, v.byteOffset, v.byteLength), Buffer.from(data)), 0, `puller ${i}: byte-identical`);
  }
  const fromHolders = nodes.reduce((n, x) => n + x.srv.served, 0);
  t.ok(server.served <= 3 && fromHolders >= 4, `the origin sent it ${server.served} times for 7 pullers (two seeded, then holders), holders ${fromHolders} times`);
  t.equal(server.served + fromHolders, 7, 'each puller got it once');
  const again = await nodes[0].puller.pull(loc);
  t.equal(server.served + nodes.reduce((n, x) => n + x.srv.served, 0), 7, "a puller's second pull of it uses the copy it keeps");
  again.release();
  for (const r of got) r.release();
});

t.test('a puller may name only a node of the cluster as holding a copy: other pullers are never sent elsewhere', async (t) => {
  const member = 'ws://127.0.0.1:7';
  const origin = store('h');
  const server = await ObjectServer.start(origin, TOKEN, '127.0.0.1', { holders: (a) => a === member });
  t.teardown(async () => { await server.close(); origin.close(); });
  const ref = origin.put(new Uint8Array(2 * MiB).fill(5));
  const loc = server.location('h', ref.id, origin.stats().usedBytes);
  const liar = await authed(server.address, TOKEN, 'peer');
  t.teardown(() => liar.close());
  const at = (address) => ({ nodeId: 'liar000000000000', address, objectId: ref.id, size: loc.size });
  liar.send(encode({ t: 'holding', objectId: ref.id, key: loc.key, at: at('ws://203.0.113.9:1') }));
  const puller = await authed(server.address, TOKEN, 'peer');
  t.teardown(() => puller.close());
  puller.send(encode({ t: 'pull', id: 1, objectId: ref.id, key: loc.key, share: true }));
  const first = await until('pull reply 1', () => puller.frames.find((f) => f.t === 'pull-reply' && f.id === 1));
  t.equal(first.redirect, undefined, 'a copy claimed at an address that is no node is ignored: the origin serves it');
  t.equal(first.size, loc.size, 'and sends it itself');
  liar.send(encode({ t: 'holding', objectId: ref.id, key: loc.key, at: at(member) }));
  await until('the origin to be free again', () => puller.frames.filter((f) => f.t === 'chunk').length > 0);
  await new Promise((r) => setTimeout(r, 300));
  puller.send(encode({ t: 'pull', id: 2, objectId: ref.id, key: loc.key, share: true }));
  const second = await until('pull reply 2', () => puller.frames.find((f) => f.t === 'pull-reply' && f.id === 2));
  t.equal(second.redirect?.address, member, 'a copy on a node of the cluster is one pullers are sent to');
});

t.test('with TSRAY_PULL_FANOUT=0 every pull is served by the origin (the star the tree replaces)', async (t) => {
  process.env.TSRAY_PULL_FANOUT = '0';
  const origin = store('q');
  const server = await ObjectServer.start(origin, TOKEN, '127.0.0.1');
  delete process.env.TSRAY_PULL_FANOUT;
  const pullers = [];
  for (let i = 0; i < 4; i++) {
    const s = store(`r${i}`);
    const srv = await ObjectServer.start(s, TOKEN, '127.0.0.1');
    pullers.push({ s, srv, p: new ObjectPuller(s, TOKEN, undefined, { location: (ref, size) => srv.location(`r${i}`, ref.id, size), maxBytes: 64 * MiB }) });
  }
  t.teardown(async () => {
    for (const n of pullers) { n.p.close(); await n.srv.close(); n.s.close(); }
    await server.close();
    origin.close();
  });
  const ref = origin.put(new Uint8Array(8 * MiB).fill(3));
  const loc = server.location('q', ref.id, origin.stats().usedBytes);
  await Promise.all(pullers.map((n) => n.p.pull(loc)));
  t.equal(server.served, 4);
});
