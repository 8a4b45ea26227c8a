import { ActorHandle, CborWriter } from "tsray";

// Each call goes through the host to the actor and waits for its result.
export function bump(counter: ActorHandle, times: u32): i64 {
  let last: i64 = 0;
  for (let i: u32 = 0; i < times; i++) {
    last = counter.call("incr", new CborWriter().array(1).int(1)).int();
  }
  return last;
}
