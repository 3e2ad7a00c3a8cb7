/** Single-flight computations end to end: requests, SQS, the worker, DynamoDB. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFlight } from '../../lib/coordination/flight-task.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { runs, slowSum } from '../fixtures/job-tasks.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp);
});
afterAll(async () => {
  await runtime?.stop();
});

describe('requestFlight', () => {
  it('turns 1,000 concurrent cold requests into one message and one computation, then serves the result', async () => {
    const key = randomUUID();
    const before = (await runtime.stats()).queues.jobs?.sent ?? 0;
    const answers = await Promise.all(Array.from({ length: 1_000 }, () => requestFlight(slowSum, key, { values: [1, 2, 3] })));
    expect(answers.every((a) => a.state === 'pending')).toBe(true);
    expect(((await runtime.stats()).queues.jobs?.sent ?? 0) - before).toBe(1);
    const ready = await eventually('the result', async () => {
      const answer = await requestFlight(slowSum, key, { values: [1, 2, 3] });
      return answer.state === 'ready' ? answer : undefined;
    });
    expect(ready).toMatchObject({ result: 6, stale: false });
    expect(runs().byKey[`flight:${key}`]).toHaveLength(1);
  });

  it('ends in the failed state with the error after the task gives up, and keeps answering it during the cool-down', async () => {
    const key = randomUUID();
    await requestFlight(slowSum, key, { values: [], fail: true });
    const failed = await eventually('the failure', async () => {
      const answer = await requestFlight(slowSum, key, { values: [], fail: true });
      return answer.state === 'failed' ? answer : undefined;
    });
    expect(failed).toMatchObject({ error: { name: 'Error', message: 'the warehouse is down', code: 'UPSTREAM' } });
    expect(runs().byKey[`flight:${key}`]?.map((r) => r.attempt)).toEqual([1, 2]);
  });
});
