// Spill files, the cluster token and admin sockets live only in directories private to this user.
// Another user is played by chown to an unused uid (the tests run as root).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import {
  chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { CLI, ROOT } from '../helpers/components.mjs';
import { caught, withRuntime } from '../helpers/runtime.mjs';

const MiB = 2 ** 20;
const OTHER = 12345;
const uid = process.geteuid();
const fresh = () => mkdtempSync(join(tmpdir(), 'tsray-private-'));

/** A directory another user made (mode 0777, owned by OTHER). */
function planted(path) {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
  chownSync(path, OTHER, OTHER);
  return path;
}

/** Runs `body` with os.tmpdir() pointing at `dir` (tsray's default directories live there). */
async function withTmpdir(dir, body) {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    await body();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR; else process.env.TMPDIR = saved;
  }
}

const quoted = (s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

t.test('a spillDir another user owns is refused with InsecurePathError, and nothing is written to it', { skip: uid !== 0 && 'needs root to play another user' }, async (t) => {
  const dir = planted(join(fresh(), 'spill'));
  const e = await caught(t, () => tsray.init({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: dir }));
  t.ok(e instanceof tsray.InsecurePathError, `InsecurePathError (got ${e?.constructor?.name}: ${e?.message})`);
  t.equal(e?.code, 'ERR_INSECURE_PATH');
  t.equal(e?.path, dir);
  t.match(e?.message, quoted(dir), 'it names the directory');
  t.match(e?.message, /owned by uid 12345, not by this user/, 'and who owns it');
  t.match(e?.message, quoted(`rm -rf ${dir}`), 'it says how to remove it');
  t.match(e?.message, /pass spillDir/, 'or how to spill elsewhere');
  t.notOk(tsray.isInitialized(), 'the runtime did not start');
  t.strictSame(readdirSync(dir), [], 'nothing was written there');
});

t.test('a spillDir open to other users, or a link another user owns, is refused', { skip: uid !== 0 && 'needs root to play another user' }, async (t) => {
  const open = join(fresh(), 'open');
  mkdirSync(open, { mode: 0o700 });
  chmodSync(open, 0o777);
  const e = await caught(t, () => tsray.init({ numCpus: 1, spillDir: open }));
  t.equal(e?.code, 'ERR_INSECURE_PATH', 'a world-writable directory of this user is refused');
  t.match(e?.message, /open to other users \(mode 777\)/);
  t.match(e?.message, quoted(`chmod 700 ${open}`), 'it says how to close it');
  t.equal(statSync(open).mode & 0o777, 0o777, 'and does not change it behind the user\'s back');

  const target = mkdtempSync(join(tmpdir(), 'tsray-private-target-'));
  const link = join(fresh(), 'link');
  symlinkSync(target, link);
  lchownSync(link, OTHER, OTHER);
  const l = await caught(t, () => tsray.init({ numCpus: 1, spillDir: link }));
  t.equal(l?.code, 'ERR_INSECURE_PATH', "a link another user owns is refused, even to this user's own directory");
  t.match(l?.message, /owned by uid 12345/);

  const mine = join(fresh(), 'mine');
  symlinkSync(target, mine);
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: mine }, async () => {
    t.pass("a link of this user's own to a private directory is fine");
  });
});

t.test('the default spill directory is tsray-<uid>/spill, created 0700, with files created 0600', async (t) => {
  const tmp = fresh();
  await withTmpdir(tmp, () => withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, minSpillingSize: 1 }, async () => {
    const dir = join(tmp, `tsray-${uid}`, 'spill');
    const refs = [1, 2, 3].map((i) => tsray.put(new Uint8Array(6 * MiB).fill(i)));
    t.equal(statSync(join(tmp, `tsray-${uid}`)).mode & 0o777, 0o700, 'the user directory is 0700');
    t.equal(statSync(dir).mode & 0o777, 0o700, 'the spill directory is 0700');
    const files = readdirSync(dir);
    t.ok(files.length > 0, `objects were spilled there (${files.join(', ')})`);
    for (const f of files) t.equal(statSync(join(dir, f)).mode & 0o777, 0o600, `${f} is 0600`);
    t.equal((await tsray.get(refs[0]))[9], 1, 'and they read back');
  }));
});

