// Runs a test body that uses Dawn in-process (dawn.node on SwiftShader) in a
// child process, and checks its results here. Dawn's background threads race
// the C++ teardown when a process exits, so such a process sometimes aborts
// after every one of its tests passed and reported. Every result of the
// child is asserted here; an abort is tolerated only after the child printed
// its complete plan (or, cut short before it, its own count of the subtests
// that ran, each reported) with nothing failed, and is reported as a comment.
// (tsray itself runs Dawn in the node's device thread, which closes its
// devices and ends on its own: host/accel/device-thread.ts.)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function runDawnBody(t, bodyUrl) {
  const r = spawnSync(process.execPath, [fileURLToPath(bodyUrl)], { encoding: 'utf8', timeout: 110_000 });
  const out = r.stdout ?? '';
  const results = [...out.matchAll(/^(not )?ok \d+ - (.*?)(?: # time=.*)?$/gm)];
  t.ok(results.length > 0, `the body reported results${results.length ? '' : `:\n${out.slice(-2000)}\n${r.stderr ?? ''}`}`);
  for (const [, not, name] of results) t.ok(!not, name);
  // Complete: tap's plan, or (when Dawn aborted before tap printed it) the body's own count of subtests, all reported.
  const ran = /^# dawn body: (\d+) subtests ran$/m.exec(out);
  const complete = (/^1\.\.\d+$/m.test(out) || (!!ran && results.length >= Number(ran[1]))) && !/^\s*not ok/m.test(out);
  t.ok(complete, `the body finished with nothing failed${complete ? '' : `:\n${out.slice(-3000)}`}`);
  if (r.status !== 0) {
    t.equal(r.signal, 'SIGABRT', `the body exited with ${r.status ?? r.signal}: ${(r.stderr ?? '').slice(-500)}`);
    t.comment(`Dawn aborted at process exit after every test passed: ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' ')}`);
  }
}
