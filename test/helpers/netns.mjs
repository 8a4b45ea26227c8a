// Hosts for multi-host tests: Linux network namespaces (`ip netns`, as root), each with its own
// address and network stack, joined by veth pairs to a bridge that this process (the driver) is on
// too. Cutting one host's link is a network partition; putting it back heals it.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsProblem() {
  if (process.getuid?.() !== 0) return 'multi-host tests make network namespaces, which needs root';
  try {
    ip('-V');
  } catch {
    return "multi-host tests need iproute2's ip command";
  }
  return undefined;
}

/**
 * Makes a bridge and one namespace per name, each with address `10.X.Y.<10 + i>` (this
 * process: `.1`); everything is removed at the end of `t`. Returns the hosts by name and a
 * way to run a command in each.
 */
export function makeHosts(t, names) {
  const tag = randomBytes(3).toString('hex');
  const net = `10.${200 + (parseInt(tag.slice(0, 2), 16) % 50)}.${parseInt(tag.slice(2, 4), 16)}`;
  const bridge = `tbr${tag}`;
  const made = [];
  t.teardown(() => {
    for (const undo of made.reverse()) { try { undo(); } catch { /* already gone */ } }
  });
  ip('link', 'add', bridge, 'type', 'bridge');
  made.push(() => ip('link', 'del', bridge));
  ip('addr', 'add', `${net}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  const hosts = {};
  names.forEach((name, i) => {
    const ns = `tsray-${tag}-${name}`;
    const outer = `tv${tag}${i}`;
    ip('netns', 'add', ns);
    made.push(() => ip('netns', 'del', ns));
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    made.push(() => ip('link', 'del', outer));
    ip('link', 'set', outer, 'master', bridge);
    ip('link', 'set', outer, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.${10 + i}/24`, 'dev', 'eth0');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
    hosts[name] = {
      name, ns, address: `${net}.${10 + i}`,
      /** Cuts this host off the network (its link goes down), or puts it back. */
      partition: () => ip('link', 'set', outer, 'down'),
      heal: () => ip('link', 'set', outer, 'up'),
      /** Runs `command args` inside this host; its output is collected, and it is killed at the end of `t`. */
      spawn: (command, args, env) => {
        const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        const out = { out: '', err: '' };
        child.stdout.on('data', (d) => { out.out += d; });
        child.stderr.on('data', (d) => { out.err += d; });
        t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
        return { child, output: () => out };
      },
    };
  });
  return { hosts, driverAddress: `${net}.1` };
}
