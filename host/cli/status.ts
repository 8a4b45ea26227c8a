/** `tsray status`: the cluster's nodes, resources and pending demands, as `ray status` shows them. */
import type { Command } from 'commander';
import type { StatusReply } from '../cluster/protocol.js';
import { headOptions, withHead, type HeadOptions } from './head-connection.js';
import { statusJson } from '../cluster/status-json.js';

function fmtAmount(name: string, v: number): string {
  if (name === 'memory' || name === 'object_store_memory') return `${(v / 2 ** 30).toFixed(2)}GiB`;
  return Number.isInteger(v) ? `${v}.0` : String(Math.round(v * 1000) / 1000);
}

export function formatStatus(s: StatusReply, now = new Date()): string {
  const alive = s.nodes.filter((n) => n.state === 'ALIVE');
  const dead = s.nodes.filter((n) => n.state === 'DEAD');
  const line = '-'.repeat(63);
  const out = [`======== Cluster status: ${now.toISOString().replace('T', ' ').replace('Z', '')} ========`, `Cluster ${s.clusterId}, ${s.drivers} driver${s.drivers === 1 ? '' : 's'} connected`, 'Node status', line, 'Active:'];
  out.push(...(alive.length ? alive.map((n) => ` 1 node_${n.nodeId} (${n.name})${n.cause ? `: ${n.cause}` : ''}`) : [' (no active nodes)']));
  out.push('Dead:');
  out.push(...(dead.length ? dead.map((n) => ` 1 node_${n.nodeId} (${n.name}): ${n.cause ?? 'dead'}`) : [' (no dead nodes)']));
  out.push('', 'Resources', line, 'Usage:');
  const total: Record<string, number> = {};
  const free: Record<string, number> = {};
  for (const n of alive) {
    for (const [k, v] of Object.entries(n.resources)) total[k] = (total[k] ?? 0) + v;
    for (const [k, v] of Object.entries(n.available)) free[k] = (free[k] ?? 0) + v;
  }
  const names = Object.keys(total).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  for (const k of names) out.push(` ${fmtAmount(k, total[k]! - (free[k] ?? 0))}/${fmtAmount(k, total[k]!)} ${k}`);
  if (names.length === 0) out.push(' (no resources)');
  out.push('', 'Demands:');
  out.push(...(s.demands.length ? s.demands.map((d) => ` ${JSON.stringify(d.shape)}: ${d.count}+ pending tasks/actors`) : [' (no resource demands)']));
  out.push('', `Worker leases: ${s.leases ?? 0} held by drivers; ${s.routedTasks ?? 0} tasks and ${s.routedCalls ?? 0} actor calls routed through the head`);
  out.push('', 'Per node', line);
  for (const n of s.nodes) {
    const used = Object.keys(n.resources).sort((a, b) => order(a) - order(b) || a.localeCompare(b))
      .map((k) => `${fmtAmount(k, n.resources[k]! - (n.available[k] ?? 0))}/${fmtAmount(k, n.resources[k]!)} ${k}`).join(', ');
    out.push(` node_${n.nodeId} ${n.state} pid ${n.pid}: ${n.state === 'ALIVE' ? used : n.cause}`);
    // Which backend drives each GPU for tsray:accel, and the device memory tasks hold on it.
    for (const d of n.state === 'ALIVE' ? n.devices ?? [] : []) {
      const what = [d.vendor, d.description].filter(Boolean).join(' ');
      out.push(`   GPU ${d.id}: ${d.backend}${what ? ` (${what})` : ''}, ${(d.usedBytes / 2 ** 20).toFixed(1)}/${(d.memoryBytes / 2 ** 20).toFixed(1)} MiB held by tasks`);
    }
  }
  return out.join('\n');
}

function order(k: string): number {
  return ['CPU', 'GPU', 'memory', 'object_store_memory'].indexOf(k) >>> 0;
}

export function registerStatus(program: Command): void {
  headOptions(program.command('status').description('show the cluster: nodes alive and dead, resources used and total, pending demands'),
    'the head (default: the head started on this machine)')
    .option('--json', 'print the status as JSON (schema tsray.status/1, see README)')
    .action(async (o: HeadOptions & { json?: boolean }) => {
      const s = await withHead(o, (peer) => peer.request<StatusReply>({ t: 'status', id: 0 }));
      process.stdout.write((o.json ? JSON.stringify(statusJson(s), null, 2) : formatStatus(s)) + '\n');
    });
}
