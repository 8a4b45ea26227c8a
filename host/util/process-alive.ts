/** Whether a process still runs: for stale files, sockets and records left by processes that are gone. */
import { readFileSync } from 'node:fs';

/** Whether `pid` is a running process (a zombie no parent has reaped yet does not count). */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return true; // no /proc here: signal 0 is all there is
  }
}
