/**
 * The reliability suite, short (bench/chaos/chaos-run.ts; `npm run
 * bench:chaos` runs it at full size): a few hundred jobs, a dozen workflows
 * and a report burst on the local runtime, under faults at the stated rates
 * (5% of AWS calls, 2% of invocations killed, 5% duplicate deliveries, 5% late
 * batches, clocks off by up to 3 s), with fixed seeds; rows written with
 * their job through the outbox, and users signed up and onboarded (the notes
 * service's code) with a duplicate onboarding job each. Every count a guarantee
 * makes zero must be zero, and every job and workflow must end.
 */
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runChaos } from '../../bench/chaos/chaos-run.js';

describe('the reliability suite under injected faults', () => {
  it.each([11, 12])('loses, duplicates and strands nothing with seed %i', async (seed) => {
    const figures = await runChaos({ seed, jobs: 250, workflows: 16, reportBursts: 1, burstSize: 8, outboxWrites: 20, signups: 6, emulators: inject('emulators'), quiescenceTimeoutMs: 120_000 });
    expect(figures.problems).toEqual([]);
    expect(figures).toMatchObject({
      jobs_enqueued: 250,
      jobs_terminal: 250,
      effects_duplicated: 0,
      effects_lost: 0,
      workflows_started: 16,
      workflows_terminal: 16,
      workflows_wrong_result: 0,
      messages_lost: 0,
      dead_letters_without_reason: 0,
      items_stuck: 0,
      report_wrong_result: 0,
      outbox_writes: 20,
      outbox_jobs_before_commit: 0,
      signups: 6,
      // An email and an SMS per user, each once.
      onboarding_deliveries: 12,
    });
    // The faults happened: each kind at least once in a run this size.
    expect(figures.faults_by_kind.throttle + figures.faults_by_kind.fail).toBeGreaterThan(0);
    expect(figures.faults_by_kind['lose-response']).toBeGreaterThan(0);
    expect(figures.faults_by_kind.duplicate).toBeGreaterThan(0);
  }, 240_000);
});
