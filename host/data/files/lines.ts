/**
 * A text file read in chunks, cut into pieces of whole records of about
 * `DataContext.targetMaxBlockSize` bytes each, so a read holds one block's
 * worth of a file at a time however large the file is.
 */
import { createReadStream } from 'node:fs';

/** Chunks of `path` as text, `bytes` at a time. */
export async function* textChunks(path: string, bytes: number): AsyncGenerator<string> {
  const s = createReadStream(path, { encoding: 'utf8', highWaterMark: Math.max(4096, Math.min(bytes, 8 << 20)) });
  for await (const chunk of s) yield chunk as string;
}

/** Lines of `path` in groups of about `bytes` bytes, each with the number of its first line (from 1). */
export async function* lineGroups(path: string, bytes: number): AsyncGenerator<{ lines: string[]; first: number }> {
  let rest = '';
  let group: string[] = [];
  let size = 0;
  let first = 1;
  let lineNo = 1;
  for await (const chunk of textChunks(path, bytes)) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const l of parts) {
      // Counted as a block holds it (blockBytes: its characters and 8 bytes), so a group stays under `bytes`.
      if (size + l.length + 8 > bytes && group.length) { yield { lines: group, first }; group = []; size = 0; first = lineNo; }
      group.push(l.endsWith('\r') ? l.slice(0, -1) : l);
      size += l.length + 8;
      lineNo++;
    }
  }
  if (rest) group.push(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  if (group.length) yield { lines: group, first };
}
