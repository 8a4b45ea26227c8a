/**
 * The worker's side of tsray:accel: one session per task (or per actor, for
 * its whole life), each a scope on the node's device thread that is closed
 * when the task ends, whatever way it ends. A worker that is terminated
 * (timeout, forced cancel) closes its link, which closes its scopes there.
 */
import { SyncLink } from '../accel/link.js';
import { accelImports, type AccelSession } from '../accel/guest-api.js';
import type { AccelGrant } from '../accel/protocol.js';
import type { LinkEnd } from '../accel/protocol.js';
import type { HostImports } from '../engine/host-imports.js';
import { OutOfMemoryError, TaskError } from '../errors.js';

const NONE: AccelGrant = { ids: [], share: 0 };

export class AccelSessions {
  private readonly link: SyncLink | undefined;
  private readonly actors = new Map<number, AccelSession>();
  private active: AccelSession;
  private nextScope = 1;
  /** The tsray:accel imports every instance in this worker shares. */
  readonly imports: HostImports;

  constructor(end: LinkEnd | undefined, private readonly checkpoint: () => void) {
    this.link = end ? new SyncLink(end) : undefined;
    this.active = this.make(undefined);
    this.imports = accelImports(() => this.active);
  }

  private make(grant: AccelGrant | undefined): AccelSession {
    const s: AccelSession = { scope: `s${this.nextScope++}`, grant: grant ?? NONE, opened: false, checkpoint: () => this.checkpoint() };
    if (this.link) s.link = this.link;
    return s;
  }

  /** A task starts: a fresh scope. */
  beginTask(grant: AccelGrant | undefined): void {
    this.active = this.make(grant);
  }

  /** An actor's constructor or method runs: its own scope (a fresh one when `fresh`, e.g. after a restart). */
  beginActor(aid: number, grant: AccelGrant | undefined, fresh = false): void {
    let s = this.actors.get(aid);
    if (s && fresh) { this.close(s); s = undefined; }
    if (!s) this.actors.set(aid, (s = this.make(grant)));
    this.active = s;
  }

  /** An item runs inline inside the running one's blocked call: the running one's scope, to put back with `restore`. */
  setAside(): AccelSession {
    return this.active;
  }

  restore(s: AccelSession): void {
    this.active = s;
  }

  /** The task ends: everything it created on a device is destroyed before its result leaves. */
  endTask(): void {
    this.close(this.active);
    this.active = this.make(undefined);
  }

  /** The actor is gone for good. */
  endActor(aid: number): void {
    const s = this.actors.get(aid);
    if (s) this.close(s);
    this.actors.delete(aid);
  }

  /**
   * The error a failed item reports: a trap that follows a device-memory
   * refusal the guest did not handle is that refusal, as an `OutOfMemoryError`.
   */
  explain(e: unknown): unknown {
    const f = this.active.lastFailure;
    if (f?.code === 'out-of-memory' && e instanceof TaskError && !(e instanceof OutOfMemoryError)) {
      return new OutOfMemoryError(e.functionName, f.message, { cause: e });
    }
    return e;
  }

  private close(s: AccelSession): void {
    if (!s.opened || !this.link) return;
    s.opened = false;
    try {
      this.link.call(s.scope, undefined, 'close', [], () => undefined);
    } catch {
      // The device thread is gone: nothing is left to free.
    }
  }
}
