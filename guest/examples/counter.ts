// An actor: each Counter lives in one component instance and keeps its state between calls.
import { sleep, taskContext, ActorHandle, CborWriter } from "tsray";

export class Counter {
  private value: i64;

  constructor(start: i64) {
    if (start < 0) throw new Error("a counter cannot start below zero, got " + start.toString());
    this.value = start;
  }

  incr(by: i64): i64 {
    this.value += by;
    return this.value;
  }

  get(): i64 {
    return this.value;
  }

  slowIncr(by: i64, ms: u32): i64 {
    sleep(ms);
    return this.incr(by);
  }

  crash(message: string): void {
    throw new Error(message);
  }

  placement(): string {
    const ctx = taskContext();
    let ids = "";
    for (let i = 0; i < ctx.acceleratorIds.length; i++) ids += (i > 0 ? "," : "") + ctx.acceleratorIds[i].toString();
    return ctx.nodeId + " [" + ids + "]";
  }

  absorb(other: ActorHandle): i64 {
    this.value += other.call("get", new CborWriter().array(0)).int();
    return this.value;
  }
}
