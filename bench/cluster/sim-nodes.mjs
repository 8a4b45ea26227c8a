// A process for bench/cluster-scale.mjs hosting many simulated nodes: each a real WebSocket
// connection to the head that says hello as a node, heartbeats every second as real nodes do
// (host/cluster/node-agent.ts), and answers every task it is sent at once. So the head does all
// its real work (membership, heartbeats, placement, routing results) for nodes that cost little.
//
//   node bench/cluster/sim-nodes.mjs ws://HEAD:PORT COUNT CPUS_PER_NODE   (token in TSRAY_TOKEN)
import { randomBytes } from 'node:crypto';
import { connect } from '../../dist/host/cluster/connect.js';
import { HEARTBEAT_MS } from '../../dist/host/cluster/node-agent.js';

const [address, countArg, cpusArg] = process.argv.slice(2);
const token = process.env.TSRAY_TOKEN;
const count = Number(countArg);
const cpus = Number(cpusArg);
let answered = 0;

const peers = [];
for (let i = 0; i < count; i++) {
  const nodeId = randomBytes(8).toString('hex');
  const { peer } = await connect(address, token, 'node', {
    onFrame: (f, p) => {
      if (f.t === 'run') { answered++; p.send({ t: 'result', taskId: f.task.taskId, ok: true, returns: [{ value: 'done' }] }); }
    },
    onClose: () => process.exit(0),
  }, { node: { nodeId, name: `sim-${i}`, pid: process.pid, resources: { CPU: cpus }, objectAddress: 'ws://127.0.0.1:9' } });
  peers.push(peer);
}
setInterval(() => { for (const p of peers) p.send({ t: 'heartbeat', available: { CPU: cpus } }); }, HEARTBEAT_MS);
process.stdout.write(`ready ${count}\n`);
process.on('SIGTERM', () => { process.stderr.write(`answered ${answered}\n`); process.exit(0); });
