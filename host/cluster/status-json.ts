/**
 * `tsray status --json`: the cluster as a documented, versioned document
 * (not the head's wire frame). Fields are added in later versions, never
 * renamed or removed within one `schema`.
 */
import type { AcceleratorDevice } from '../accel/accelerator-device.js';
import type { StatusReply } from './protocol.js';

/** Resource amounts by name (`CPU`, `GPU`, `memory`, `object_store_memory`, custom ones). */
export type Amounts = Record<string, number>;

export interface NodeStatusJson {
  nodeId: string;
  /** `host:pid` of the node process. */
  name: string;
  state: 'ALIVE' | 'DEAD';
  pid: number;
  /** Its object server (`ws://HOST:PORT`), where other nodes pull its objects. */
  objectAddress: string;
  /** Total resources it offers. */
  resources: Amounts;
  /** Free now (as of its last heartbeat, less what the head sent it since). */
  available: Amounts;
  /** `resources - available`. */
  used: Amounts;
  /** Milliseconds since its last heartbeat. */
  lastSeenMs: number;
  /** Why it is dead (DEAD only). */
  cause?: string;
  /** Its GPUs, with the device memory tasks hold on each. */
  devices?: AcceleratorDevice[];
}

export interface ClusterStatusJson {
  /** `tsray.status/1`. */
  schema: 'tsray.status/1';
  /** When the head answered, ISO 8601. */
  time: string;
  clusterId: string;
  /** Drivers connected now. */
  drivers: number;
  /** Sums over the live nodes. */
  resources: { total: Amounts; used: Amounts; available: Amounts };
  nodes: NodeStatusJson[];
  /** Resource requests no live node can hold now, by shape. */
  demands: { shape: Amounts; count: number }[];
  /** Worker leases drivers hold now (their tasks go straight to nodes). */
  leases: number;
  /** Tasks the head itself placed since it started (leased tasks pass it by). */
  routedTasks: number;
  /** Actor calls the head itself routed since it started (calls on actor routes pass it by). */
  routedCalls: number;
}

const minus = (a: Amounts, b: Amounts): Amounts => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));

function add(into: Amounts, a: Amounts): void {
  for (const [k, v] of Object.entries(a)) into[k] = (into[k] ?? 0) + v;
}

/** The head's status reply as the documented document. */
export function statusJson(s: Omit<StatusReply, 't' | 'id'>, now = new Date()): ClusterStatusJson {
  const total: Amounts = {};
  const available: Amounts = {};
  const nodes = s.nodes.map((n): NodeStatusJson => {
    if (n.state === 'ALIVE') { add(total, n.resources); add(available, n.available); }
    return {
      nodeId: n.nodeId, name: n.name, state: n.state, pid: n.pid, objectAddress: n.objectAddress,
      resources: n.resources, available: n.available, used: minus(n.resources, n.available), lastSeenMs: n.lastSeenMs,
      ...(n.cause !== undefined ? { cause: n.cause } : {}), ...(n.devices ? { devices: n.devices } : {}),
    };
  });
  return {
    schema: 'tsray.status/1', time: now.toISOString(), clusterId: s.clusterId, drivers: s.drivers,
    resources: { total, used: minus(total, available), available }, nodes, demands: s.demands,
    leases: s.leases ?? 0, routedTasks: s.routedTasks ?? 0, routedCalls: s.routedCalls ?? 0,
  };
}
