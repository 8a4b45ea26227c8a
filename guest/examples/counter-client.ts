import { ActorHandle, CborWriter, sleep } from "tsray";

// Each call goes through the host to the actor and waits for its result.
export function bump(counter: ActorHandle, times: u32): i64 {
  let last: i64 = 0;
  for (let i: u32 = 0; i < times; i++) {
    last = counter.call("incr", new CborWriter().array(1).int(1)).int();
  }
  return last;
}

export function bumpSlowly(counter: ActorHandle, times: u32, pauseMs: u32): i64 {
  let last: i64 = 0;
  for (let i: u32 = 0; i < times; i++) {
    sleep(pauseMs);
    last = counter.call("incr", new CborWriter().array(1).int(1)).int();
  }
  return last;
}

export function callRaw(target: ActorHandle, method: string, args: Uint8Array, times: u32): string[] {
  const out = new Array<string>();
  for (let i: u32 = 0; i < times; i++) {
    const r = target.callRaw(method, args);
    out.push(r.ok ? "ok" : r.error);
  }
  return out;
}
