/** Rows as aligned text columns (the last column unpadded), or, `plain`, as space-separated fields. */
export function textTable(rows: string[][], plain = false): string {
  if (plain) return rows.map((r) => r.join(' ')).join('\n');
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('').trimEnd()).join('\n');
}
