// A second process for bench/cluster.mjs: holds a sealed object in its own store behind an
// object server (`object` mode), or streams the same bytes over a bare WebSocket or TCP socket.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { ObjectStore } from '../../dist/store/object-store.js';
import { ObjectServer } from '../../dist/host/cluster/object-transfer.js';

const [mode, sizeArg, token] = process.argv.slice(2);
const size = Number(sizeArg);
const CHUNK = 4 * 2 ** 20;
const data = new Uint8Array(size);
for (let i = 0; i < size; i += 4096) data[i] = i & 0xff;

if (mode === 'object') {
  const store = new ObjectStore({
    nodeId: 'owner00000000000', capacity: size + 64 * 2 ** 20, spillDir: mkdtempSync(join(tmpdir(), 'tsray-bench-owner-')),
    spillThreshold: 1, minSpillBytes: 2 ** 30, localFsCapacityThreshold: 1, recordTaskCallSites: false,
  });
  const ref = store.put(data);
  globalThis.keepAlive = ref; // module bindings no closure uses can be collected once the module has run
  const server = await ObjectServer.start(store, token, '127.0.0.1');
  process.stdout.write(JSON.stringify(server.location('owner', ref.id, 0)) + '\n');
} else if (mode === 'ws') {
  // The best a bare ws stream does: server -> client (unmasked), 4 MiB binary frames, a few in flight.
  const wss = new WebSocketServer({ port: 0, perMessageDeflate: false, maxPayload: 64 * 2 ** 20 });
  wss.on('connection', (ws) => ws.on('message', () => {
    let next = 0;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < 4 && next < size) {
        const end = Math.min(size, next + CHUNK);
        inFlight++;
        ws.send(data.subarray(next, end), { binary: true }, () => { inFlight--; pump(); });
        next = end;
      }
    };
    pump();
  }));
  wss.on('listening', () => process.stdout.write(JSON.stringify({ port: wss.address().port }) + '\n'));
} else if (mode === 'tcp') {
  const srv = createServer((sock) => sock.once('data', () => {
    let next = 0;
    const pump = () => {
      while (next < size) {
        const end = Math.min(size, next + CHUNK);
        const ok = sock.write(data.subarray(next, end));
        next = end;
        if (!ok) { sock.once('drain', pump); return; }
      }
    };
    pump();
  }));
  srv.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: srv.address().port }) + '\n'));
}
