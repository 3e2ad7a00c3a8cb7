/**
 * Structured logs: one JSON object per line on stdout, which CloudWatch Logs
 * (and the local runtime) keep as they are. `FERRY_LOG_LEVEL` (debug, info,
 * warn, error; default info) drops the levels below it.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (entry: { readonly level: LogLevel; readonly msg: string } & Record<string, unknown>) => void;

/** Writes `entry` as one JSON line if its level is at or above `FERRY_LOG_LEVEL`. */
export const log: LogSink = (entry) => {
  const threshold = ORDER[(process.env.FERRY_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ?? ORDER.info;
  if (ORDER[entry.level] >= threshold) console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
};
