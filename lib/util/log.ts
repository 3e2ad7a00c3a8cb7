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

/** The levels Ferry's code writes entries at. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Powertools' levels, least severe first: a threshold may be any of them (`SILENT` writes nothing). */
const THRESHOLDS = { trace: 6, debug: 8, info: 12, warn: 16, error: 20, critical: 24, silent: 28 } as const;
type Threshold = keyof typeof THRESHOLDS;

export type LogSink = (entry: { readonly level: LogLevel; readonly msg: string } & Record<string, unknown>) => void;

function thresholdIn(value: string | undefined): Threshold | undefined {
  const level = value?.toLowerCase();
  return level !== undefined && level in THRESHOLDS ? (level as Threshold) : undefined;
}

/**
 * The level in force, in Powertools' order: Lambda's log level
 * (`AWS_LAMBDA_LOG_LEVEL`), else `FERRY_LOG_LEVEL` (the level Ferry gives
 * the Logger), else `POWERTOOLS_LOG_LEVEL` or, when that is unset,
 * `LOG_LEVEL`, else info.
 */
export function logLevel(): Threshold {
  const env = process.env;
  return thresholdIn(env.AWS_LAMBDA_LOG_LEVEL) ?? thresholdIn(env.FERRY_LOG_LEVEL) ?? thresholdIn(env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL) ?? 'info';
}

/** Whether an entry at `level` is written at the level in force (`logLevel`). */
export function levelShown(level: string): boolean {
  return (THRESHOLDS[level.toLowerCase() as Threshold] ?? THRESHOLDS.error) >= THRESHOLDS[logLevel()];
}

let powertools: Logger | undefined;
let ferryLevel: string | undefined;

/**
 * The process's Logger. `FERRY_LOG_LEVEL`, when set, is given to it (and
 * followed when it changes: a test's setting, a sandbox's environment);
 * unset, the Logger reads its own variables, as Powertools does.
 */
function logger(): Logger {
  const wanted = process.env.FERRY_LOG_LEVEL?.toUpperCase();
  const level = wanted !== undefined && thresholdIn(wanted) !== undefined ? (wanted as Uppercase<Threshold>) : undefined;
  if (powertools === undefined || (level === undefined && ferryLevel !== undefined)) {
    // New, or FERRY_LOG_LEVEL was unset again: a Logger that reads the environment afresh.
    powertools = new Logger(level === undefined ? {} : { logLevel: level });
  } else if (level !== undefined && level !== ferryLevel) {
    powertools.setLogLevel(level);
  }
  ferryLevel = level;
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
