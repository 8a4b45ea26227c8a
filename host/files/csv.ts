/**
 * CSV as RFC 4180 writes it: fields split by a delimiter, quoted with `"`
 * where they hold the delimiter, a quote (doubled) or a line break; CRLF or
 * LF line ends. The parser takes text in chunks of any size.
 */

/** Parses CSV text given in chunks into rows of fields. */
export class CsvParser {
  private field = '';
  private row: string[] = [];
  private quoted = false;
  /** Inside quotes, the last character was a quote (the end, or the first of a doubled one). */
  private quoteSeen = false;
  /** The row being read ended with a line break not yet seen whole (a CR). */
  private cr = false;
  /** Characters taken so far, for `push`'s callers to cut blocks by size. */
  consumed = 0;

  constructor(private readonly delimiter = ',') {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') throw new RangeError('a CSV delimiter is one character other than a quote or a line break');
  }

  /** The rows that `chunk` completes. */
  push(chunk: string): string[][] {
    const out: string[][] = [];
    const d = this.delimiter.charCodeAt(0);
    let start = 0;
    const n = chunk.length;
    this.consumed += n;
    for (let i = 0; i < n; i++) {
      const c = chunk.charCodeAt(i);
      if (this.quoted) {
        if (this.quoteSeen) {
          this.quoteSeen = false;
          if (c === 34) { this.field += '"'; start = i + 1; continue; }
          this.quoted = false;
          // falls through: the quote ended the quoted part
        } else {
          if (c === 34) { this.field += chunk.slice(start, i); this.quoteSeen = true; start = i + 1; }
          continue;
        }
      }
      if (c === 34 && this.field === '' && i === start) { this.quoted = true; start = i + 1; continue; }
      if (c === d) { this.row.push(this.field + chunk.slice(start, i)); this.field = ''; start = i + 1; continue; }
      if (c === 10 || c === 13) {
        const wasCr = this.cr;
        this.cr = c === 13;
        if (c === 10 && wasCr && i === start && this.row.length === 0 && this.field === '') { start = i + 1; continue; }
        this.row.push(this.field + chunk.slice(start, i));
        this.field = '';
        start = i + 1;
        if (!(this.row.length === 1 && this.row[0] === '')) out.push(this.row);
        this.row = [];
        continue;
      }
      this.cr = false;
    }
    if (this.quoted && !this.quoteSeen) this.field += chunk.slice(start);
    else if (!this.quoted) this.field += chunk.slice(start);
    return out;
  }

  /** The last row, if the text did not end with a line break; whether a quote was left open. */
  end(): { rows: string[][]; openQuote: boolean } {
    const openQuote = this.quoted && !this.quoteSeen;
    const rows = this.field !== '' || this.row.length ? [[...this.row, this.field]] : [];
    this.field = '';
    this.row = [];
    return { rows, openQuote };
  }
}

const needsQuotes = (s: string, d: string): boolean => s.includes(d) || s.includes('"') || s.includes('\n') || s.includes('\r');

/** One field as CSV writes it. */
export function csvField(v: string, delimiter = ','): string {
  return needsQuotes(v, delimiter) ? `"${v.replaceAll('"', '""')}"` : v;
}
