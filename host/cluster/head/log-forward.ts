/**
 * Guest log lines from nodes go to the driver whose work wrote them: the
 * task or actor named by the line's route must be on the node that sent it,
 * and the head, not the node, says which node and process that was.
 */
import type { Peer } from '../peer.js';
import { CLOSE, type Hello, type LogFrame } from '../protocol.js';
import type { NodeTable } from './node-table.js';
import type { Router } from './router.js';
import type { ActorDirectory } from './actor-directory.js';

export function forwardLog(f: LogFrame, peer: Peer, hello: Hello, nodes: NodeTable, router: Router, actors: ActorDirectory): void {
  const n = nodes.sender(peer, hello);
  if (!n) { peer.close(CLOSE.MALFORMED, 'log from a connection that is not a live node'); return; }
  const nodeId = n.info.nodeId;
  const actor = actors.get(f.route);
  // A line of work that ended, moved to another node or was never here is dropped.
  const driver = router.driverOf(f.route, nodeId) ?? (actor?.node === nodeId ? actor.driver : undefined);
  driver?.send({ t: 'log', route: f.route, level: f.level, who: f.who, text: f.text, node: nodeId, pid: n.info.pid });
}
