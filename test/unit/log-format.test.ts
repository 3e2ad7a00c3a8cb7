import { afterEach, describe, expect, it, vi } from 'vitest';
import { log } from '../../lib/util/log.js';
import { humanMs, logFormat, prettyEntry } from '../../lib/util/log-format.js';
import { embeddedMetrics } from '../../lib/util/metrics.js';

const AT = new Date('2026-11-22T10:11:12.345Z');
/** A job outcome entry as the worker writes it, with its EMF block. */
const jobEntry = (fields: Record<string, unknown>) => ({
  level: 'info' as const,
  msg: 'job',
  jobId: '3f3bb374-2583-495c-a77d-655edc9f9ec6',
  attempt: 2,
  durationMs: 37,
  ...embeddedMetrics({ Queue: 'io', Task: 'billing.send' }, { JobsSucceeded: { value: 1, unit: 'Count' } }),
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
  it('gives a job outcome one line: time, task, short job id, attempt, outcome, duration, and no EMF', () => {
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

describe('log', () => {
  it('writes one JSON object with the EMF block when the format is json', () => {
    vi.stubEnv('FERRY_LOG_FORMAT', 'json');
    vi.stubEnv('FERRY_LOG_LEVEL', 'info');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    log(jobEntry({ outcome: 'succeeded' }));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(entry).toMatchObject({ msg: 'job', outcome: 'succeeded', task: 'billing.send', JobsSucceeded: 1 });
    expect(entry._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'Ferry' }] });
  });

  it('writes the readable line when the format is pretty, and drops levels under FERRY_LOG_LEVEL', () => {
    vi.stubEnv('FERRY_LOG_FORMAT', 'pretty');
    vi.stubEnv('FERRY_LOG_LEVEL', 'warn');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    log(jobEntry({ outcome: 'succeeded' }));
    log(jobEntry({ level: 'warn', outcome: 'retry', retryInMs: 1_000 }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ job billing\.send +3f3bb374 #2 RETRY .* retry in 1\.0 s$/);
  });
});

describe('log levels and metrics', () => {
  it('still writes a JSON entry that carries metrics below FERRY_LOG_LEVEL (CloudWatch reads it as data), and drops one without', () => {
    vi.stubEnv('FERRY_LOG_FORMAT', 'json');
    vi.stubEnv('FERRY_LOG_LEVEL', 'warn');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
    log(jobEntry({ outcome: 'succeeded' }));
    log({ level: 'info', msg: 'no metrics here' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'info', JobsSucceeded: 1 });
  });
});

describe('humanMs', () => {
  it('says milliseconds, seconds or minutes', () => {
    expect([humanMs(37.4), humanMs(2_400), humanMs(185_000)]).toEqual(['37 ms', '2.4 s', '3.1 min']);
  });
});
