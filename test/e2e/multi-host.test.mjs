// Many hosts for real: a head and two nodes each in a network namespace of its own (its own address and
// network stack, joined by a bridge), the driver in this process on the bridge too. They join, run tasks
// placed on each host, move an object from one host to another; a partition (one host's link down) is
// detected by the head through missed heartbeats, and once the link is back the node rejoins.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as tsray from 'tsray';
import { CLI, prebuilt } from '../helpers/components.mjs';
import { fnv, isolatedEnv, MiB } from '../helpers/cluster.mjs';
import { makeHosts, netnsProblem } from '../helpers/netns.mjs';
import { until as untilMs } from '../helpers/raw-wire.mjs';

const TOKEN = 'multi-host-token';
const until = (what, pred, ms = 20_000) => untilMs(what, pred, ms);


const problem = netnsProblem();
if (problem) {
  t.fail(`cannot run: ${problem} (CI runs as root with iproute2)`);
} else {
  t.test('hosts of their own: join, tasks, an object across hosts, a partition the head detects, healing', async (t) => {
    const blobs = await tsray.load(await prebuilt('blobs'));
    const { hosts } = makeHosts(t, ['head', 'a', 'b']);
    const env = { ...isolatedEnv('multi-host'), TSRAY_TOKEN: TOKEN };
    const store = ['--object-store-memory', String(128 * MiB)];
    const head = hosts.head.spawn(process.execPath, [CLI, 'start', '--head', '--block', '--port', '6380', '--host', hosts.head.address,
      '--num-cpus', '1', '--resources', '{"on_head": 1}', '--node-timeout-ms', '2000', '--no-dashboard', ...store], env);
    await until('the head', () => /listening at/.test(head.output().out));
    const address = `ws://${hosts.head.address}:6380`;
    const node = (name) => hosts[name].spawn(process.execPath, [CLI, 'start', '--address', address, '--block', '--num-cpus', '1',
      '--resources', `{"on_${name}": 1}`, '--rejoin-timeout-ms', '60000', ...store], env);
    const a = node('a');
    const b = node('b');
    const joined = (n) => /tsray node ([0-9a-f]{16}) joined/.exec(n.output().out)?.[1];
    const [aId, bId] = [await until('node a', () => joined(a)), await until('node b', () => joined(b))];
    const status = () => JSON.parse(spawnSync(process.execPath, [CLI, 'status', '--address', address, '--json'], { env, encoding: 'utf8' }).stdout);
    const alive = () => status().nodes.filter((n) => n.state === 'ALIVE');
    const hostsSeen = alive().map((n) => new URL(n.objectAddress).hostname).sort();
    t.same(hostsSeen, [hosts.head.address, hosts.a.address, hosts.b.address].sort(), 'three nodes, each serving objects at its own host\'s address');

    await tsray.init({ address, token: TOKEN });
    t.teardown(() => tsray.shutdown());
    const on = (name) => ({ resources: { [`on_${name}`]: 1 } });
    const where = async (name) => (await tsray.get(blobs.fn('locate').options(on(name)).remote(new Uint8Array(1)))).split(' ')[0];
    t.equal(await where('a'), aId, 'a task runs on host a');
    t.equal(await where('b'), bId, 'and one on host b');

    const made = blobs.fn('fill').options(on('a')).remote(16 * MiB, 7);
    const onB = await tsray.get(blobs.fn('checksum').options(on('b')).remote(made));
    t.equal(onB, fnv(await tsray.get(made)), '16 MiB made on host a, read by a task on host b and by the driver: the same bytes');

    hosts.b.partition();
    const dead = await until('the head to declare b dead', () => status().nodes.find((n) => n.nodeId === bId && n.state === 'DEAD'));
    t.ok(dead, 'the head declares the cut-off node dead by its missed heartbeats');
    t.equal(await where('a'), aId, 'and the rest of the cluster runs on');

    hosts.b.heal();
    const again = await until('b to rejoin', () => /tsray node ([0-9a-f]{16}) joined \S+ again/.exec(b.output().out)?.[1], 60_000);
    t.not(again, bId, 'once its link is back, host b rejoins as a new node');
    t.equal(await where('b'), again, 'and runs tasks again');
    t.equal(alive().length, 3, 'three nodes alive again');
  });
}
