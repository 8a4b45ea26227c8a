// The head's persistent tables (host/cluster/head/tables): rows written by one store are read back by a
// new one, as a head started again reads what the killed one wrote; a record torn by a crash is dropped;
// the file log is rewritten once it outgrows its rows; clear() ends the cluster for good. The Redis store
// is tested against a real redis-server.
import t from 'tap';
import { mkdtempSync, statSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';
import { redisServer } from '../../helpers/redis.mjs';

const { FileTables } = await source('host/cluster/head/tables/file-tables.ts');
const { RedisTables } = await source('host/cluster/head/tables/redis-tables.ts');

async function roundTrip(t, make) {
  const a = make();
  await a.load();
  a.set('meta', 'clusterId', 'c1');
  a.set('actors', 'x', { restarts: 2, node: 'n1', args: [1, 'two', new Uint8Array([3, 4])] });
  a.set('actors', 'y', { restarts: 0 });
  a.set('components', 'h', new Uint8Array(1000).fill(7));
  a.delete('actors', 'y');
  a.set('actors', 'x', { restarts: 3, node: 'n2', args: [] });
  await a.flush();
  await a.close();
  const b = make();
  const rows = await b.load();
  t.equal(rows.meta.get('clusterId'), 'c1');
  t.same(rows.actors.get('x'), { restarts: 3, node: 'n2', args: [] }, 'the last write of a row wins');
  t.notOk(rows.actors.has('y'), 'a deleted row stays deleted');
  t.same([...rows.components.get('h')], new Array(1000).fill(7), 'bytes come back as bytes');
  await b.clear();
  await b.close();
  const c = make();
  const empty = await c.load();
  t.equal(empty.meta.size + empty.actors.size + empty.components.size, 0, 'clear() leaves nothing to load');
  await c.close();
}

t.test('file: rows survive the store, clear() removes them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-tables-'));
  await roundTrip(t, () => new FileTables(dir));
  t.equal(statSync(dir).mode & 0o777, 0o700, 'the directory is private');
});

t.test('file: a record torn by a crash is dropped, and later writes are read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-tables-'));
  const a = new FileTables(dir);
  await a.load();
  a.set('nodes', 'n1', { name: 'one' });
  await a.close();
  // A crash in the middle of a write: a length that promises more bytes than follow.
  appendFileSync(join(dir, 'tables.log'), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
  const b = new FileTables(dir);
  const rows = await b.load();
  t.same([...rows.nodes.keys()], ['n1']);
  b.set('nodes', 'n2', { name: 'two' });
  await b.close();
  const c = new FileTables(dir);
  t.same([...(await c.load()).nodes.keys()].sort(), ['n1', 'n2'], 'the torn tail was trimmed, not left in front of the new record');
  await c.close();
});

t.test('file: the log is rewritten with only live rows once it outgrows them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-tables-'));
  const a = new FileTables(dir);
  await a.load();
  const big = new Uint8Array(64 * 1024);
  for (let i = 0; i < 200; i++) a.set('components', 'h', big.fill(i % 256));
  const size = statSync(join(dir, 'tables.log')).size;
  t.ok(size < 4 * 1024 * 1024, `200 writes of one 64 KiB row leave ${size} bytes, not 12.8 MB`);
  await a.close();
  const rows = await new FileTables(dir).load();
  t.equal(rows.components.get('h')[0], 199, 'the last write is what comes back');
});

t.test('file: garbage in the log stops the replay there, it does not throw', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-tables-'));
  const a = new FileTables(dir);
  await a.load();
  a.set('meta', 'clusterId', 'c1');
  await a.close();
  const good = readFileSync(join(dir, 'tables.log')).length;
  appendFileSync(join(dir, 'tables.log'), Buffer.from([4, 0, 0, 0, 0x63, 0x61, 0x62, 0x63])); // a CBOR string, not a record
  const b = new FileTables(dir);
  const rows = await b.load();
  t.equal(rows.meta.get('clusterId'), 'c1');
  await b.close();
  t.equal(statSync(join(dir, 'tables.log')).size, good, 'trimmed back to the last good record');
});

t.test('redis: rows survive the client, in a namespace of their own', async (t) => {
  const { address } = await redisServer(t);
  await roundTrip(t, () => new RedisTables(address, 'test-a'));
  const other = new RedisTables(address, 'test-b');
  other.set('meta', 'clusterId', 'other');
  await other.flush();
  const a = new RedisTables(address, 'test-a');
  t.equal((await a.load()).meta.size, 0, 'another namespace is another cluster');
  await a.close();
  await other.close();
});

t.test('redis: bad addresses and an unreachable server are StorageErrors', async (t) => {
  t.throws(() => new RedisTables('http://x'), { code: 'ERR_STORAGE' });
  t.throws(() => new RedisTables('redis://127.0.0.1:1', 'a b'), { code: 'ERR_STORAGE' });
  const r = new RedisTables('redis://127.0.0.1:1');
  await t.rejects(r.load(), { code: 'ERR_STORAGE', message: /cannot reach Redis/ });
  await r.close();
});

t.test('redis: writes that fail while Redis is away are reported once, and every table is written again when it is back', async (t) => {
  const first = await redisServer(t);
  const port = Number(new URL(first.address).port);
  const a = new RedisTables(first.address, 'resync');
  const errors = [];
  a.onWriteError = (e) => errors.push(e);
  await a.load();
  a.set('actors', 'x', { restarts: 1 });
  await a.flush();
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.on('exit', r));
  a.set('meta', 'clusterId', 'c9');
  a.set('nodes', 'n1', { name: 'one' });
  await a.flush().catch(() => undefined);
  t.equal(errors.length, 1, `one report for the failing writes (${errors.map((e) => e.message)})`);
  t.equal(errors[0]?.code, 'ERR_STORAGE');
  // A Redis that lost everything (no persistence) comes back on the same port.
  await redisServer(t, port);
  const read = async () => {
    const b = new RedisTables(first.address, 'resync');
    try { return await b.load(); } finally { await b.close(); }
  };
  let rows = await read();
  // A write still queued in the client when Redis comes back may land just before the resync does: wait for both.
  for (let i = 0; i < 100 && (rows.nodes.size === 0 || !rows.meta.has('clusterId')); i++) {
    await new Promise((res) => setTimeout(res, 100));
    rows = await read();
  }
  t.same(rows.actors.get('x'), { restarts: 1 }, 'what was written before is there again');
  t.equal(rows.meta.get('clusterId'), 'c9', 'and what failed to be written');
  t.same(rows.nodes.get('n1'), { name: 'one' });
  await a.close();
});
