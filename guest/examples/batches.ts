// Batch transforms for tsray.data: each call gets one block as columns (typed arrays) and returns the new block.
export class Numbers {
  id: Float64Array = new Float64Array(0);
}

export class Labeled {
  id: Float64Array = new Float64Array(0);
  label: string[] = [];
}

export function square(b: Numbers): Numbers {
  const out = new Numbers();
  out.id = new Float64Array(b.id.length);
  for (let i = 0; i < b.id.length; i++) unchecked(out.id[i] = b.id[i] * b.id[i]);
  return out;
}

// Ids are whole numbers: test the low bit (f64 % is a slow library call in AssemblyScript).
function isEven(x: f64): bool {
  return (<i64>x & 1) == 0;
}

export function keepEven(b: Numbers): Numbers {
  let n = 0;
  for (let i = 0; i < b.id.length; i++) if (isEven(unchecked(b.id[i]))) n++;
  const out = new Numbers();
  out.id = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < b.id.length; i++) if (isEven(unchecked(b.id[i]))) unchecked(out.id[j++] = b.id[i]);
  return out;
}

export function label(b: Numbers): Labeled {
  const out = new Labeled();
  out.id = b.id;
  out.label = new Array<string>(b.id.length);
  for (let i = 0; i < b.id.length; i++) out.label[i] = isEven(unchecked(b.id[i])) ? "even" : "odd";
  return out;
}

export function failOn(b: Numbers, bad: f64): Numbers {
  for (let i = 0; i < b.id.length; i++) if (unchecked(b.id[i]) == bad) throw new Error("bad row " + bad.toString());
  return b;
}

export function doubleId(b: Numbers): Float64Array {
  const out = new Float64Array(b.id.length);
  for (let i = 0; i < b.id.length; i++) unchecked(out[i] = b.id[i] * 2);
  return out;
}

export class Lines {
  text: string[] = [];
}

export class WordCounts {
  word: string[] = [];
  n: Float64Array = new Float64Array(0);
}

// A letter or digit, ASCII or not (anything above ASCII counts as part of a word).
function isWordChar(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c > 127;
}

export function countWords(b: Lines): WordCounts {
  const counts = new Map<string, i32>();
  for (let l = 0; l < b.text.length; l++) {
    const line = b.text[l];
    let start = -1;
    for (let i = 0; i <= line.length; i++) {
      const inWord = i < line.length && isWordChar(line.charCodeAt(i));
      if (inWord && start < 0) start = i;
      else if (!inWord && start >= 0) {
        const w = line.substring(start, i).toLowerCase();
        counts.set(w, counts.has(w) ? counts.get(w) + 1 : 1);
        start = -1;
      }
    }
  }
  const out = new WordCounts();
  out.word = counts.keys();
  out.n = new Float64Array(out.word.length);
  for (let i = 0; i < out.word.length; i++) unchecked(out.n[i] = <f64>counts.get(out.word[i]));
  return out;
}

export class Scaler {
  private factor: f64;
  private blocks: u32 = 0;

  constructor(factor: f64) {
    this.factor = factor;
  }

  call(b: Numbers): Numbers {
    this.blocks++;
    const out = new Numbers();
    out.id = new Float64Array(b.id.length);
    for (let i = 0; i < b.id.length; i++) unchecked(out.id[i] = b.id[i] * this.factor);
    return out;
  }

  seen(): u32 {
    return this.blocks;
  }
}

export function batchLengths(b: Numbers): Numbers {
  const out = new Numbers();
  out.id = new Float64Array(b.id.length);
  out.id.fill(<f64>b.id.length);
  return out;
}

export class Row {
  id: f64 = 0;
}

export class LabeledRow {
  id: f64 = 0;
  label: string = "";
}

export function labelRow(r: Row): LabeledRow {
  const out = new LabeledRow();
  out.id = r.id * r.id;
  out.label = isEven(r.id) ? "even" : "odd";
  return out;
}

export function repeatRow(r: Row): Row[] {
  const out = new Array<Row>();
  for (let i = 0; i < <i32>r.id; i++) {
    const x = new Row();
    x.id = r.id;
    out.push(x);
  }
  return out;
}
