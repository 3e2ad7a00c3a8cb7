/** Dedup markers on enqueue, against DynamoDB Local and fauxqs with the real worker. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { millis, seconds } from '../../lib/app/duration.js';
import { DynamoDedupGuard } from '../../lib/coordination/dedup-guard.js';
import { createJobClient, type JobClient } from '../../lib/jobs/enqueue.js';
import { InvalidEnqueueOptionError } from '../../lib/jobs/errors.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { member, runs } from '../fixtures/job-tasks.js';

let runtime: LocalRuntime;
let jobs: JobClient;
beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
  jobs = createJobClient({ guard: new DynamoDedupGuard() });
});
afterAll(async () => {
  await runtime?.stop();
});

const sent = async () => (await runtime.stats()).queues.jobs?.sent ?? 0;

async function finished(jobId: string) {
  return eventually(`job ${jobId} to succeed`, async () => {
    const job = await jobs.getJob(jobId);
    return job.status === 'SUCCEEDED' ? job : undefined;
  });
}

describe('enqueue with a dedup key', () => {
  it('sends one job for 100 concurrent enqueues with the same key, and returns its id to all', async () => {
    const dedupKey = randomUUID();
    const k = randomUUID();
    const before = await sent();
    const results = await Promise.all(Array.from({ length: 100 }, () => jobs.enqueue(member, { key: k }, { dedupKey })));
    const ids = new Set(results.map((r) => r.jobId));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
    expect((await sent()) - before).toBe(1);
    await finished(results[0]?.jobId ?? '');
    expect(runs().byKey[k]).toHaveLength(1);
  });

  it('admits a new job with the same key once the first finished and the window passed', async () => {
    const dedupKey = randomUUID();
    const first = await jobs.enqueue(member, { key: randomUUID() }, { dedupKey });
    await finished(first.jobId);
    const second = await jobs.enqueue(member, { key: randomUUID() }, { dedupKey });
    expect(second.deduplicated).toBe(false);
    expect(second.jobId).not.toBe(first.jobId);
  });

  it('deduplicates inside the window even after the first job finished', async () => {
    const dedupKey = randomUUID();
    const first = await jobs.enqueue(member, { key: randomUUID() }, { dedupKey, dedupWindow: seconds(60) });
    await finished(first.jobId);
    expect(await jobs.enqueue(member, { key: randomUUID() }, { dedupKey, dedupWindow: seconds(60) })).toMatchObject({ jobId: first.jobId, deduplicated: true });
  });

  it('lets exactly one of many concurrent takeovers of a stale marker win', async () => {
    const dedupKey = randomUUID();
    const first = await jobs.enqueue(member, { key: randomUUID() }, { dedupKey, dedupWindow: millis(1) });
    await finished(first.jobId);
    const before = await sent();
    const results = await Promise.all(Array.from({ length: 30 }, () => jobs.enqueue(member, { key: randomUUID() }, { dedupKey })));
    expect(new Set(results.map((r) => r.jobId)).size).toBe(1);
    expect((await sent()) - before).toBe(1);
  });

  it('refuses a dedup key when no guard is configured, sending nothing', async () => {
    const before = await sent();
    await expect(createJobClient().enqueue(member, { key: 'x' }, { dedupKey: 'k' })).rejects.toThrow(InvalidEnqueueOptionError);
    expect(await sent()).toBe(before);
  });
});
