// Core placement on Linux, from /proc: whether the main thread and the busiest other thread share a core.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU and run time of every thread of this process, or undefined off Linux. */
export function threadTimes() {
  try {
    const out = new Map();
    for (const t of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(t, { cpu: Number(f[36]), ticks: Number(f[11]) + Number(f[12]) });
    }
    return out;
  } catch { return undefined; }
}

/** Whether the main thread and the thread that used the most CPU since `before` sit on one core now. */
export function sameCore(before) {
  const after = threadTimes();
  if (!before || !after) return undefined;
  const main = after.get(String(process.pid));
  let best;
  for (const [t, x] of after) {
    if (t === String(process.pid) || !before.has(t)) continue;
    const d = x.ticks - before.get(t).ticks;
    if (!best || d > best.d) best = { d, cpu: x.cpu };
  }
  return main && best ? main.cpu === best.cpu : undefined;
}
