/**
 * Directories only this user may use: the per-user runtime directory
 * `tsray-<uid>` under the OS temp dir (admin sockets, the cluster token and
 * process records, the default spill directory) and the spill directory.
 * A missing one is created 0700. An existing one must belong to this user
 * and be closed to group and others; otherwise it is refused, never repaired,
 * because whoever could write into it may already have planted links or
 * files there. Files inside are created with `CREATE_NEW`.
 */
import { constants, lstatSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InsecurePathError } from '../errors.js';

/** Open flags that make a new file and never follow or reuse whatever already sits at the path. */
export const CREATE_NEW = constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Creates `dir` (mode 0700) if it is missing and checks that it is a
 * directory owned by this user with no access for group or others. Throws
 * `InsecurePathError` otherwise; `remedy` finishes its message (what else
 * the user can do besides removing the directory). Returns `dir`.
 */
export function privateDir(dir: string, remedy: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    // Something that is not a directory is in the way: the checks below say what.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
  }
  const uid = process.geteuid?.();
  if (uid === undefined) return dir; // no POSIX owners on this platform
  const link = lstatSync(dir);
  // A link someone else owns can be re-pointed by them after the check.
  const s = link.isSymbolicLink() && link.uid !== uid ? link : statSync(dir);
  const refuse = (why: string, fix: string): InsecurePathError => new InsecurePathError(
    dir, `${dir} ${why}, so tsray will not keep private files (spilled objects, the cluster token, admin sockets) there. ${fix}, or ${remedy}.`,
  );
  if (s.uid !== uid) {
    throw refuse(`is owned by uid ${s.uid}, not by this user (uid ${uid}); another user may have planted it`, `Remove it (rm -rf ${dir}) if nobody needs it`);
  }
  if (!s.isDirectory()) throw refuse('is not a directory', `Remove it (rm ${dir})`);
  if ((s.mode & 0o077) !== 0) {
    throw refuse(`is open to other users (mode ${(s.mode & 0o777).toString(8)})`, `Check that nobody planted files in it and run chmod 700 ${dir}`);
  }
  return dir;
}

const OWN_TMPDIR = 'set TMPDIR to a directory of your own';

/** This user's tsray state on this machine (checked by `privateDir`). */
export function userDir(): string {
  return privateDir(join(tmpdir(), `tsray-${process.geteuid?.() ?? 'user'}`), OWN_TMPDIR);
}

/** A private directory `name` inside `userDir()`, created and checked like it. */
export function userSubdir(name: string): string {
  return privateDir(join(userDir(), name), OWN_TMPDIR);
}

/** Where the object store spills when `spillDir` is not given: `spill` in this user's directory. */
export function defaultSpillDir(): string {
  return join(userDir(), 'spill');
}
