/**
 * Rows as aligned text columns (the last column unpadded), or, `plain`, as
 * space-separated fields. Every cell is escaped (safe-line.ts): a table may
 * hold a guest's text (an actor's death reason) or another process's report,
 * which must not move the cursor or recolour the terminal.
 */
import { safeLine } from './safe-line.js';

export function textTable(rows: string[][], plain = false): string {
  const safe = rows.map((r) => r.map((c) => safeLine(c)));
  if (plain) return safe.map((r) => r.join(' ')).join('\n');
  const widths = safe[0]!.map((_, i) => Math.max(...safe.map((r) => r[i]!.length)));
  return safe.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd()).join('\n');
}
