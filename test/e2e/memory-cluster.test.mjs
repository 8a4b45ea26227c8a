// `tsray memory --address` on a real-process cluster: every node's and every
// driver's references, each node under its own id and address, sizes that
// are never negative, summaries that add up to the store usage the aggregate
// line reports, Ray's ascending size order, --num-entries and --no-format.
import t from 'tap';
import { execFile, spawnSync } from 'node:child_process';
import * as tsray from 'tsray';
import { CLI, ROOT, prebuilt } from '../helpers/components.mjs';
import { cluster, isolatedEnv } from '../helpers/cluster.mjs';

const env = isolatedEnv('memory-cluster');
const TOKEN = 'memory-cluster-token';
const MiB = 2 ** 20;

t.test('tsray memory --address reports every node and driver of a cluster', async (t) => {
  const { address, nodes } = await cluster(t, env, TOKEN, { nodeArgs: [['--num-cpus', '1', '--resources', '{"n":1}']] });
  // Asynchronous: this process is one of the drivers the head asks, so its event loop must keep running.
  const memory = (...args) => new Promise((resolve) => execFile(process.execPath, [CLI, 'memory', '--address', address, ...args], { cwd: ROOT, env: { ...env, TSRAY_TOKEN: TOKEN }, encoding: 'utf8', timeout: 60_000 },
    (error, stdout, stderr) => resolve({ status: error ? error.code ?? 1 : 0, stdout, stderr })));
  await tsray.init({ address, token: TOKEN });
  t.teardown(() => tsray.shutdown());

  const big = tsray.put(new Uint8Array(3 * MiB).fill(7));
  const small = tsray.put('a small value');
  const nested = await tsray.load(await prebuilt('nested'));
  // A 2 MiB result left on node n, and a ref a task there put and returned.
  const held = nested.fn('fill').options({ resources: { n: 1 } }).remote(256 * 1024, 1);
  const inner = await tsray.get(nested.fn('make-ref').options({ resources: { n: 1 } }).remote(200_000, 2));
  await tsray.get(held);

  const r = await memory('--json');
  t.equal(r.status, 0, `it runs (${r.stderr.trim()})`);
  const report = JSON.parse(r.stdout);
  t.notOk(report.missing, 'every process answered');
  t.equal(report.nodes.length, 3, 'the head\'s node, node n and this driver each report');
  const ids = report.nodes.map((n) => n.nodeId);
  t.equal(new Set(ids).size, 3, 'each under its own id');
  const driver = report.nodes.find((n) => n.references.some((x) => x.objectRef === big.id));
  t.ok(driver, "the driver's own puts are in the report");
  t.ok(driver.references.every((x) => x.type === 'Driver'), "the driver's rows are the driver's");
  t.ok(driver.references.some((x) => x.objectRef === small.id), 'small puts too');
  t.ok(driver.references.some((x) => x.objectRef === inner.id), 'and a ref it got back from a task');
  const n = report.nodes.find((x) => x.nodeId === nodes[0].nodeId);
  t.ok(n, 'node n reports under its node id');
  t.ok(n.references.some((x) => x.type === 'Node' && x.size >= 2 * MiB), 'the result it keeps for the driver is a Node row, not a Driver one');
  for (const x of report.nodes) {
    t.ok(x.store.inlineBytes >= 0 && x.store.usedBytes >= 0, `no negative store figures (${x.nodeId})`);
    t.equal(x.summary.memUsedByObjects, x.store.usedBytes + x.store.inlineBytes, `its summary adds up to its store usage (${x.nodeId})`);
  }

  const text = (await memory('--units', 'B')).stdout;
  t.equal(text.match(/--- Summary for node address: \S+ \(node [0-9a-z-]+\) ---/g)?.length, 3, 'one section per process, named by node id');
  t.notMatch(text, /-\d[\d.]* (B|KiB|MiB)/, 'no negative sizes anywhere');
  t.notMatch(text, /-\d[\d.]*% full/, 'nor a negative fill');
  const used = report.nodes.reduce((s, x) => s + x.summary.memUsedByObjects, 0);
  t.match(text, new RegExp(`Object store memory usage ${used} B,`), 'the aggregate line is the sum of the summaries');

  const plain = (await memory('--units', 'B', '--no-format', '--group-by', 'STACK_TRACE')).stdout;
  const sizes = [];
  for (const line of plain.split('\n')) {
    const m = /^\S+ \d+(?::\d+)? (?:Driver|Worker|Node) [0-9a-f]{32} (\d+|\?) B? ?/.exec(line);
    if (m) sizes.push(m[1] === '?' ? -1 : Number(m[1]));
  }
  t.ok(sizes.length >= 4, `--no-format prints rows as plain fields (${sizes.length} rows)`);
  const one = (await memory('--num-entries', '1')).stdout;
  t.match(one, /more not shown: --num-entries 1/, '--num-entries limits the rows per group');
  const byDriver = (await memory('--units', 'B', '--no-format')).stdout.split('--- Object references for node address: ').find((s) => s.includes(big.id));
  const driverSizes = byDriver.split('\n').map((l) => /^\S+ \d+ Driver [0-9a-f]{32} (\d+) B /.exec(l)).filter(Boolean).map((m) => Number(m[1]));
  t.same(driverSizes, [...driverSizes].sort((a, b) => a - b), `sizes ascend, as Ray sorts them (${driverSizes})`);
  t.match(spawnSync(process.execPath, [CLI, 'memory', '--help'], { encoding: 'utf8' }).stdout, /--address[\s\S]*--num-entries[\s\S]*--no-format/, '--help lists the options');
});
