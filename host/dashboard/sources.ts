/**
 * What the dashboard reads: a cluster's head (its gathers from every node
 * and driver) or an embedded node (its own reports).
 */
import { hostname } from 'node:os';
import type { EmbeddedNode } from '../node/node.js';
import { nodeMemory } from '../node/memory-report.js';
import type { Head } from '../cluster/head.js';
import { statusJson } from '../cluster/status-json.js';
import type { DashboardSource } from './snapshot.js';

/** The head's view of the cluster, with the jobs it runs. */
export function headSource(head: Head): DashboardSource {
  return {
    status: async () => statusJson(head.status(0)),
    state: () => head.gatherState(),
    memory: () => head.gatherMemory(),
    logs: () => head.gatherLogs(),
    jobs: async () => head.jobs?.list() ?? [],
  };
}

/** An embedded node's view of itself, as a one-node cluster. */
export function nodeSource(node: EmbeddedNode): DashboardSource {
  return {
    status: async () => statusJson({
      clusterId: node.nodeId, drivers: 1, demands: [],
      nodes: [{
        nodeId: node.nodeId, name: `${hostname()}:${process.pid}`, pid: process.pid, objectAddress: 'embedded', state: 'ALIVE',
        resources: node.scheduler.totalResources(), available: node.scheduler.availableResources(), lastSeenMs: 0,
      }],
    }),
    state: async () => ({ items: [node.stateReport()], missing: [] }),
    memory: async () => ({ items: [nodeMemory(node, node.memoryIdentity)], missing: [] }),
    logs: async () => ({ items: [node.logReport()], missing: [] }),
  };
}
