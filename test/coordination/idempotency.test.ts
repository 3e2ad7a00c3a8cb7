/** once() and idempotent tasks against DynamoDB Local, with duplicate deliveries through the real worker. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minutes } from '../../lib/app/duration.js';
import { IdempotencyInProgressError, once } from '../../lib/coordination/idempotency.js';
import { createJobClient } from '../../lib/jobs/enqueue.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { onboard, runs, smsFailures, welcome } from '../fixtures/job-tasks.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
});
afterAll(async () => {
  await runtime?.stop();
});

describe('once', () => {
  it('runs the effect once for 50 concurrent callers; the others are told it is in progress', async () => {
    const key = randomUUID();
    let effects = 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        once(key, async () => {
          effects += 1;
          await new Promise((r) => setTimeout(r, 200));
          return 'sent';
        }),
      ),
    );
    expect(effects).toBe(1);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected.every((o) => o.reason instanceof IdempotencyInProgressError)).toBe(true);
    expect(await once(key, async () => 'again')).toEqual({ result: 'sent', ran: false });
  });

  it('releases the key when the effect fails, so a retry runs it', async () => {
    const key = randomUUID();
    await expect(once(key, () => Promise.reject(new Error('SMTP down')))).rejects.toThrow('SMTP down');
    expect(await once(key, async () => 'sent on retry')).toEqual({ result: 'sent on retry', ran: true });
  });

  it('lets a new run take over a key left in progress by an invocation that died', async () => {
    const key = randomUUID();
    const clock = { now: Date.now() };
    const stuck = once(key, () => new Promise<string>(() => undefined), { inProgressFor: minutes(1), now: () => clock.now });
    void stuck;
    await new Promise((r) => setTimeout(r, 100));
    await expect(once(key, async () => 'too early', { now: () => clock.now })).rejects.toThrow(IdempotencyInProgressError);
    clock.now += 61_000;
    expect(await once(key, async () => 'after the deadline', { now: () => clock.now })).toEqual({ result: 'after the deadline', ran: true });
  });
});

describe('an idempotent task', () => {
  it('sends the welcome email once per user under duplicate deliveries and concurrent workers', async () => {
    const userId = randomUUID();
    const jobs = createJobClient();
    const before = (await runtime.stats()).queues.jobs?.deleted ?? 0;
    // Six different jobs for the same user: duplicates of one request, delivered at once.
    await jobs.enqueueMany(welcome, Array.from({ length: 6 }, () => ({ userId })));
    await eventually('all six jobs to be done with', async () => (((await runtime.stats()).queues.jobs?.deleted ?? 0) - before >= 6 ? true : undefined));
    expect(runs().byKey[`welcome:${userId}`]).toHaveLength(1);
  });

  it('onboards each user once, email and SMS, under 20 duplicate jobs each, concurrent workers and an SMS provider failing between the two sends', async () => {
    const users = Array.from({ length: 5 }, () => randomUUID());
    // The SMS provider fails each user's first two sends: after the email went out, before the SMS did.
    for (const userId of users) smsFailures()[userId] = 2;
    const jobs = createJobClient();
    const enqueued = await jobs.enqueueMany(onboard, users.flatMap((userId) => Array.from({ length: 20 }, () => ({ userId }))));
    expect(enqueued).toHaveLength(100);
    await eventually(
      'all 100 onboarding jobs to end',
      async () => {
        const states = await Promise.all(enqueued.map((j) => jobs.getJob(j.jobId)));
        return states.every((s) => s.status === 'SUCCEEDED' || s.status === 'FAILED') ? states : undefined;
      },
      60_000,
    );
    for (const userId of users) {
      expect(runs().byKey[`email:${userId}`], `email of ${userId}`).toHaveLength(1);
      expect(runs().byKey[`sms:${userId}`], `sms of ${userId}`).toHaveLength(1);
      expect(smsFailures()[userId]).toBe(0);
    }
  }, 90_000);
});
