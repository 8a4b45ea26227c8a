// Guest output: a task and an actor that write to the task log, for the driver's log filter.
import { log, LogLevel } from "tsray";

export function shout(message: string): u32 {
  log(LogLevel.Trace, "trace " + message);
  log(LogLevel.Debug, "debug " + message);
  log(LogLevel.Info, "info " + message);
  log(LogLevel.Warn, "warn " + message);
  log(LogLevel.Error, "error " + message);
  log(LogLevel.Fatal, "fatal " + message);
  return 6;
}

export class Talker {
  private said: u32 = 0;

  constructor(private name: string) {
    log(LogLevel.Info, name + " is here");
  }

  say(message: string): u32 {
    this.said++;
    log(LogLevel.Info, this.name + " says " + message);
    return this.said;
  }
}
