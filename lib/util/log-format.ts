/**
 * How log lines look where a person reads them. Functions always write JSON
 * (Powertools Logger's entries, Powertools Metrics' EMF documents), as
 * CloudWatch wants them; the local runtime, playing CloudWatch's part, prints
 * them as they are when its stdout is not a terminal, and on a terminal as
 * one short line per job outcome and per invocation (time, task or function,
 * short job id, attempt, outcome, duration, error), coloured when the
 * terminal takes colour, with the metrics documents left out.
 *
 * `FERRY_LOG_FORMAT=json|pretty` overrides the choice; `NO_COLOR` turns
 * colour off.
 */
export type LogFormat = 'json' | 'pretty';

/** `FERRY_LOG_FORMAT` when set; otherwise `pretty` on a terminal and `json` elsewhere (Lambda's stdout is never a terminal). */
export function logFormat(): LogFormat {
  const chosen = process.env.FERRY_LOG_FORMAT;
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  return process.stdout.isTTY === true ? 'pretty' : 'json';
}

const ANSI = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof ANSI;

/** `text` in `colour` when stdout is a colour terminal, or `FORCE_COLOR` asks for colour (and `NO_COLOR` is unset). */
export function paint(text: string, colour: Colour): string {
  const noColour = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
  const forced = process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '' && process.env.FORCE_COLOR !== '0';
  const terminal = process.stdout.isTTY === true && (process.stdout.hasColors?.() ?? false);
  if (noColour || !(terminal || forced)) return text;
  return `\u001b[${ANSI[colour]}m${text}\u001b[0m`;
}

/** `HH:MM:SS.mmm` of `date`, UTC, as every local line starts. */
export function clockOf(date = new Date()): string {
  return date.toISOString().slice(11, 23);
}

/** A duration for people: `37 ms`, `2.4 s`, `3.1 min`. */
export function humanMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

const OUTCOME_COLOUR: Record<string, Colour> = { succeeded: 'green', ok: 'green', skipped: 'dim', busy: 'yellow', retry: 'yellow', failed: 'red' };
const LEVEL_COLOUR: Record<string, Colour> = { debug: 'dim', info: 'cyan', warn: 'yellow', error: 'red' };
/** Fields a terminal line leaves out: the entry's frame (level, time) and the Lambda context Powertools adds to every line. */
const HIDDEN = new Set(['time', 'level', 'msg', 'service', 'sampling_rate', 'xray_trace_id', 'cold_start', 'function_arn', 'function_memory_size', 'function_name', 'function_request_id']);

type Entry = { readonly level: string; readonly msg: string } & Readonly<Record<string, unknown>>;

/** A function's output line as it was written: a log entry (its fields, lower-case level), a metrics document, or text. */
export type OutputLine =
  | { readonly kind: 'entry'; readonly entry: Entry; readonly time: Date }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'text' };

/** What a line of a function's output is: Powertools Logger's `level`/`message`/`timestamp` entry, an EMF document (`_aws`), or anything else. */
export function parseOutputLine(line: string): OutputLine {
  if (!line.startsWith('{')) return { kind: 'text' };
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return { kind: 'text' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { kind: 'text' };
  const { level, message, timestamp, ...fields } = doc as Record<string, unknown>;
  if (typeof level === 'string' && typeof message === 'string') {
    const time = typeof timestamp === 'string' && !Number.isNaN(Date.parse(timestamp)) ? new Date(timestamp) : new Date();
    return { kind: 'entry', entry: { ...fields, level: level.toLowerCase(), msg: message }, time };
  }
  return '_aws' in doc ? { kind: 'metrics' } : { kind: 'text' };
}

function errorText(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return `${typeof name === 'string' && name !== 'Error' ? `${name}: ` : ''}${String(message)}`;
  }
  return String(error);
}

/** A scalar field as text; anything else as JSON. */
function text(value: unknown, fallback = '?'): string {
  if (value === undefined || value === null) return fallback;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

function shortId(id: unknown): string {
  return typeof id === 'string' ? id.slice(0, 8) : '-';
}

/** One line for a person: a job outcome, a dead letter, or any other entry as `key=value` pairs. */
export function prettyEntry(entry: Entry, date = new Date()): string {
  const time = paint(clockOf(date), 'dim');
  if (entry.msg === 'job') {
    const outcome = text(entry.outcome);
    const parts = [
      time,
      paint('job', 'bold'),
      text(entry.task).padEnd(22),
      paint(shortId(entry.jobId), 'dim'),
      `#${text(entry.attempt)}`,
      paint(outcome.toUpperCase().padEnd(9), OUTCOME_COLOUR[outcome] ?? 'cyan'),
      humanMs(Number(entry.durationMs ?? 0)).padStart(8),
    ];
    if (typeof entry.retryInMs === 'number') parts.push(`retry in ${humanMs(entry.retryInMs)}`);
    if (entry.cause !== undefined) parts.push(`(${text(entry.cause)})`);
    if (entry.error !== undefined) parts.push(paint(errorText(entry.error), outcome === 'failed' ? 'red' : 'yellow'));
    return parts.join(' ');
  }
  const level = paint(entry.level.toUpperCase().padEnd(5), LEVEL_COLOUR[entry.level] ?? 'cyan');
  const fields = Object.entries(entry)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${key === 'error' ? JSON.stringify(errorText(value)) : typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level, entry.msg, ...fields].join(' ');
}
