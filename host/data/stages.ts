/**
 * The stages of a plan: map-like transforms run as component tasks, one per
 * block (`MapOp`, fused when they may be), and stages run in this process
 * over the blocks flowing by (`HostOp`: limits, column selection, the
 * all-to-all exchanges).
 */
import type { RemoteFunction } from '../api/remote-function.js';
import { fusesChains } from '../api/remote-function.js';
import type { TaskOptions } from '../core/options.js';
import type { Each } from '../core/specs.js';
import type { ObjectRef } from '../../store/object-ref.js';
import type { Block } from '../abi/block.js';
import type { FilePart } from '../files/part.js';
import { RuntimeStateError } from '../errors.js';
import { DataContext } from './context.js';
import { inputDone, type StageStats } from './stats.js';
import { drop, observe, type BlockStream, type Flowing } from './stream.js';

/** How many actors run a stateful transform (Ray's `ActorPoolStrategy`; made by `actorPool`). */
export interface ActorPoolStrategy {
  readonly kind: 'actor-pool';
  readonly size: number;
}

/** Options of a map-like transform: the task options of its function's tasks, and arguments after the block (Ray's `fn_args`). */
export type MapOptions = Pick<TaskOptions, 'numCpus' | 'numGpus' | 'resources' | 'memory' | 'maxRetries' | 'schedulingStrategy'> & {
  fnArgs?: unknown[];
  /** `'tasks'` (the default) for a function; `actorPool({ size })` for an actor class. */
  compute?: 'tasks' | ActorPoolStrategy;
  /** An actor class's constructor arguments (Ray's `fn_constructor_args`). */
  fnConstructorArgs?: unknown[];
  /** The actor method each block goes to (default `call`, as Ray calls `__call__`). */
  method?: string;
};

/** A component function run on every block as a task. */
export interface MapOp {
  kind: 'map';
  name: string;
  /** The function, or how to load it (tsray's own read components load when first run). */
  fn: RemoteFunction | (() => Promise<RemoteFunction>);
  opts: MapOptions;
  /** How its function takes each block: on batches of rows, or row by row (`map`, `flatMap`); absent: whole. */
  each?: Each;
  /** A read: its tasks spread over the cluster, as Ray spreads read tasks, unless a transform fused with it says where to run. */
  spread?: boolean;
  /** A file read: each input's one argument is a file part its task reads (`TaskSpec.read`), not an argument of `fn`. */
  readsFiles?: boolean;
}

/** A stage run in this process over the stream of blocks before it. */
export interface HostOp {
  kind: 'host';
  name: string;
  run(input: BlockStream, stage: StageStats): BlockStream;
}

export type Op = MapOp | HostOp;

/** What a task of a first stage starts from: a block, or the arguments of a read. */
export type Input = Flowing | { args: unknown[] };

/** What may change how a transform runs: stages fuse only when it is the same (Ray's same compute and resources). */
const taskKey = (o: MapOptions): string => {
  const { fnArgs: _args, ...rest } = o;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
};

/** `ops` in stages: runs of fusable map ops together (each alone when fusion is off or not run here), host ops alone. */
export function stagesOf(ops: readonly Op[]): (MapOp[] | HostOp)[] {
  const fuses = DataContext.optimizeFuseStages && fusesChains();
  const out: (MapOp[] | HostOp)[] = [];
  for (const op of ops) {
    const last = out.at(-1);
    if (op.kind === 'host') out.push(op);
    else if (fuses && Array.isArray(last) && taskKey(last[0]!.opts) === taskKey(op.opts)) last.push(op);
    else out.push([op]);
  }
  return out;
}

export const stageName = (s: MapOp[] | HostOp): string => (Array.isArray(s) ? s.map((o) => o.name).join('->') : s.name);

const resolve = async (fn: MapOp['fn']): Promise<RemoteFunction> => (typeof fn === 'function' ? fn() : fn);

/** Submits a task per input, the stage's ops fused in each, handing on each result as soon as submitted; inputs are dropped once their task holds them. */
export async function* runMap(inputs: AsyncIterable<Input>, ops: MapOp[], stage: StageStats): BlockStream {
  const fns = await Promise.all(ops.map((o) => resolve(o.fn)));
  const { fnArgs = [], ...taskOpts } = ops[0]!.opts;
  if (ops[0]!.spread && !ops.some((o) => o.opts.schedulingStrategy)) taskOpts.schedulingStrategy = 'SPREAD';
  const fn = Object.keys(taskOpts).length ? fns[0]!.options(taskOpts) : fns[0]!;
  const then = ops.slice(1).map((o, i) => ({ fn: fns[i + 1]!, args: o.opts.fnArgs ?? [], ...(o.each ? { each: o.each } : {}) }));
  const each = ops[0]!.each;
  const chains = fusesChains();
  for await (const input of inputs) {
    const t0 = performance.now();
    const args = 'ref' in input ? [input.ref, ...fnArgs] : input.args;
    // A file read shows under its read's name (read_text, ...), not the builtin function it belongs to.
    const read = ops[0]!.readsFiles ? { read: args[0] as FilePart, name: ops[0]!.name } : undefined;
    if (read && !chains) throw new RuntimeStateError('this runtime does not run file read tasks');
    // Through the chain path even alone (where the backend runs chains): it reports the task's run time.
    const r = (chains ? fn.remoteChain({ ...(each ? { each } : {}), ...read, ran: (ms) => stage.runMs.push(ms) }, then, ...(read ? [] : args)) : fn.remote(...args)) as ObjectRef<Block>;
    if ('ref' in input) drop(input);
    observe(stage, r, t0);
    yield { ref: r, own: true };
  }
  inputDone(stage);
}
