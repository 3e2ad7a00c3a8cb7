/**
 * Queue heartbeats (lib/jobs/heartbeat.ts) on the local runtime, with the
 * deployed bundles in sandboxes: the sender's canary, the worker's record of
 * its start, and the declared alarm, evaluated locally on the metric the
 * functions' EMF lines carry, going to ALARM when the worker pool stops and
 * back to OK when it resumes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heartbeatState, recentHeartbeats } from '../../lib/jobs/heartbeat.js';
import type { LocalAlarmStatus } from '../../lib/local/local-alarms.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { heartbeatApp } from '../fixtures/heartbeat-app.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
const logged: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  runtime = await startTestRuntime(heartbeatApp, { code: 'bundles', log: (line) => void logged.push(line) });
  // The test reads the records as the console does: with a function's environment.
  Object.assign(process.env, runtime.functions.heartbeat?.environment, runtime.environment);
}, 180_000);
afterAll(() => runtime?.stop());

const alarm = (): LocalAlarmStatus => {
  const found = runtime.alarms().find((a) => a.queue === 'io');
  if (found === undefined) throw new Error('no heartbeat alarm for queue io');
  return found;
};

/** Fires ticks a second and a bit apart (a tick's time has whole seconds) until `state`. */
async function tickUntil(state: LocalAlarmStatus['state']): Promise<LocalAlarmStatus> {
  const deadline = Date.now() + 45_000;
  for (;;) {
    if (alarm().state === state) return alarm();
    if (Date.now() > deadline) throw new Error(`alarm still ${alarm().state} (${alarm().reason}), waiting for ${state}`);
    await runtime.fireSchedule('beats-heartbeat');
    await sleep(1_100);
  }
}

describe('queue heartbeats', () => {
  it('records each canary\'s start and latency once, even for a tick delivered twice', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    await runtime.fireSchedule('beats-heartbeat', at);
    const started = await eventually('the canary to start', async () => {
      const samples = await recentHeartbeats('io');
      return samples.find((s) => s.id === `io:${at.toISOString()}` && s.startedAt !== undefined);
    });
    expect(started.latencyMs).toBeGreaterThanOrEqual(0);
    expect(started.latencyMs).toBeLessThan(5_000);
    expect(Date.parse(started.startedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(started.sentAt));

    // EventBridge delivers the tick again: the record stands, already started, and no second canary goes.
    await runtime.fireSchedule('beats-heartbeat', at);
    await sleep(500);
    const again = (await recentHeartbeats('io')).filter((s) => s.id === started.id);
    expect(again).toEqual([started]);
    expect(heartbeatState(await recentHeartbeats('io'), 2_000).state).toBe('ok');
  });

  it('goes to ALARM when the worker pool stops, and back to OK when it resumes', async () => {
    const healthy = await tickUntil('OK');
    expect(healthy.reason).toMatch(/0 of the last 1 period/);

    let alarmedSince = '';
    runtime.setEventSourceEnabled('worker', 'io', false);
    try {
      await runtime.fireSchedule('beats-heartbeat');
      await sleep(2_500);
      // The next tick finds the first canary still waiting, past lateAfter (2 s): a late datapoint with no worker reporting.
      const late = await tickUntil('ALARM');
      alarmedSince = late.since;
      expect(late.reason).toMatch(/1 of the last 1 period\(s\) \[\d+\] greater than the threshold \(2000\)/);
      expect(logged.some((line) => /alarm t-[0-9a-f]+-io-heartbeat: OK -> ALARM/.test(line))).toBe(true);
      expect(heartbeatState(await recentHeartbeats('io'), 2_000).state).toBe('late');
    } finally {
      runtime.setEventSourceEnabled('worker', 'io', true);
    }

    // The waiting canaries start (late), then fresh ones start at once: the next period is fine.
    const recovered = await tickUntil('OK');
    expect(recovered.since > alarmedSince).toBe(true);
    expect(logged.some((line) => /-io-heartbeat: ALARM -> OK/.test(line))).toBe(true);
    const samples = await recentHeartbeats('io');
    expect(samples.every((s) => s.startedAt !== undefined)).toBe(true);
    expect(heartbeatState(samples, 2_000).state).toBe('ok');
  });
});
