/**
 * Text from a guest made safe to print on one line: every character that
 * could start a new line, move the cursor, recolour the terminal or reorder
 * text is escaped, and long text is cut.
 */

/** How long a line `safeLine` makes by default (the per-line log limit of `engine/limits.ts`). */
export const SAFE_LINE_CHARS = 8192;

/**
 * C0 controls (newlines included), DEL, C1 controls, the backslash (so an
 * escape in the output always means an escaped character), the line and
 * paragraph separators, and the bidirectional marks, embeddings, overrides and isolates.
 */
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const c = ch.charCodeAt(0);
  return c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
}

/**
 * `message` as one safe line of at most about `max` characters: unsafe
 * characters escaped, the rest cut with a note of how much was cut.
 */
export function safeLine(message: string, max = SAFE_LINE_CHARS): string {
  if (message.length <= max && !UNSAFE.test(message)) return message;
  let out = '';
  let i = 0;
  while (i < message.length && out.length < max) {
    const cp = message.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out += UNSAFE.test(ch) ? escapeChar(ch) : ch;
    i += ch.length;
  }
  if (i < message.length) out += ` ... [${message.length - i} more characters cut]`;
  return out;
}

