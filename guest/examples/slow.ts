import { sleep, taskContext, now, log, LogLevel } from "tsray";

export function nap(ms: u32): string {
  const start = now();
  sleep(ms);
  const ctx = taskContext();
  log(LogLevel.Debug, "napped " + (now() - start).toString() + " ms");
  let ids = "";
  for (let i = 0; i < ctx.acceleratorIds.length; i++) ids += (i > 0 ? "," : "") + ctx.acceleratorIds[i].toString();
  return "task " + ctx.taskId + " on " + ctx.nodeId + " attempt " + ctx.attempt.toString() + " accelerators [" + ids + "]";
}

export function spin(): u32 {
  let n: u32 = 0;
  while (true) n++;
  return n;
}
