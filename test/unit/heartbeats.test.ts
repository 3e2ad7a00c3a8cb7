/**
 * Heartbeats' pure parts: the declaration's checks and defaults, a queue's
 * heartbeat state from its samples, the EMF lines the local runtime reads as
 * CloudWatch Logs does, and the local alarm evaluation.
 */
import { describe, expect, it } from 'vitest';
import { defineApp, HEARTBEAT_ENV, InvalidDeclarationError } from '../../lib/app/define-app.js';
import type { AppDeclaration } from '../../lib/app/declaration.js';
import { minutes, seconds } from '../../lib/app/duration.js';
import { heartbeatState, oldestWaiting, type HeartbeatSample } from '../../lib/jobs/heartbeat.js';
import { evaluateAlarm, type LocalAlarmSpec } from '../../lib/local/local-alarms.js';
import { extractEmf, LocalMetrics } from '../../lib/local/local-metrics.js';

const base = (heartbeats: AppDeclaration['heartbeats']): AppDeclaration => ({
  name: 'beats',
  tables: { state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' } } },
  queues: { io: {}, idle: {} },
  functions: {
    worker: { entry: 'w.ts', timeout: seconds(10), events: [{ type: 'sqs', queue: 'io' }] },
    beat: {
      entry: 'b.ts',
      timeout: seconds(10),
      uses: { tables: { state: 'readWrite' }, queues: { io: 'send' } },
      events: [{ type: 'schedule', name: 'beat', expression: 'rate(1 minute)' }],
    },
  },
  ...(heartbeats !== undefined && { heartbeats }),
});

const problemsOf = (declaration: AppDeclaration): readonly string[] => {
  try {
    defineApp(declaration);
    return [];
  } catch (error) {
    if (error instanceof InvalidDeclarationError) return error.problems;
    throw error;
  }
};

describe('heartbeats in the declaration', () => {
  it('applies the defaults and tells every function the settings', () => {
    const app = defineApp(base({ sender: 'beat', queues: ['io'] }));
    expect(app.heartbeats).toMatchObject({ sender: 'beat', queues: ['io'], table: 'state', alarm: { periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2, thresholdMs: 120_000, treatMissingData: 'missing' } });
    for (const fn of app.functions) expect(JSON.parse(fn.environment[HEARTBEAT_ENV] ?? '')).toEqual({ queues: ['io'], table: 'state', lateAfterMs: 120_000, highResolution: false });
  });

  it('writes the metric at high resolution for a period under a minute', () => {
    const app = defineApp(base({ sender: 'beat', queues: ['io'], lateAfter: seconds(5), alarm: { period: seconds(10), evaluationPeriods: 1 } }));
    expect(app.heartbeats?.alarm).toMatchObject({ periodSeconds: 10, evaluationPeriods: 1, datapointsToAlarm: 1 });
    expect(JSON.parse(app.functions[0]?.environment[HEARTBEAT_ENV] ?? '')).toMatchObject({ highResolution: true });
  });

  it('names each problem: an unknown sender, a queue it may not send to or nobody consumes, a period CloudWatch refuses', () => {
    expect(problemsOf(base({ sender: 'nobody', queues: ['io'] }))).toContain('heartbeats: sender names unknown function "nobody"');
    expect(problemsOf(base({ sender: 'beat', queues: ['idle'] }))).toEqual([
      'heartbeats: queue "idle" is consumed by no function (a canary would never start)',
      `heartbeats: sender "beat" needs uses.queues.idle: 'send'`,
    ]);
    expect(problemsOf(base({ sender: 'worker', queues: ['io'] }))).toContain('heartbeats: sender "worker" has no schedule event (declare one, e.g. rate(1 minute))');
    expect(problemsOf(base({ sender: 'beat', queues: ['io'], alarm: { period: seconds(45) } }))).toEqual(['heartbeats: alarm.period must be 10, 20 or 30 seconds or a multiple of 60 (got 45 s)']);
    expect(problemsOf(base({ sender: 'beat', queues: ['io'], alarm: { evaluationPeriods: 2, datapointsToAlarm: 3 } }))).toEqual(['heartbeats: alarm.datapointsToAlarm must be 1 to evaluationPeriods (got 3)']);
    expect(problemsOf(base({ sender: 'beat', queues: ['io'], lateAfter: minutes(0) }))).toEqual(['heartbeats: lateAfter must be at least 1 second']);
  });
});

describe('a queue\'s heartbeat state', () => {
  const now = Date.parse('2026-11-22T12:10:00Z');
  const sample = (minute: number, latencyMs?: number): HeartbeatSample => ({
    queue: 'io',
    id: `io:${minute}`,
    sentAt: new Date(now - (10 - minute) * 60_000).toISOString(),
    ...(latencyMs !== undefined && { startedAt: 'x', latencyMs }),
  });

  it('is ok when the last canary started in time, late when it took too long, no data when there is none', () => {
    expect(heartbeatState([sample(9, 150), sample(8, 90)], 120_000, now)).toEqual({ state: 'ok', latencyMs: 150 });
    expect(heartbeatState([sample(9, 180_000)], 120_000, now)).toEqual({ state: 'late', latencyMs: 180_000 });
    expect(heartbeatState([], 120_000, now)).toEqual({ state: 'no-data' });
  });

  it('counts the oldest canary still waiting since the last one that started: a stuck pool is late with no worker reporting', () => {
    const samples = [sample(9), sample(8), sample(7), sample(6, 40), sample(5)];
    expect(oldestWaiting(samples)?.id).toBe('io:7');
    expect(heartbeatState(samples, 120_000, now)).toEqual({ state: 'late', latencyMs: 180_000 });
    expect(heartbeatState([sample(9)], 120_000, now)).toEqual({ state: 'ok', latencyMs: 60_000 });
  });
});

describe('local metrics and alarms', () => {
  // An EMF document as publishMetrics writes it (test/unit/metrics.test.ts), at a chosen time.
  const line = (value: number, at: number, queue = 'q-io') =>
    JSON.stringify({ _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: 'Ferry', Dimensions: [['Queue']], Metrics: [{ Name: 'HeartbeatLatency', Unit: 'Milliseconds' }] }] }, Queue: queue, HeartbeatLatency: value });

  it('reads the datapoints of an EMF line, and nothing from other lines or EMF with a missing dimension', () => {
    expect(extractEmf(line(42, 1_000))).toEqual([{ namespace: 'Ferry', name: 'HeartbeatLatency', dimensions: { Queue: 'q-io' }, value: 42, timestamp: 1_000 }]);
    expect(extractEmf('{"level":"info","msg":"hello"}')).toEqual([]);
    expect(extractEmf('not json "_aws"')).toEqual([]);
    const noDimension = JSON.parse(line(1, 1_000)) as Record<string, unknown>;
    delete noDimension.Queue;
    expect(extractEmf(JSON.stringify(noDimension))).toEqual([]);
  });

  it('evaluates whole periods as CloudWatch does: M of N beyond the threshold is ALARM, missing periods left out, none at all INSUFFICIENT_DATA', () => {
    const spec: LocalAlarmSpec = { name: 'a', queue: 'io', namespace: 'Ferry', metricName: 'HeartbeatLatency', dimensions: { Queue: 'q-io' }, periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2, threshold: 1_000 };
    const end = Date.parse('2026-11-22T12:03:00Z');
    const metrics = new LocalMetrics();
    expect(evaluateAlarm(spec, metrics, end).state).toBe('INSUFFICIENT_DATA');
    metrics.ingest(line(50, end - 170_000)); // period 1: fine
    metrics.ingest(line(5_000, end - 100_000)); // period 2: late
    metrics.ingest(line(20, end - 99_000)); // period 2's maximum stays late
    metrics.ingest(line(9_999, end - 50_000, 'another-queue'));
    const ok = evaluateAlarm(spec, metrics, end);
    expect(ok.state).toBe('OK');
    expect(ok.reason).toContain('[50, 5000, missing]');
    metrics.ingest(line(2_000, end - 1)); // period 3: late
    const alarmed = evaluateAlarm(spec, metrics, end);
    expect(alarmed.state).toBe('ALARM');
    expect(alarmed.reason).toContain('2 of the last 3 period(s) [50, 5000, 2000]');
    metrics.ingest(line(2_000, end)); // the next period's: not evaluated yet
    expect(evaluateAlarm(spec, metrics, end).state).toBe('ALARM');
  });
});
