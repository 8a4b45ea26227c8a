// An actor: each Counter lives in one component instance and keeps its state between calls.
export class Counter {
  private value: i64;

  constructor(start: i64) {
    this.value = start;
  }

  incr(by: i64): i64 {
    this.value += by;
    return this.value;
  }

  get(): i64 {
    return this.value;
  }
}
