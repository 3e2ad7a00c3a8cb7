import { afterEach, describe, expect, it, vi } from 'vitest';
import { levelShown, log, logLevel } from '../../lib/util/log.js';
import { humanMs, logFormat, parseOutputLine, prettyEntry } from '../../lib/util/log-format.js';

const AT = new Date('2026-11-22T10:11:12.345Z');
/** A job outcome entry as the worker writes it. */
const jobEntry = (fields: Record<string, unknown>) => ({
  level: 'info' as const,
  msg: 'job',
  jobId: '3f3bb374-2583-495c-a77d-655edc9f9ec6',
  attempt: 2,
  durationMs: 37,
  queue: 'io',
  task: 'billing.send',
  ...fields,
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('logFormat', () => {
  it('follows FERRY_LOG_FORMAT when it is json or pretty', () => {
    vi.stubEnv('FERRY_LOG_FORMAT', 'pretty');
    expect(logFormat()).toBe('pretty');
    vi.stubEnv('FERRY_LOG_FORMAT', 'json');
    expect(logFormat()).toBe('json');
  });

  it('is json when stdout is not a terminal (as on Lambda, and under the test runner)', () => {
    vi.stubEnv('FERRY_LOG_FORMAT', '');
    expect(process.stdout.isTTY).not.toBe(true);
    expect(logFormat()).toBe('json');
  });
});

describe('prettyEntry', () => {
  it('gives a job outcome one line: time, task, short job id, attempt, outcome, duration', () => {
    vi.stubEnv('NO_COLOR', '1');
    const line = prettyEntry(jobEntry({ outcome: 'succeeded' }), AT);
    expect(line).toBe('10:11:12.345 job billing.send           3f3bb374 #2 SUCCEEDED    37 ms');
  });

  it('adds the retry delay and the error of a retried attempt, and the cause and error of a failed one', () => {
    const retry = prettyEntry(jobEntry({ level: 'warn', outcome: 'retry', retryInMs: 2_400, error: { name: 'MailerDown', message: 'connection refused' } }), AT);
    expect(retry).toContain('RETRY');
    expect(retry).toContain('retry in 2.4 s MailerDown: connection refused');
    const failed = prettyEntry(jobEntry({ level: 'error', outcome: 'failed', cause: 'non-retryable', error: { name: 'Error', message: 'invoice was voided' } }), AT);
    expect(failed).toMatch(/FAILED +37 ms \(non-retryable\) invoice was voided$/);
  });

  it('writes other entries as level, message and key=value pairs', () => {
    const line = prettyEntry({ level: 'warn', msg: 'dead-lettered', queue: 'io', cause: 'poison', attempts: 1, errorMessage: 'not JSON' }, AT);
    expect(line).toBe('10:11:12.345 WARN  dead-lettered queue=io cause=poison attempts=1 errorMessage=not JSON');
  });
});

/** What `fn` writes to stdout and stderr (Powertools Logger writes through its own Console on both). */
function outputOf(fn: () => void): { stdout: string[]; stderr: string[] } {
  const out = { stdout: [] as string[], stderr: [] as string[] };
  const capture = (into: string[]) => (chunk: string | Uint8Array) => {
    into.push(...String(chunk).split('\n').filter((l) => l !== ''));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture(out.stdout));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture(out.stderr));
  try {
    fn();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return out;
}

describe('log (Powertools Logger)', () => {
  it('writes one JSON entry: level, message, timestamp and service first, then the fields; info on stdout, warn and error on stderr', () => {
    vi.stubEnv('FERRY_LOG_LEVEL', 'info');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'billing');
    const { stdout, stderr } = outputOf(() => {
      log(jobEntry({ outcome: 'succeeded' }));
      log(jobEntry({ level: 'warn', outcome: 'retry', retryInMs: 1_000 }));
    });
    expect(stdout).toHaveLength(1);
    expect(stderr).toHaveLength(1);
    const entry = JSON.parse(stdout[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'INFO', message: 'job', outcome: 'succeeded', task: 'billing.send', jobId: jobEntry({}).jobId });
    expect(Date.parse(String(entry.timestamp))).not.toBeNaN();
    expect(JSON.parse(stderr[0] ?? '')).toMatchObject({ level: 'WARN', message: 'job', outcome: 'retry', retryInMs: 1_000 });
  });

  it('drops entries below FERRY_LOG_LEVEL, following a change of it', () => {
    vi.stubEnv('FERRY_LOG_LEVEL', 'warn');
    const quiet = outputOf(() => {
      log({ level: 'info', msg: 'not shown' });
      log({ level: 'error', msg: 'shown' });
    });
    expect([...quiet.stdout, ...quiet.stderr].map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['shown']);
    vi.stubEnv('FERRY_LOG_LEVEL', 'debug');
    const loud = outputOf(() => log({ level: 'debug', msg: 'now shown' }));
    expect(loud.stdout.map((l) => (JSON.parse(l) as { level: string }).level)).toEqual(['DEBUG']);
  });

  it("falls back to Powertools' POWERTOOLS_LOG_LEVEL, then info, when FERRY_LOG_LEVEL is unset again; the runtime's filter agrees", () => {
    vi.stubEnv('FERRY_LOG_LEVEL', 'error');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'warn');
    expect(outputOf(() => log({ level: 'warn', msg: 'hidden' })).stderr).toHaveLength(0);
    vi.stubEnv('FERRY_LOG_LEVEL', undefined);
    expect(logLevel()).toBe('warn');
    expect([levelShown('info'), levelShown('warn')]).toEqual([false, true]);
    expect(outputOf(() => log({ level: 'warn', msg: 'shown' })).stderr).toHaveLength(1);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', undefined);
    expect(logLevel()).toBe('info');
    expect(outputOf(() => log({ level: 'info', msg: 'shown' })).stdout).toHaveLength(1);
    expect(outputOf(() => log({ level: 'debug', msg: 'hidden' })).stdout).toHaveLength(0);
    // Every Powertools level counts, SILENT too; Lambda's own log level comes first, as Powertools has it.
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    expect(logLevel()).toBe('silent');
    expect(levelShown('error')).toBe(false);
    vi.stubEnv('AWS_LAMBDA_LOG_LEVEL', 'ERROR');
    expect(logLevel()).toBe('error');
  });

  it('is printed readably by the local runtime: the line it wrote becomes the terminal line', () => {
    vi.stubEnv('FERRY_LOG_LEVEL', 'info');
    vi.stubEnv('NO_COLOR', '1');
    const { stdout } = outputOf(() => log(jobEntry({ outcome: 'succeeded' })));
    const parsed = parseOutputLine(stdout[0] ?? '');
    if (parsed.kind !== 'entry') throw new Error(`not an entry: ${stdout[0]}`);
    expect(parsed.entry).toMatchObject({ level: 'info', msg: 'job' });
    expect(prettyEntry(parsed.entry, AT)).toBe('10:11:12.345 job billing.send           3f3bb374 #2 SUCCEEDED    37 ms');
  });
});

