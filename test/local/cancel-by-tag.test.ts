/**
 * Entity tags and `cancelByTag` on the local runtime (real worker, fauxqs,
 * DynamoDB Local): queued jobs of a tag are cancelled and never run, a running
 * one stops at its next check and ends CANCELLED, a job failing while a stop
 * is asked is not retried, other tags are untouched, and a tag needs a tracked
 * job.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seconds } from '../../lib/app/duration.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { createJobClient, type JobClient } from '../../lib/jobs/enqueue.js';
import { InvalidEnqueueOptionError } from '../../lib/jobs/errors.js';
import { JobStatus, type JobRecord } from '../../lib/jobs/job-state.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { runs, steps } from '../fixtures/job-tasks.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { registry } from '../fixtures/job-worker.js';

let runtime: LocalRuntime;
let jobs: JobClient;

beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
  jobs = createJobClient({ registry });
});
afterAll(async () => {
  await runtime?.stop();
});

const stepsDone = (key: string) => runs().byKey[key]?.length ?? 0;

async function ended(jobId: string): Promise<JobRecord> {
  return eventually(`job ${jobId} to end`, async () => {
    const job = await jobs.getJob(jobId);
    return job.status === JobStatus.SUCCEEDED || job.status === JobStatus.FAILED || job.status === JobStatus.CANCELLED ? job : undefined;
  }, 30_000);
}

describe('cancelByTag', () => {
  it('cancels the queued jobs of a tag (they never run) and leaves other tags alone', async () => {
    const tag = `note:${randomUUID()}`;
    const other = `note:${randomUUID()}`;
    const keys = [randomUUID(), randomUUID(), randomUUID()];
    const queued = await Promise.all(keys.map((key) => jobs.enqueue(steps, { key, steps: 1, stepMs: 0 }, { tag, delay: seconds(2) })));
    const kept = await jobs.enqueue(steps, { key: `kept-${keys[0]}`, steps: 1, stepMs: 0 }, { tag: other, delay: seconds(2) });

    const result = await jobs.cancelByTag(tag);
    expect(new Set(result.cancelled)).toEqual(new Set(queued.map((j) => j.jobId)));
    expect(result.stopping).toEqual([]);
    expect((await jobs.getJob(queued[0]?.jobId ?? '')).status).toBe(JobStatus.CANCELLED);

    expect((await ended(kept.jobId)).status).toBe(JobStatus.SUCCEEDED);
    // The cancelled ones' messages were delivered too (same delay): each was skipped, none ran.
    await new Promise((r) => setTimeout(r, 500));
    for (const key of keys) expect(stepsDone(key)).toBe(0);
    // Asked again (a retry whose answer was lost): the same answer, nothing changed.
    expect(new Set((await jobs.cancelByTag(tag)).cancelled)).toEqual(new Set(queued.map((j) => j.jobId)));
  });

  it('asks a running job to stop: it stops at its next check and ends CANCELLED, keeping the steps it made', async () => {
    const tag = `note:${randomUUID()}`;
    const key = randomUUID();
    const job = await jobs.enqueue(steps, { key, steps: 20, stepMs: 100 }, { tag });
    await eventually('two steps done', async () => (stepsDone(key) >= 2 ? true : undefined), 20_000);

    const result = await jobs.cancelByTag(tag);
    expect(result.stopping).toEqual([job.jobId]);
    const record = await ended(job.jobId);
    expect(record.status).toBe(JobStatus.CANCELLED);
    expect(record.stopRequestedAt).toBeDefined();
    const done = stepsDone(key);
    expect(done).toBeGreaterThanOrEqual(2);
    expect(done).toBeLessThan(20);
    await new Promise((r) => setTimeout(r, 500));
    expect(stepsDone(key)).toBe(done);
  });

  it('does not retry a job that fails while a stop is asked of it (the failed attempt ends it CANCELLED, in the same write)', async () => {
    const tag = `note:${randomUUID()}`;
    const key = randomUUID();
    // Fails at its fourth step without checking again first: without the stop it would be retried (3 attempts).
    const job = await jobs.enqueue(steps, { key, steps: 4, stepMs: 500, failAtStep: 3 }, { tag });
    await eventually('three steps done', async () => (stepsDone(key) >= 3 ? true : undefined), 20_000);
    const asked = await jobs.cancelByTag(tag);
    // Asked while it ran its last step (or, on a slow machine, just after its failure was recorded: then cancelled while queued).
    expect([...asked.stopping, ...asked.cancelled]).toEqual([job.jobId]);
    const record = await ended(job.jobId);
    expect(record.status).toBe(JobStatus.CANCELLED);
    expect(record.attempts).toBe(1);
    await new Promise((r) => setTimeout(r, 800));
    expect(stepsDone(key)).toBe(3);
  });

  it('needs a tracked job, and a tag of 1-200 characters', async () => {
    await expect(jobs.enqueue(steps, { key: 'x', steps: 1, stepMs: 0 }, { tag: 'note:1', trackStatus: false })).rejects.toThrow(InvalidEnqueueOptionError);
    await expect(jobs.enqueue(steps, { key: 'x', steps: 1, stepMs: 0 }, { tag: '' })).rejects.toThrow(/1-200 characters/);
    await expect(jobs.enqueue(steps, { key: 'x', steps: 1, stepMs: 0 }, { tag: 'x'.repeat(201) })).rejects.toThrow(/1-200 characters/);
  });

  it('runs the same way in eager mode: a stop asked while it runs ends it CANCELLED', async () => {
    const eager = createJobClient({ registry, eager: true });
    const tag = `note:${randomUUID()}`;
    const key = randomUUID();
    const running = eager.enqueue(steps, { key, steps: 20, stepMs: 50 }, { tag });
    await eventually('a step done', async () => (stepsDone(key) >= 1 ? true : undefined), 10_000);
    await eager.cancelByTag(tag);
    const outcome = await running;
    expect(outcome.eager?.status).toBe('CANCELLED');
    expect(stepsDone(key)).toBeLessThan(20);
  });
});
