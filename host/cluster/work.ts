/**
 * What a submitter (remote-work.ts) carries: each piece of work with its
 * arguments, results and the way it goes, and what else it may come with.
 */
import type { ObjectRef } from '../../store/object-ref.js';
import type { LoadedComponent } from '../component/loaded.js';
import type { Lane, Waiting } from '../core/pending-work.js';
import type { Frame } from './protocol.js';
import type { StreamSink } from '../core/specs.js';
import type { RemoteLocation } from '../../store/object-store.js';
import type { WireRef } from './wire-refs.js';
import type { ActorPath, Way } from './actor-path.js';

/** Something sent to the head once its ref arguments are ready: a task, an actor's creation, or an actor call. */
export interface Work extends Waiting {
  id: string;
  name: string;
  component: LoadedComponent;
  args: unknown[];
  /** Large plain arguments put into the driver's store for it (released when it ends). */
  temps: ObjectRef[];
  returns: ObjectRef[];
  state: 'waiting' | 'sent' | 'done';
  /** Refs passed at `object-ref` positions (held, and ready before it goes). */
  refArgs: readonly ObjectRef[];
  /** Where a streaming task's emitted values go. */
  stream: StreamSink | undefined;
  /** The frame to send, given its id, its arguments as they travel and the refs passed as values. */
  frame: (id: string, args: unknown[], refs: WireRef[] | undefined) => Frame;
  /** Work that must be sent in order with other work (an actor's calls); undefined: as soon as ready. */
  queue: WorkQueue | undefined;
  /** Every component it runs: its own, then a fused task's others. */
  components: readonly LoadedComponent[];
  /** Told how long it ran on its node's worker, when the node says (`TaskSpec.ran`). */
  ran: ((ms: number) => void) | undefined;
  /** How often its task may run again to make lost results (absent: never, see lineage.ts), and how often it did. */
  maxRetries: number | undefined;
  rebuilds: number;
  /** A plain task that may go on a worker lease of this shape (lease-pool.ts); absent: through the head. */
  lease: LeaseShape | undefined;
  /** Times it was lost with a leased node (the head counts its own routed tasks' attempts). */
  attempts: number;
  /** The way an actor call went, while it is in flight (actor-path.ts). */
  way: Way | undefined;
}

/** The resource shape of a task that may go on a worker lease. */
export interface LeaseShape {
  shape: string;
  request: Record<string, number>;
}

/** What else work may come with. */
export interface WorkExtras {
  /** Sent in order with the rest of this lane. */
  queue?: WorkQueue;
  /** Refs passed at `object-ref` positions (the args hold their `{ objectId }`). */
  borrowed?: readonly ObjectRef[];
  /** Ids its submitter drew for the results. */
  returnIds?: readonly string[];
  /** Its id, when its submitter drew one (a nested task's, which carries its parent's lineage). */
  id?: string;
  /** A streaming task's sink (`numReturns: 'streaming'`). */
  stream?: StreamSink;
  /** Other components it runs (a fused task's later functions): shipped with it. */
  components?: readonly LoadedComponent[];
  /** Told its run time on the node (`TaskSpec.ran`). */
  ran?: (ms: number) => void;
  /** A task whose results may be made again, this many times (lineage.ts); also its retries when a leased node is lost. */
  maxRetries?: number;
  /** It may go on a worker lease of this shape. */
  lease?: LeaseShape;
}

/** How the submitter treats what it sends and receives. */
export interface SubmitterOptions {
  /** Whether component bytes go to the head with the first work that needs them (a driver's do; a node's came from the head). */
  shipComponents: boolean;
  /** Settles pending `ref` as the object at `loc`: a driver reads it on demand, a node pulls it here first. */
  land: (ref: ObjectRef, loc: RemoteLocation) => void;
}

/** Work sent in order (an actor's creation and calls), with the way the calls of that actor go. */
export interface WorkQueue {
  lane: Lane<Work>;
  path: ActorPath | undefined;
}
