/**
 * Text files cut into parts at line starts: a line belongs to the part its
 * first byte lies in, so parts cut at any byte offsets cover every line
 * exactly once, and each part reads only its own bytes (and the end of its
 * last line). That is what lets read tasks on many workers read one file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const SCAN = 64 * 1024;

/** The position of the first `\n` at or after `from`, or -1. */
function newlineFrom(fd: number, from: number, size: number): number {
  const buf = Buffer.allocUnsafe(SCAN);
  for (let at = from; at < size; at += SCAN) {
    const n = readSync(fd, buf, 0, Math.min(SCAN, size - at), at);
    const i = buf.subarray(0, n).indexOf(10);
    if (i >= 0) return at + i;
    if (n === 0) break;
  }
  return -1;
}

/** Bytes [from, to) of `fd`. */
function bytesOf(fd: number, from: number, to: number): Buffer {
  const buf = Buffer.allocUnsafe(to - from);
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, from + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/**
 * The text of the lines of `path` that start in bytes [start, end), line
 * ends included; `begin`: the byte offset where it starts.
 */
export function textOfPart(path: string, start: number, end: number): { text: string; begin: number } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const to = Math.min(end, size);
    let begin = start;
    if (start > 0) {
      const nl = newlineFrom(fd, start - 1, size);
      begin = nl < 0 ? size : nl + 1;
    }
    if (begin >= to) return { text: '', begin };
    const nl = to === size ? -1 : newlineFrom(fd, to - 1, size);
    return { text: bytesOf(fd, begin, nl < 0 ? size : nl + 1).toString('utf8'), begin };
  } finally {
    closeSync(fd);
  }
}

/** The lines of `path` that start in bytes [start, end), without their line ends (LF or CRLF). */
export function linesOfPart(path: string, start: number, end: number): { lines: string[]; begin: number } {
  const { text, begin } = textOfPart(path, start, end);
  if (text === '') return { lines: [], begin };
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith('\r')) lines[i] = lines[i]!.slice(0, -1);
  return { lines, begin };
}
