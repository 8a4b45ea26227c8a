// The head's scale envelope, simulated (issue 18): a real head process and many simulated nodes
// (bench/cluster/sim-nodes.mjs: real WebSocket connections that heartbeat every second and answer
// each task at once), so what is measured is the head's own work. Side by side for 10 and 100
// nodes (4 CPUs each): the head's CPU while idle (heartbeat load), and one driver placing
// N tiny tasks through it (scheduling decisions/s, the head's CPU per decision); with what each
// figure implies at 1,000 nodes.
//
//   npm run build && node bench/cluster-scale.mjs [--tasks 100000] [--nodes 10,100]
//
// Progress goes to stderr, the table to stdout.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tsray from 'tsray';
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress } from './lib/stats.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'host', 'cli', 'main.js');
const progress = makeProgress();
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const TASKS = Number(arg('--tasks', 100_000));
const SIZES = arg('--nodes', '10,100').split(',').map(Number);
const TOKEN = 'scale-bench-token';
const IDLE_S = 10;
const TICK = 100; // clock ticks per second in /proc/PID/stat (USER_HZ)
const env = { ...process.env, TSRAY_TOKEN: TOKEN, TSRAY_ADDRESS: '' };

/** CPU seconds process `pid` has used (user + system). */
function cpuOf(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

/** Spawns `args` and resolves once its output matches `pattern`. */
function child(args, pattern) {
  const c = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    c.stdout.on('data', (d) => { out += d; const m = pattern.exec(out); if (m) resolve({ c, m }); });
    c.stderr.on('data', (d) => { out += d; });
    c.on('exit', (code) => reject(new Error(`exited ${code}: ${out.slice(-500)}`)));
  });
}

async function run(n) {
  // The head's own node offers no CPU: every task goes to a simulated node.
  const head = await child([CLI, 'start', '--head', '--block', '--port', '0', '--num-cpus', '0', '--no-dashboard', '--object-store-memory', String(64 * 2 ** 20)], /listening at (ws:\/\/\S+) \(pid (\d+)\)/);
  const address = head.m[1].replace(/\/\/[^:]+:/, '//127.0.0.1:');
  const pid = Number(head.m[2]);
  const sims = [];
  try {
    // Two processes host the simulated nodes, so their own work spreads over both cores.
    const per = Math.ceil(n / 2);
    for (let k = 0; k < n; k += per) sims.push(await child([join(ROOT, 'bench', 'cluster', 'sim-nodes.mjs'), address, String(Math.min(per, n - k)), '4'], /ready (\d+)/));
    progress(`${n} nodes joined; measuring the idle head for ${IDLE_S} s`);
    const c0 = cpuOf(pid);
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idleCpu = (cpuOf(pid) - c0) / IDLE_S;

    await tsray.init({ address, token: TOKEN });
    const greet = (await tsray.load(join(ROOT, 'build', 'text.wasm'))).fn('greet');
    // Warm-up: the component reaches the head once, the JIT warms.
    await tsray.get(Array.from({ length: 2000 }, () => greet.remote('w')));
    const c1 = cpuOf(pid);
    const t0 = performance.now();
    const BATCH = 10_000;
    for (let done = 0; done < TASKS; done += BATCH) {
      const refs = Array.from({ length: Math.min(BATCH, TASKS - done) }, () => greet.remote('x'));
      const got = await tsray.get(refs);
      if (got.some((v) => v !== 'done')) throw new Error('a task came back wrong');
      for (const r of refs) r.release();
      progress(`${n} nodes: ${fmtInt(done + refs.length)}/${fmtInt(TASKS)} tasks`);
    }
    const s = (performance.now() - t0) / 1000;
    const busyCpu = cpuOf(pid) - c1;
    await tsray.shutdown();
    return { n, idleCpu, heartbeats: n / 1, rate: TASKS / s, seconds: s, cpuPerTaskUs: (busyCpu / TASKS) * 1e6, busyShare: busyCpu / s };
  } finally {
    for (const s of sims) s.c.kill('SIGTERM');
    head.c.kill('SIGTERM');
  }
}

const rows = [];
for (const n of SIZES) rows.push(await run(n));
const pct = (x) => `${(100 * x).toFixed(1)}%`;
printTable([
  ['nodes', 'idle head CPU', 'heartbeats/s', `time to place and finish ${fmtInt(TASKS)} tasks`, 'decisions/s', 'head CPU per task', 'head CPU while placing'],
  ...rows.map((r) => [String(r.n), pct(r.idleCpu), fmtInt(r.heartbeats), `${r.seconds.toFixed(1)} s`, fmtInt(r.rate), `${r.cpuPerTaskUs.toFixed(0)} us`, pct(r.busyShare)]),
]);
const last = rows.at(-1);
const first = rows[0];
const perNodeIdle = (last.idleCpu - first.idleCpu) / (last.n - first.n);
console.log(`\nAt 1,000 nodes (extrapolated): heartbeats ${fmtInt(1000)}/s costing about ${pct(Math.max(0, last.idleCpu + perNodeIdle * (1000 - last.n)))} of one core idle;`);
console.log(`the head's CPU per task went from ${first.cpuPerTaskUs.toFixed(0)} us at ${first.n} nodes to ${last.cpuPerTaskUs.toFixed(0)} us at ${last.n}, so one head core places at most about ${fmtInt(1e6 / (last.cpuPerTaskUs + (last.cpuPerTaskUs - first.cpuPerTaskUs) / (last.n - first.n) * (1000 - last.n)))} tasks/s at 1,000 nodes while every task passes through it.`);
console.log(`Simulated nodes: ${SIZES.join(' and ')} WebSocket connections with 4 CPUs each, heartbeat every 1 s, each task answered at once; one driver, ${fmtInt(TASKS)} tiny tasks in batches of 10,000; this machine: 2 cores.`);
