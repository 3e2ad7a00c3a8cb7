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

function levelIn(value: string | undefined): LogLevel | undefined {
  const level = value?.toLowerCase();
  return level !== undefined && level in ORDER ? (level as LogLevel) : undefined;
}

/** The level in force: `FERRY_LOG_LEVEL`, else Powertools' `POWERTOOLS_LOG_LEVEL` or `LOG_LEVEL`, else info. */
export function logLevel(): LogLevel {
  return levelIn(process.env.FERRY_LOG_LEVEL) ?? levelIn(process.env.POWERTOOLS_LOG_LEVEL) ?? levelIn(process.env.LOG_LEVEL) ?? 'info';
}

/** Whether `level` is at or above the level in force (`logLevel`). */
export function levelShown(level: string): boolean {
  return (ORDER[level.toLowerCase() as LogLevel] ?? ORDER.error) >= ORDER[logLevel()];
}

let powertools: Logger | undefined;
let levelSet: LogLevel | undefined;

/** The process's Logger, following the level in force when it changes (a test's setting, a sandbox's environment). */
function logger(): Logger {
  const level = logLevel();
  const name = level.toUpperCase() as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  if (powertools === undefined) {
    powertools = new Logger({ logLevel: name });
  } else if (level !== levelSet) {
    powertools.setLogLevel(name);
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
