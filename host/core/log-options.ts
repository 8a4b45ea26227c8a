/**
 * The driver's guest-output options, one rule for the embedded node and a
 * cluster driver: which guest log lines reach this process's output.
 */
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_LOG_FILTER, LOG_LEVELS, isLogFilter, isLogLevel, type LogFilter, type LogLevel } from '../engine/guest-log.js';

export interface LogOptions {
  /**
   * The lowest guest log level printed, from `'trace'` up to `'fatal'`
   * (default `'info'`, or the `TSRAY_LOG_LEVEL` environment variable, which
   * also takes `'off'`). Lines below it are dropped where the task runs.
   */
  logLevel?: LogLevel;
  /**
   * Whether guest log lines reach this driver at all (default true). As
   * Ray's `log_to_driver=False`: false prints none, from any node.
   */
  logToDriver?: boolean;
}

/** The filter `o` asks for (an `InvalidArgumentError` for a level that is not one). */
export function logFilterOf(o: LogOptions, env: NodeJS.ProcessEnv = process.env): LogFilter {
  if (o.logToDriver !== undefined && typeof o.logToDriver !== 'boolean') throw new InvalidArgumentError(`init option logToDriver must be true or false, got ${String(o.logToDriver)}`);
  if (o.logLevel !== undefined && !isLogLevel(o.logLevel)) {
    throw new InvalidArgumentError(`init option logLevel must be one of ${LOG_LEVELS.map((l) => `'${l}'`).join(', ')}, got ${String(o.logLevel)}`);
  }
  const fromEnv = env.TSRAY_LOG_LEVEL || undefined;
  if (fromEnv !== undefined && !isLogFilter(fromEnv)) {
    throw new InvalidArgumentError(`TSRAY_LOG_LEVEL must be one of ${[...LOG_LEVELS, 'off'].join(', ')}, got '${fromEnv}'`);
  }
  if (o.logToDriver === false) return 'off';
  return o.logLevel ?? fromEnv ?? DEFAULT_LOG_FILTER;
}
