/**
 * Items a worker runs inside a guest call that blocks: tasks the node sent
 * to run inline (inline-runs.ts), and nested tasks its guest submitted and now
 * gets, run right here when the worker wins their claim (claims.ts). Each
 * runs on this thread's stack above the blocked call, in its own instance;
 * what the blocked item was doing is set aside and put back.
 */
import type { Res } from '../engine/host-imports.js';
import type { ResolvedWorld } from '../wit/types.js';
import { checkRemoteArgs } from '../core/remote-args.js';
import { funcUsesRefs } from '../core/ref-values.js';
import { exportFunc } from '../core/export-func.js';
import { encodeValue } from '../core/typed-array-cbor.js';
import type { WorkerClaims } from './claims.js';
import type { InlineRuns } from './inline-runs.js';
import type { LocalSubmit } from './runtime-client.js';
import type { Outcome, RunMsg, WorkItem } from './protocol.js';

/** How deep items may nest on one thread's stack (each is an instance and a few frames above the call below it). */
export const MAX_NESTED = 48;

/** What the worker loop lends its nested runs. */
export interface NestedSite {
  /** Sets aside what the running item is doing; the function returned puts it back. */
  setAside(): () => void;
  /** Runs `item` with its own log, posting its outcome. */
  run(item: WorkItem): void;
  /** The outcome posted last, if it is item `n`'s. */
  lastOutcome(n: number): Outcome | undefined;
  /** Sends what was posted. */
  flush(): void;
  /** The task running now (undefined for an actor's call). */
  runningTask(): RunMsg | undefined;
  /** The world of the module a task runs. */
  worldOf(key: string): ResolvedWorld | undefined;
}

export class NestedRuns {
  private depth = 0;

  constructor(private readonly site: NestedSite, private readonly inline: InlineRuns, readonly claims: WorkerClaims) {}

  private run(item: WorkItem): Outcome | undefined {
    const putBack = this.site.setAside();
    this.depth++;
    try {
      this.site.run(item);
    } finally {
      this.depth--;
      putBack();
    }
    return this.site.lastOutcome(item.t === 'actor-new' ? 0 : item.n);
  }

  /** Runs an item the node sent to run inline, if one is there. */
  runInline(): boolean {
    const item = this.inline.shift();
    if (!item) return false;
    const o = this.run(item);
    if (o?.ok) this.inline.made(item, o.value);
    this.site.flush();
    return true;
  }

  /** Whether the asking item may have nested tasks run here (a task, not too deep). */
  mayRunHere(): boolean {
    return this.site.runningTask() !== undefined && this.depth < MAX_NESTED;
  }

  /**
   * Runs a nested task its guest submitted and now gets, when it checks out
   * and this thread wins its claim; undefined otherwise (the usual way then).
   * The node learns the outcome from the result posted as for any task.
   */
  runHere(s: LocalSubmit): Res<Uint8Array> | undefined {
    const parent = this.site.runningTask();
    const world = parent && this.site.worldOf(parent.key);
    const e = world && exportFunc(world, s.fn);
    if (!parent || !e || this.depth >= MAX_NESTED) return undefined;
    try {
      checkRemoteArgs(e.func, e.func.params, s.args);
    } catch {
      return undefined;
    }
    // Refs as values need the node's scopes: such a task goes the usual way.
    if (funcUsesRefs(e.func) || !this.claims.take(s.claim)) return undefined;
    const o = this.run({ t: 'run', n: -s.claim, key: parent.key, fn: e.key, args: s.args, id: s.taskId, attempt: 0, devices: {}, ...(parent.log ? { log: parent.log } : {}) });
    // Encoded before the flush moves its buffers to the node.
    const r: Res<Uint8Array> = !o ? { tag: 'err', val: { code: 'ERR_INTERNAL', message: 'the task left no outcome' } }
      : o.ok ? { tag: 'ok', val: encodeValue(o.value) } : { tag: 'err', val: { code: o.error.code, message: o.error.message } };
    this.site.flush();
    return r;
  }
}
