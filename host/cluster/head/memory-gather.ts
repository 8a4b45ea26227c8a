/**
 * `tsray memory --address`: the head asks every live node and connected
 * driver for its report at once, and answers with what came back within
 * the time allowed, naming those that did not answer.
 */
import type { Peer } from '../peer.js';
import type { MemoryReply } from '../protocol.js';
import type { NodeMemory } from '../../../store/report.js';

/** How long each process has to answer. */
export const MEMORY_ANSWER_MS = 5000;

export async function gatherMemory(targets: { name: string; peer: Peer }[], ms = MEMORY_ANSWER_MS): Promise<{ nodes: NodeMemory[]; missing: string[] }> {
  const missing: string[] = [];
  const answers = await Promise.all(targets.map(async ({ name, peer }) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('late')), ms); });
      const r = await Promise.race([peer.request<MemoryReply>({ t: 'memory', id: 0 }), late]);
      return r.nodes;
    } catch {
      missing.push(name);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }));
  return { nodes: answers.flat(), missing };
}
