/**
 * Reports the head gathers from the processes of its cluster (`tsray memory
 * --address`, `tsray list --address`): it asks every target at once and
 * answers with what came back in time, naming those that did not answer.
 */
import type { Peer } from '../peer.js';

/** How long each process has to answer. */
export const ANSWER_MS = 5000;

export async function gather<T>(targets: { name: string; peer: Peer }[], ask: (peer: Peer) => Promise<T[]>, ms = ANSWER_MS): Promise<{ items: T[]; missing: string[] }> {
  const missing: string[] = [];
  const answers = await Promise.all(targets.map(async ({ name, peer }) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('late')), ms); });
      return await Promise.race([ask(peer), late]);
    } catch {
      missing.push(name);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }));
  return { items: answers.flat(), missing };
}