t.test('a planted tsray-<uid> or tsray-<uid>/spill is refused before anything starts', { skip: uid !== 0 && 'needs root to play another user' }, async (t) => {
  const tmp = fresh();
  const userDir = planted(join(tmp, `tsray-${uid}`));
  await withTmpdir(tmp, async () => {
    const e = await caught(t, () => tsray.init({ numCpus: 1, objectStoreMemory: 16 * MiB }));
    t.equal(e?.code, 'ERR_INSECURE_PATH', `a planted user directory is refused (${e?.message})`);
    t.match(e?.message, quoted(userDir));
    t.match(e?.message, /set TMPDIR/, 'it says how to use another one');
    const given = await caught(t, () => tsray.init({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: fresh() }));
    t.equal(given?.code, 'ERR_INSECURE_PATH', 'also with a spillDir of its own: the admin socket lives there');
  });
  t.strictSame(readdirSync(userDir), [], 'nothing was created in it');
  t.notOk(tsray.isInitialized());

  const tmp2 = fresh();
  mkdirSync(join(tmp2, `tsray-${uid}`), { mode: 0o700 });
  const spill = planted(join(tmp2, `tsray-${uid}`, 'spill'));
  await withTmpdir(tmp2, async () => {
    const e = await caught(t, () => tsray.init({ numCpus: 1, objectStoreMemory: 16 * MiB }));
    t.equal(e?.code, 'ERR_INSECURE_PATH', 'a planted default spill directory is refused');
    t.match(e?.message, quoted(spill));
    t.match(e?.message, /pass spillDir/);
  });
  t.strictSame(readdirSync(spill), [], 'nothing was spilled into it');
});

t.test('a spill file is never written through a planted link or into a planted file', async (t) => {
  const dir = fresh();
  const victim = join(fresh(), 'victim');
  writeFileSync(victim, 'precious');
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: dir }, async () => {
    const name = (seq) => join(dir, `tsray-spill-${process.pid}-${tsray.memory().nodes[0].nodeId}-${seq}.bin`);
    symlinkSync(victim, name(1));
    writeFileSync(name(2), '');
    chmodSync(name(2), 0o666);
    const a = tsray.put(new Uint8Array(10 * MiB).fill(7));
    const big = () => tsray.put(new Uint8Array(10 * MiB).fill(8)); // needs a spilled to fit
    const e = await caught(t, big);
    t.ok(e instanceof tsray.InsecurePathError, `the spill through a link fails with InsecurePathError (got ${e?.constructor?.name}: ${e?.message})`);
    t.match(e?.message, quoted(name(1)), 'naming the file');
    t.equal(readFileSync(victim, 'utf8'), 'precious', 'the link target is untouched');
    const f = await caught(t, big);
    t.equal(f?.code, 'ERR_INSECURE_PATH', 'the spill into an existing file fails too');
    t.equal(statSync(name(2)).size, 0, 'and that file received nothing');
    const b = big();
    t.equal((await tsray.get(a))[5], 7, 'the next spill, to a new file, works, and the object reads back');
    t.equal((await tsray.get(b))[5], 8);
  });
});

t.test('tsray start refuses a cluster directory another user planted, and writes no token there', { skip: uid !== 0 && 'needs root to play another user' }, async (t) => {
  const tmp = fresh();
  mkdirSync(join(tmp, `tsray-${uid}`), { mode: 0o700 });
  const cluster = planted(join(tmp, `tsray-${uid}`, 'cluster'));
  const r = spawnSync(process.execPath, [CLI, 'start', '--head', '--port', '0', '--num-cpus', '1'], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TMPDIR: tmp, TSRAY_TOKEN: '' },
  });
  t.not(r.status, 0, 'it fails');
  t.match(r.stderr, /ERR_INSECURE_PATH/);
  t.match(r.stderr, quoted(cluster), 'naming the directory');
  t.match(r.stderr, /owned by uid 12345/);
  t.strictSame(readdirSync(cluster), [], 'no token, record or log was written there');
});
