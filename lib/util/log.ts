/**
 * Structured logs: one entry per line on stdout, JSON on AWS (and whenever
 * stdout is not a terminal), a short readable line on a terminal (see
 * log-format.ts). `FERRY_LOG_LEVEL` (debug, info, warn, error; default info)
 * drops the levels below it, except JSON entries that carry metrics (EMF
 * `_aws`): CloudWatch reads those as data, so a quieter log must not lose them.
 */
import { logFormat, prettyEntry } from './log-format.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (entry: { readonly level: LogLevel; readonly msg: string } & Record<string, unknown>) => void;

/** Whether `level` is at or above `FERRY_LOG_LEVEL`. */
export function levelShown(level: string): boolean {
  const threshold = ORDER[(process.env.FERRY_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? ORDER.info;
  return (ORDER[level as LogLevel] ?? ORDER.error) >= threshold;
}

/** Writes `entry` as one line if its level is at or above `FERRY_LOG_LEVEL`. */
export const log: LogSink = (entry) => {
  const format = logFormat();
  if (!levelShown(entry.level) && (format === 'pretty' || !('_aws' in entry))) return;
  const date = new Date();
  console.log(format === 'pretty' ? prettyEntry(entry, date) : JSON.stringify({ time: date.toISOString(), ...entry }));
};
