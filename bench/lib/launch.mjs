// Child processes for the cluster benches: `tsray start ... --block` heads and nodes, killed when the bench exits.
import { spawn } from 'node:child_process';

const children = [];
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

/** Spawns `node ...args` and resolves with the first match of `pattern` in what it prints. */
export function launch(root, args, pattern, env = process.env) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; const m = pattern.exec(out); if (m) resolve({ child, m }); });
    child.on('exit', (c) => reject(new Error(`${args.join(' ')} exited ${c}`)));
  });
}

/** Stops every process launched so far. */
export function stopAll(signal = 'SIGTERM') {
  for (const c of children) if (c.exitCode === null) c.kill(signal);
}
