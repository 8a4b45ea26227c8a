/**
 * Stateful transforms: `mapBatches(mod.actor('scaler'), { compute:
 * actorPool({ size: 2 }), fnConstructorArgs: [3] })` creates the actors
 * once, then sends each block to the least busy one's method (Ray's
 * `ActorPoolStrategy`). The actors are killed once the stage's last block
 * is done, or at once when its consumer stops early.
 */
import { wait } from '../api/api.js';
import { kill } from '../api/actors.js';
import type { ActorClass, ActorHandle } from '../api/actor-handle.js';
import type { ObjectRef } from '../../store/object-ref.js';
import { InvalidArgumentError } from '../errors.js';
import type { Block } from '../abi/block.js';
import type { ActorPoolStrategy, HostOp, MapOptions } from './stages.js';

export type { ActorPoolStrategy };
import { inputDone } from './stats.js';
import { drop, observe } from './stream.js';
import { wholeNumber } from './checks.js';

/** A pool of `size` actors for `mapBatches` of an actor class. */
export function actorPool(o: { size?: number } = {}): ActorPoolStrategy {
  return { kind: 'actor-pool', size: wholeNumber(o.size ?? 1, 1, 'the size of an actor pool') };
}

export const isActorPool = (c: unknown): c is ActorPoolStrategy => (c as ActorPoolStrategy | undefined)?.kind === 'actor-pool';

export function actorPoolOp(cls: ActorClass, name: string, opts: MapOptions): HostOp {
  const { compute, fnArgs = [], fnConstructorArgs = [], method = 'call', ...actorOpts } = opts;
  if (!isActorPool(compute)) throw new InvalidArgumentError(`${name} of an actor class needs compute: tsray.data.actorPool({ size })`);
  return {
    kind: 'host',
    name,
    async *run(input, stage) {
      const options = Object.keys(actorOpts).length ? cls.options(actorOpts as Parameters<ActorClass['options']>[0]) : cls;
      const pool = Array.from({ length: compute.size }, () => ({ h: options.remote(...fnConstructorArgs) as ActorHandle, busy: 0 }));
      // Calls not done yet; once the input has ended, the last one done stops the pool.
      let inFlight = 0;
      let stopWhenIdle = false;
      const stop = (): void => pool.forEach((a) => kill(a.h));
      let drained = false;
      try {
        const m = pool.map((a) => a.h.method(method));
        for await (const x of input) {
          const i = pool.reduce((best, a, j) => (a.busy < pool[best]!.busy ? j : best), 0);
          const t0 = performance.now();
          const r = m[i]!.remote(x.ref, ...fnArgs) as ObjectRef<Block>;
          drop(x);
          pool[i]!.busy++;
          inFlight++;
          // Waited on here while the ref is live (the consumer may release it before it is done).
          wait([r]).catch(() => undefined).finally(() => {
            pool[i]!.busy--;
            if (--inFlight === 0 && stopWhenIdle) stop();
          });
          observe(stage, r, t0);
          yield { ref: r, own: true };
        }
        inputDone(stage);
        drained = true;
      } finally {
        // The last calls finish before their actors go (their results are the stage's last blocks).
        if (drained && inFlight > 0) stopWhenIdle = true;
        else stop();
      }
    },
  };
}
