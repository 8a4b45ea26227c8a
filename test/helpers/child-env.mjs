// tap's process-info hook rides into every process a test spawns (each CLI call, head, node and
// job driver): it is in NODE_OPTIONS, and a spawn hook (process-on-spawn, a process-wide
// singleton) puts it back into any child's environment. It costs each child about 0.5 s of CPU
// to start, and serves only coverage, which is off: imported for its effect by the helpers that
// spawn, this takes both away.
const opts = process.env.NODE_OPTIONS;
if (opts?.includes('@tapjs/processinfo')) {
  const rest = opts.split(/\s+/).filter((o) => o && !o.includes('@tapjs/processinfo')).join(' ');
  if (rest) process.env.NODE_OPTIONS = rest;
  else delete process.env.NODE_OPTIONS;
  const spawnHooks = globalThis[Symbol.for('process-on-spawn@*:singletonId')];
  if (spawnHooks) spawnHooks.listeners = [];
}
