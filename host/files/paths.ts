/** The files a read covers: each path a file, or a directory read recursively (names starting with `.` skipped), in name order. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

export interface PathOptions {
  /** Only files ending with one of these (`['csv']`), as Ray's `file_extensions`. */
  fileExtensions?: string[];
}

export async function filesOf(paths: string | readonly string[], o: PathOptions = {}): Promise<string[]> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p)) throw new InvalidArgumentError('a read takes a path or a list of paths');
  const exts = o.fileExtensions?.map((e) => `.${e.replace(/^\./, '').toLowerCase()}`);
  const out: string[] = [];
  const walk = async (p: string, top: boolean): Promise<void> => {
    const s = await stat(p).catch((e: NodeJS.ErrnoException) => {
      throw new InvalidArgumentError(`cannot read ${p}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.message}`);
    });
    if (s.isDirectory()) {
      for (const name of (await readdir(p)).sort()) if (!name.startsWith('.')) await walk(join(p, name), false);
    } else if (s.isFile() && (top || !exts || exts.some((e) => p.toLowerCase().endsWith(e)))) {
      out.push(p);
    }
  };
  for (const p of list) await walk(p, true);
  return out;
}
