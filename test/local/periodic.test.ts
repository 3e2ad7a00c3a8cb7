/**
 * Periodic jobs that never overlap (lib/jobs/periodic.ts) on the local
 * runtime: 20 ticks, 100 ms apart, of a run that takes 400 ms; with `skip`
 * and with `coalesce`; a tick delivered twice; the schedule's last and next
 * runs in the stats.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../../lib/jobs/enqueue.js';
import { periodicJobId, type PeriodicStatus } from '../../lib/jobs/periodic.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { periodicApp } from '../fixtures/periodic-app.js';
import { coalescing, periodicRuns, RUN_MS, skipping } from '../fixtures/periodic-jobs.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(periodicApp);
});
afterAll(() => runtime?.stop());

/** 20 ticks, one a minute apart in scheduled time, fired 100 ms apart in real time. */
async function fireTicks(schedule: string, first: Date, count = 20): Promise<Date[]> {
  const ticks = Array.from({ length: count }, (_, i) => new Date(first.getTime() + i * 60_000));
  for (const tick of ticks) {
    await runtime.fireSchedule(schedule, tick);
    await new Promise((r) => setTimeout(r, 100));
  }
  return ticks;
}

const idle = (status: () => Promise<PeriodicStatus>) =>
  eventually('the schedule to be idle', async () => {
    const s = await status();
    return s.running === undefined && s.pendingTick === undefined ? s : undefined;
  });

describe('periodic jobs', () => {
  it('skips the ticks that arrive while a run is going: never two runs at once over 20 ticks', async () => {
    const ticks = await fireTicks('report-skip', new Date('2026-03-01T00:00:00Z'));
    const status = await idle(() => skipping.status());
    const runs = periodicRuns('report-skip');
    expect(runs.maxRunning).toBe(1);
    // Every tick either ran or was skipped, none both and none twice.
    expect(new Set(runs.ticks).size).toBe(runs.ticks.length);
    expect(runs.ticks.length + status.skipped).toBe(20);
    // A run takes 400 ms and ticks come every 100 ms: most are skipped, and the first ran.
    expect(runs.ticks[0]).toBe(ticks[0]?.toISOString());
    expect(runs.ticks.length).toBeGreaterThanOrEqual(2);
    expect(runs.ticks.length).toBeLessThanOrEqual(Math.ceil((20 * 100) / RUN_MS) + 1);
    expect(status).toMatchObject({ lastTick: ticks[19]?.toISOString(), coalesced: 0, lastRun: { tick: runs.ticks.at(-1), outcome: 'succeeded' } });
  });

  it('coalesces the ticks that arrive while a run is going into one, run when it ends: the last tick always runs', async () => {
    const ticks = await fireTicks('report-coalesce', new Date('2026-03-02T00:00:00Z'));
    const status = await idle(() => coalescing.status());
    const runs = periodicRuns('report-coalesce');
    expect(runs.maxRunning).toBe(1);
    expect(new Set(runs.ticks).size).toBe(runs.ticks.length);
    // Every tick started a run or became the pending one (coalesced); a pending tick runs unless a later one replaced it.
    expect(status.coalesced).toBeGreaterThanOrEqual(20 - runs.ticks.length);
    expect(status.coalesced).toBeLessThan(20);
    expect(runs.ticks.length).toBeLessThanOrEqual(Math.ceil((20 * 100) / RUN_MS) + 2);
    // The first tick and the last both ran: nothing the schedule asked for is lost, only folded together.
    expect(runs.ticks[0]).toBe(ticks[0]?.toISOString());
    expect(runs.ticks.at(-1)).toBe(ticks[19]?.toISOString());
    expect(status).toMatchObject({ skipped: 0, lastRun: { tick: ticks[19]?.toISOString(), outcome: 'succeeded' } });
  });

  it('runs a tick delivered twice at once only once', async () => {
    const tick = new Date('2026-03-03T00:00:00Z');
    await Promise.all([runtime.fireSchedule('report-skip', tick), runtime.fireSchedule('report-skip', tick)]);
    await idle(() => skipping.status());
    const jobId = periodicJobId('report-skip', tick.toISOString());
    // The run frees the schedule as its task returns, a moment before the job's record says SUCCEEDED.
    const job = await eventually('the tick\'s job to succeed', async () => {
      const found = await jobs.getJob(jobId);
      return found.status === 'SUCCEEDED' ? found : undefined;
    });
    expect(job).toMatchObject({ attempts: 1 });
    expect(periodicRuns('report-skip').ticks.filter((t) => t === tick.toISOString())).toHaveLength(1);
    // Delivered again later, after its run ended: a tick seen before changes nothing (no run, no skip counted, the
    // job's record as it was).
    const before = await skipping.status();
    await runtime.fireSchedule('report-skip', tick);
    await new Promise((r) => setTimeout(r, RUN_MS + 200));
    expect(periodicRuns('report-skip').ticks.filter((t) => t === tick.toISOString())).toHaveLength(1);
    expect(await skipping.status()).toEqual(before);
    expect(await jobs.getJob(jobId)).toEqual(job);
  });

  it('shows each schedule when it last fired and when it fires next, and its last run', async () => {
    const stats = (await runtime.stats()).schedules['report-skip'];
    expect(stats?.lastFiredAt).toBe('2026-03-03T00:00:00.000Z');
    expect(Date.parse(stats?.nextAt ?? '')).toBeGreaterThan(Date.now());
    expect((await skipping.status()).lastRun).toMatchObject({ tick: '2026-03-03T00:00:00.000Z', outcome: 'succeeded' });
  });
});
