/** Scheduled rules in the local runtime: the EventBridge envelope, firing on demand, and firing on time. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { defineApp } from '../../lib/app/define-app.js';
import { seconds } from '../../lib/app/duration.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { FunctionHost } from '../../lib/local/function-host.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { RuntimeStats } from '../../lib/local/runtime-stats.js';
import { Scheduler } from '../../lib/local/scheduler.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { recorder } from '../fixtures/recorder.js';
import { testApp } from '../fixtures/test-app.js';

describe('scheduled rules in the local runtime', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime(testApp);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('invokes the function with an EventBridge Scheduled Event when fired through the local endpoint', async () => {
    recorder().scheduled.length = 0;
    const response = await fetch(`${runtime.url}/_ferry/schedules/nightly`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: 'ok' });
    const [call] = recorder().scheduled as { event: Record<string, unknown>; functionName: string; remainingMs: number }[];
    expect(call?.event).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {}, region: 'us-east-1' });
    expect((call?.event.resources as string[])[0]).toMatch(/^arn:aws:events:us-east-1:000000000000:rule\/t-[0-9a-f]+-nightly$/);
    expect(call?.functionName).toMatch(/-ticker$/);
    expect(call?.remainingMs).toBeGreaterThan(2_000);
    expect((await runtime.stats()).schedules.nightly?.fired).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 naming the declared schedules for an unknown one', async () => {
    const response = await fetch(`${runtime.url}/_ferry/schedules/weekly`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toMatch(/no schedule "weekly".*declared: nightly/);
  });
});

describe('Scheduler timing', () => {
  // Waiting for real cron times would take minutes: the clock is faked, the
  // handler module and FunctionHost are real.
  const app = defineApp({
    name: 'timing',
    functions: {
      ticker: {
        entry: 'test/fixtures/handlers.ts',
        handler: 'scheduleHandler',
        timeout: seconds(3),
        events: [
          { type: 'schedule', name: 'every5', expression: 'rate(5 minutes)' },
          { type: 'schedule', name: 'hourly', expression: 'cron(0 * * * ? *)', input: { kind: 'hourly' } },
        ],
      },
    },
  });

  it('fires rate schedules every interval from start and cron schedules at matching minutes, with the declared input', async () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T10:58:00Z') });
    try {
      const stats = new RuntimeStats();
      const fn = app.functions[0];
      if (!fn) throw new Error('no function');
      const host = new FunctionHost({ fn, physicalName: 'timing-ticker', projectRoot: PROJECT_ROOT, region: 'us-east-1', stats, log: () => undefined });
      await host.load();
      const scheduler = new Scheduler({ schedules: app.schedules, hosts: new Map([['ticker', host]]), ruleArn: (n) => n, region: 'us-east-1', stats });
      recorder().scheduled.length = 0;
      scheduler.start();
      await vi.advanceTimersByTimeAsync(61_000 * 1); // 10:59:01: nothing yet
      expect(recorder().scheduled).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(60_000); // 11:00:01: the hourly cron
      expect(recorder().scheduled).toEqual([expect.objectContaining({ event: { kind: 'hourly' } })]);
      await vi.advanceTimersByTimeAsync(3 * 60_000); // 11:03:01: rate fired at 11:03
      // Each schedule's count, when it last fired and when it fires next.
      expect(stats.snapshot([], {}, {}).schedules).toEqual({
        hourly: { fired: 1, lastFiredAt: '2026-01-01T11:00:00.000Z', nextAt: '2026-01-01T12:00:00.000Z' },
        every5: { fired: 1, lastFiredAt: '2026-01-01T11:03:00.000Z', nextAt: '2026-01-01T11:08:00.000Z' },
      });
      await vi.advanceTimersByTimeAsync(60 * 60_000); // 12:03:01
      expect(stats.snapshot([], {}, {}).schedules).toEqual({
        hourly: { fired: 2, lastFiredAt: '2026-01-01T12:00:00.000Z', nextAt: '2026-01-01T13:00:00.000Z' },
        every5: { fired: 13, lastFiredAt: '2026-01-01T12:03:00.000Z', nextAt: '2026-01-01T12:08:00.000Z' },
      });
      await scheduler.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
