import { Tuple2 } from "tsray";

export function greet(name: string): string {
  return "Hello, " + name + "!";
}

function isWordChar(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 39 || c > 127;
}

export function wordCount(text: string): Array<Tuple2<string, u32>> {
  const counts = new Map<string, u32>();
  const lower = text.toLowerCase();
  let start = -1;
  for (let i = 0; i <= lower.length; i++) {
    const inWord = i < lower.length && isWordChar(lower.charCodeAt(i));
    if (inWord && start < 0) start = i;
    if (!inWord && start >= 0) {
      const w = lower.substring(start, i);
      counts.set(w, counts.has(w) ? counts.get(w) + 1 : 1);
      start = -1;
    }
  }
  const keys = counts.keys();
  const out = new Array<Tuple2<string, u32>>();
  for (let i = 0; i < keys.length; i++) out.push(new Tuple2<string, u32>(keys[i], counts.get(keys[i])));
  out.sort((a, b) => (a.t1 != b.t1 ? <i32>b.t1 - <i32>a.t1 : (a.t0 < b.t0 ? -1 : a.t0 > b.t0 ? 1 : 0)));
  return out;
}
