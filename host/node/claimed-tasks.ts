/**
 * The scheduler's side of claims (worker/claims.ts): nested tasks whose
 * parent's worker may run them itself. Before the node runs such a task
 * anywhere it must win the claim; when the worker won it, the task counts as
 * running on that worker and its outcome comes back as any task's does.
 */
import { nodeTakes } from '../worker/claims.js';
import type { Slot, Task } from './task.js';

/** Takes claim `k` of `slot`'s worker for the node before the task is sent elsewhere: false when the worker already runs it. */
export function nodeTakesClaim(claim: { k: number; slot: Slot }): boolean {
  return nodeTakes(claim.slot.worker.claims, claim.k);
}

/** Registers `task` under claim `k` of `slot`'s worker. */
export function claimFor(task: Task, k: number, slot: Slot): void {
  task.claim = { k, slot };
  slot.claimed.set(k, task);
}

/** Drops `task`'s claim: it ended, or it runs again and is the node's to place. */
export function forgetClaim(task: Task): void {
  if (!task.claim) return;
  task.claim.slot.claimed.delete(task.claim.k);
  task.claim = undefined;
}

/**
 * Whether the node may run `task`: it has no claim, or the node won it.
 * When the worker won, the task is marked running there.
 */
export function nodeRuns(task: Task): boolean {
  const c = task.claim;
  if (!c) return true;
  if (nodeTakes(c.slot.worker.claims, c.k)) {
    forgetClaim(task);
    return true;
  }
  if (task.state !== 'running') {
    task.state = 'running';
    task.slot = c.slot;
  }
  return false;
}

/** The claimed task running on `slot`'s worker as item `-k` (it is running there if it asks something). */
export function claimedTask(slot: Slot, k: number): Task | undefined {
  const t = slot.claimed.get(k);
  if (t && t.state === 'queued') nodeRuns(t);
  return t;
}

/**
 * `slot`'s worker is lost: the claimed tasks it was running (to be run
 * again or failed, as its other tasks); claims it had not taken are the
 * node's from now on.
 */
export function claimsLostWith(slot: Slot): Task[] {
  const out: Task[] = [];
  for (const t of [...slot.claimed.values()]) {
    const itsOwn = !nodeRuns(t);
    forgetClaim(t);
    if (itsOwn && t.state !== 'done') out.push(t);
  }
  return out;
}