describe('parseOutputLine', () => {
  it('tells a log entry (level lower-cased, its timestamp), a metrics document and plain text apart', () => {
    const entry = parseOutputLine('{"level":"WARN","message":"dead-lettered","timestamp":"2026-11-22T10:11:12.345Z","service":"x","queue":"io"}');
    expect(entry).toEqual({ kind: 'entry', entry: { level: 'warn', msg: 'dead-lettered', service: 'x', queue: 'io' }, time: AT });
    expect(parseOutputLine('{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"Queue":"io"}')).toEqual({ kind: 'metrics' });
    expect(parseOutputLine('plain words')).toEqual({ kind: 'text' });
    expect(parseOutputLine('{not json')).toEqual({ kind: 'text' });
    expect(parseOutputLine('{"msg":"someone else\'s JSON"}')).toEqual({ kind: 'text' });
  });

  it('leaves the Lambda context Powertools adds out of a terminal line', () => {
    vi.stubEnv('NO_COLOR', '1');
    const parsed = parseOutputLine(
      '{"level":"INFO","message":"outbox swept","timestamp":"2026-11-22T10:11:12.345Z","service":"reports","cold_start":true,"function_name":"f","function_request_id":"r","sampling_rate":0,"xray_trace_id":"1-a-b","sent":2}',
    );
    if (parsed.kind !== 'entry') throw new Error('not an entry');
    expect(prettyEntry(parsed.entry, parsed.time)).toBe('10:11:12.345 INFO  outbox swept sent=2');
  });
});

describe('humanMs', () => {
  it('says milliseconds, seconds or minutes', () => {
    expect([humanMs(37.4), humanMs(2_400), humanMs(185_000)]).toEqual(['37 ms', '2.4 s', '3.1 min']);
  });
});
