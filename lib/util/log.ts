/**
 * Structured logs, written by Powertools for AWS Lambda (Logger): one JSON
 * object per line (`level`, `message`, `timestamp`, `service`, the X-Ray
 * trace id, the Lambda context once `logContext` has it, then the entry's own
 * fields), debug and info on stdout, warn and error on stderr, as Lambda
 * hands both to CloudWatch Logs. On a terminal the local runtime prints each
 * line readably (log-format.ts).
 *
 * Ferry's code logs through the `LogSink` contract (a level, a message and
 * fields), so a test or an embedding app can take the entries instead.
 * `FERRY_LOG_LEVEL` (debug, info, warn, error) sets the level; without it,
 * Powertools' `POWERTOOLS_LOG_LEVEL`, and on Lambda with a log level set on
 * the function, `AWS_LAMBDA_LOG_LEVEL` (Powertools gives that one
 * precedence). Metrics are not log entries: see metrics.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (entry: { readonly level: LogLevel; readonly msg: string } & Record<string, unknown>) => void;

/** Whether `level` is at or above `FERRY_LOG_LEVEL` (default info). */
export function levelShown(level: string): boolean {
  const threshold = ORDER[process.env.FERRY_LOG_LEVEL?.toLowerCase() as LogLevel] ?? ORDER.info;
  return (ORDER[level.toLowerCase() as LogLevel] ?? ORDER.error) >= threshold;
}

let powertools: Logger | undefined;
let levelSet: string | undefined;

/** The process's Logger, following `FERRY_LOG_LEVEL` when it changes (a test's setting, a sandbox's environment). */
function logger(): Logger {
  const wanted = process.env.FERRY_LOG_LEVEL?.toUpperCase();
  const level = wanted === 'DEBUG' || wanted === 'INFO' || wanted === 'WARN' || wanted === 'ERROR' ? wanted : undefined;
  if (powertools === undefined) {
    powertools = new Logger(level === undefined ? {} : { logLevel: level });
  } else if (level !== undefined && level !== levelSet) {
    powertools.setLogLevel(level);
  }
  levelSet = level;
  return powertools;
}

/** Writes `entry` as one line if its level is at or above the logger's. */
export const log: LogSink = ({ level, msg, ...fields }) => {
  logger()[level](msg, fields);
};

/**
 * Adds the invocation's Lambda context to the lines that follow (request id,
 * function name, ARN and memory, cold start), as Powertools'
 * `injectLambdaContext` does. Call it first thing in a handler.
 */
export function logContext(context: Context): void {
  logger().addContext(context);
}
