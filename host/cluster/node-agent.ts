/**
 * A cluster node: a local node (scheduler, worker threads, object store)
 * that joins the head, reports its resources, and heartbeats what is free.
 * If the head goes away the agent says so at once, rather than hanging.
 */
import { hostname } from 'node:os';
import { EmbeddedNode, type InitOptions } from '../runtime/node.js';
import { connect } from './connect.js';
import type { Peer } from './peer.js';

/** How often a node reports to the head. */
export const HEARTBEAT_MS = 1000;

export class NodeAgent {
  private readonly timer: NodeJS.Timeout;

  private constructor(readonly node: EmbeddedNode, private readonly peer: Peer) {
    this.timer = setInterval(() => this.peer.send({ t: 'heartbeat', available: this.node.scheduler.availableResources() }), HEARTBEAT_MS);
  }

  /** Starts a local node and joins it to the head at `address`. `onHeadLost` runs if the head connection ends. */
  static async join(address: string, token: string, opts: InitOptions, onHeadLost: (why: string) => void): Promise<NodeAgent> {
    const node = new EmbeddedNode(opts);
    let agent: NodeAgent | undefined;
    try {
      const { peer } = await connect(address, token, 'node', {
        onClose: (code, reason) => { if (agent) { agent.stopTimer(); onHeadLost(`the head at ${address} closed the connection (${code}${reason ? `: ${reason}` : ''})`); } },
      }, { nodeId: node.nodeId, name: `${hostname()}:${process.pid}`, pid: process.pid, resources: node.scheduler.totalResources() });
      agent = new NodeAgent(node, peer);
      return agent;
    } catch (e) {
      await node.close(e as Error);
      throw e;
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  async close(): Promise<void> {
    this.stopTimer();
    this.peer.close();
    await this.node.close(new Error('the node stopped'));
  }
}
