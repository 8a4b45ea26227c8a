/** Tokenizer for WIT text. Positions are kept so every error can name its line and column. */
import { WitError } from '../errors.js';

export type TokenKind = 'id' | 'punct' | 'int' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset into the source. */
  pos: number;
  /** An identifier written with a leading `%`, which lets a keyword be a name. */
  escaped?: boolean;
}

/** Words that need a `%` to be used as names. */
export const KEYWORDS = new Set([
  'use', 'type', 'func', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'f32', 'f64', 'float32', 'float64',
  'char', 'bool', 'string', 'record', 'resource', 'own', 'borrow', 'flags', 'variant', 'enum', 'list', 'option',
  'result', 'tuple', 'interface', 'world', 'import', 'export', 'package', 'include', 'constructor', 'static',
  'as', 'with', 'future', 'stream', 'async',
]);

const PUNCT = new Set(['{', '}', '(', ')', '<', '>', ',', ':', ';', '=', '.', '/', '@', '*', '-', '_', '+']);

export class SourceText {
  constructor(readonly file: string, readonly text: string) {}

  /** 1-based line and column of an offset. */
  location(pos: number): { line: number; column: number } {
    let line = 1;
    let start = 0;
    for (let i = 0; i < pos && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) { line++; start = i + 1; }
    }
    return { line, column: pos - start + 1 };
  }

  error(pos: number, message: string): WitError {
    const { line, column } = this.location(pos);
    return new WitError(this.file, line, column, message);
  }
}

function isIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 37; // a-z A-Z %
}
function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57) || c === 45; // digits, '-'
}

export function tokenize(src: SourceText): Token[] {
  const s = src.text;
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) { i++; continue; }
    if (s.startsWith('//', i)) { const e = s.indexOf('\n', i); i = e < 0 ? s.length : e; continue; }
    if (s.startsWith('/*', i)) {
      const e = s.indexOf('*/', i + 2);
      if (e < 0) throw src.error(i, 'unterminated block comment');
      i = e + 2;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < s.length && isIdPart(s.charCodeAt(j))) j++;
      let text = s.slice(i, j);
      if (text.endsWith('-')) throw src.error(i, `invalid identifier '${text}'`);
      const escaped = text.startsWith('%');
      if (escaped) text = text.slice(1);
      out.push(escaped ? { kind: 'id', text, pos: i, escaped } : { kind: 'id', text, pos: i });
      i = j;
      continue;
    }
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
      out.push({ kind: 'int', text: s.slice(i, j), pos: i });
      i = j;
      continue;
    }
    if (s.startsWith('->', i)) { out.push({ kind: 'punct', text: '->', pos: i }); i += 2; continue; }
    const ch = s[i]!;
    if (PUNCT.has(ch)) { out.push({ kind: 'punct', text: ch, pos: i }); i++; continue; }
    throw src.error(i, `unexpected character '${ch}'`);
  }
  out.push({ kind: 'eof', text: '<end of file>', pos: s.length });
  return out;
}
