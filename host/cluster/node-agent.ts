/**
 * A cluster node: a local node (scheduler, worker threads, object store)
 * that joins the head, reports its resources, heartbeats what is free, and
 * runs the tasks the head sends it on its own scheduler. Components arrive
 * once per node, by content hash. Large results stay here (the driver gets
 * their location) until the driver lets them go; arguments held by other
 * nodes are pulled straight into this node's store. If the head goes away the agent says so
 * at once, rather than hanging.
 */
import { hostname } from 'node:os';
import { EmbeddedNode, type InitOptions } from '../runtime/node.js';
import { loadComponent, type LoadedComponent } from '../component/load.js';
import { ComponentError } from '../errors.js';
import type { ObjectRef } from '../objects/object-ref.js';
import { connect } from './connect.js';
import { publicHost } from './host-address.js';
import type { Peer } from './peer.js';
import type { ComponentReply, Frame, ReturnValue, TaskFrame } from './protocol.js';
import { toWire } from './wire-error.js';
import { ObjectPuller, ObjectServer } from './object-transfer.js';
import { remoteLocation } from './remote-arg.js';

/** How often a node reports to the head. */
export const HEARTBEAT_MS = 1000;

export class NodeAgent {
  private readonly timer: NodeJS.Timeout;
  private beatSoon: NodeJS.Timeout | undefined;
  private readonly components = new Map<string, Promise<LoadedComponent>>();
  /** Tasks running here, by id: their result refs (for cancel). */
  private readonly running = new Map<string, ObjectRef[]>();
  /** Results kept here for drivers elsewhere, by object id. */
  private readonly held = new Map<string, ObjectRef>();
  private readonly puller: ObjectPuller;

  private constructor(readonly node: EmbeddedNode, private readonly peer: Peer, private readonly server: ObjectServer, token: string) {
    this.puller = new ObjectPuller(node.objects, token);
    this.timer = setInterval(() => this.beat(), HEARTBEAT_MS);
  }

  private beat(): void {
    this.peer.send({ t: 'heartbeat', available: this.node.scheduler.availableResources() });
  }

  /** Reports free resources soon after they change, so `tsray status` is current (at most every 50 ms). */
  private beatAfterChange(): void {
    this.beatSoon ??= setTimeout(() => { this.beatSoon = undefined; this.beat(); }, 50);
  }

  /** Frames from the head after the handshake. */
  handle(f: Frame): void {
    if (f.t === 'run') void this.run(f.task);
    else if (f.t === 'cancel') {
      const refs = this.running.get(f.taskId);
      if (refs) this.node.scheduler.cancel(refs[0]!, f.force);
    } else if (f.t === 'free') {
      for (const id of f.objectIds) { this.held.get(id)?.release(); this.held.delete(id); }
    }
  }

  private component(hash: string): Promise<LoadedComponent> {
    let c = this.components.get(hash);
    if (!c) {
      c = this.peer.request<ComponentReply>({ t: 'need-component', id: 0, hash }).then((r) => {
        if (!r.bytes) throw new ComponentError(`the head does not have component ${hash}`);
        return loadComponent(r.bytes);
      });
      // A failed fetch is not cached: the next task asks again.
      c.catch(() => this.components.delete(hash));
      this.components.set(hash, c);
    }
    return c;
  }

  private async run(task: TaskFrame): Promise<void> {
    const pulled: ObjectRef[] = [];
    const reply = (ok: boolean, payload: { returns?: ReturnValue[]; error?: unknown }): void => {
      this.running.delete(task.taskId);
      for (const r of pulled) r.release();
      this.beatAfterChange();
      this.peer.send(ok ? { t: 'result', taskId: task.taskId, ok, returns: payload.returns! } : { t: 'result', taskId: task.taskId, ok, error: toWire(payload.error) });
    };
    let refs: ObjectRef[];
    try {
      const component = await this.component(task.hash);
      // Arguments held by other nodes come straight into this store; the task then reads them in place.
      const args = await Promise.all(task.args.map(async (a) => {
        const loc = remoteLocation(a);
        if (!loc) return a;
        // An object this node holds is passed as it is, not pulled from itself.
        const here = loc.nodeId === this.node.nodeId ? this.held.get(loc.objectId) : undefined;
        if (here) return here;
        const r = await this.puller.pull(loc);
        pulled.push(r);
        return r;
      }));
      refs = this.node.scheduler.submit({ component, name: task.name, fn: task.fn, args, opts: task.opts, ...(task.attempt ? { attempt: task.attempt } : {}) });
    } catch (e) {
      reply(false, { error: e });
      return;
    }
    this.running.set(task.taskId, refs);
    let left = refs.length;
    for (const r of refs) {
      this.node.objects.onSettled(r, () => {
        if (--left > 0) return;
        const keep: ObjectRef[] = [];
        try {
          const failed = refs.map((x) => this.node.objects.peek(x)).find((st) => st && !st.ok);
          if (failed && !failed.ok) throw failed.error;
          const returns = refs.map((x): ReturnValue => {
            const size = this.node.objects.blockSize(x);
            if (size === undefined) return { value: this.node.objects.value(x) };
            // A sealed block stays here; the driver fetches it, or another node pulls it, when needed.
            keep.push(x);
            this.held.set(x.id, x);
            return { object: { nodeId: this.node.nodeId, address: this.server.address, objectId: x.id, size } };
          });
          reply(true, { returns });
        } catch (e) {
          reply(false, { error: e });
        } finally {
          for (const x of refs) if (!keep.includes(x)) x.release();
        }
      });
    }
  }

  /** Starts a local node and joins it to the head at `address`. `onHeadLost` runs if the head connection ends. */
  static async join(address: string, token: string, opts: InitOptions, onHeadLost: (why: string) => void, advertiseHost = publicHost()): Promise<NodeAgent> {
    const node = new EmbeddedNode(opts);
    const server = await ObjectServer.start(node.objects, token, advertiseHost);
    let agent: NodeAgent | undefined;
    const early: Frame[] = [];
    try {
      const { peer } = await connect(address, token, 'node', {
        onFrame: (f) => { if (agent) agent.handle(f); else early.push(f); },
        onClose: (code, reason) => { if (agent) { agent.stopTimer(); onHeadLost(`the head at ${address} closed the connection (${code}${reason ? `: ${reason}` : ''})`); } },
      }, { nodeId: node.nodeId, name: `${hostname()}:${process.pid}`, pid: process.pid, resources: node.scheduler.totalResources(), objectAddress: server.address });
      agent = new NodeAgent(node, peer, server, token);
      for (const f of early.splice(0)) agent.handle(f);
      return agent;
    } catch (e) {
      await server.close();
      await node.close(e as Error);
      throw e;
    }
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    if (this.beatSoon) clearTimeout(this.beatSoon);
  }

  get nodeId(): string {
    return this.node.nodeId;
  }

  async close(): Promise<void> {
    this.stopTimer();
    this.peer.close();
    this.puller.close();
    await this.server.close();
    await this.node.close(new Error('the node stopped'));
  }
}
