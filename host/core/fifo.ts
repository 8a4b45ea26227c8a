/** The scheduler's task queue: a FIFO with O(1) shift and unshift that stays compact at millions of entries. */

export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  push(x: T): void { this.items.push(x); }
  unshift(x: T): void {
    if (this.head > 0) this.items[--this.head] = x;
    else this.items.unshift(x);
  }
  peek(): T | undefined { return this.items[this.head]; }
  shift(): T | undefined {
    const x = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 4096 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return x;
  }
  /** Takes out the first item matching `f` (a linear scan: for rare use). */
  remove(f: (x: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const x = this.items[i];
      if (x !== undefined && f(x)) { this.items.splice(i, 1); return x; }
    }
    return undefined;
  }
  get length(): number { return this.items.length - this.head; }
}
