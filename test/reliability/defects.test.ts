/**
 * The defects fault injection found, each reproduced with one scripted fault
 * (lib/local/fault-injection.ts) on the local runtime: a send that fails on
 * every SDK retry, a write applied with its response lost, a result DynamoDB
 * refuses, a computation that outlives its timeout. Each test failed before
 * its fix.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { millis, seconds } from '../../lib/app/duration.js';
import { DynamoDedupGuard } from '../../lib/coordination/dedup-guard.js';
import { requestFlight } from '../../lib/coordination/flight-task.js';
import { once } from '../../lib/coordination/idempotency.js';
import { LeaseStore } from '../../lib/coordination/lease.js';
import { SingleFlight } from '../../lib/coordination/single-flight.js';
import { deadLetterReasonOf, type DeadLetterReason } from '../../lib/jobs/dead-letter.js';
import { DynamoJobStore } from '../../lib/jobs/dynamo-job-store.js';
import { createJobClient } from '../../lib/jobs/enqueue.js';
import type { JobRecord } from '../../lib/jobs/job-state.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { chain, chord, s, si } from '../../lib/workflows/canvas.js';
import type { WorkflowView } from '../../lib/workflows/workflow-engine.js';
import { reliabilityApp } from '../fixtures/reliability-app.js';
import { add, broken, bulky, counted, dated, datedOnce, effects, slowFlight, xsum } from '../fixtures/reliability-tasks.js';
import { workflows } from '../fixtures/reliability-worker.js';
import { inspectQueue } from '../helpers/queues.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  // No random faults: each test scripts the one it needs.
  runtime = await startTestRuntime(reliabilityApp, { faults: { seed: 1 } });
});
afterAll(async () => {
  await runtime?.stop();
});

const client = createJobClient();
const injector = () => {
  if (runtime.injector === undefined) throw new Error('the runtime injects no faults');
  return runtime.injector;
};

async function ended(workflowId: string, timeoutMs = 30_000): Promise<WorkflowView> {
  return eventually(`workflow ${workflowId} to end`, async () => {
    const view = await workflows.get(workflowId);
    return view.status === 'RUNNING' ? undefined : view;
  }, timeoutMs);
}

async function finished(jobId: string): Promise<JobRecord> {
  return eventually(`job ${jobId} to finish`, async () => {
    const job = await client.getJob(jobId);
    return job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'CANCELLED' ? (job) : undefined;
  });
}

async function deadLetter(marker: string): Promise<DeadLetterReason | undefined> {
  const name = runtime.resources.queues.jobs?.deadLetter.name ?? '';
  return eventually(`a dead letter naming ${marker}`, async () => {
    const message = (await inspectQueue(runtime, name)).ready.find((m) => m.body.includes(marker));
    return message && deadLetterReasonOf(message.messageAttributes);
  });
}

describe('a state transition is re-driven until its effect is known done', () => {
  it("sends a chain's next step again on the redelivery when its send failed on every SDK retry", async () => {
    const marker = randomUUID();
    // The worker's send of step 2 (its input names the marker) is throttled on all three SDK attempts.
    injector().addScript([{ command: 'SendMessageBatch', functionId: 'worker', inputContains: marker, times: 3, fault: 'throttle' }]);
    const throttled = injector().injected().throttle;
    const { workflowId } = await workflows.start(chain(s(add, [1, 1]), si(counted, { key: marker })));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: { key: marker } });
    expect(effects().get(marker)).toBe(1);
    expect(injector().injected().throttle - throttled).toBe(3);
  });

  it('sends a re-driven step with the input it was first given, not the previous result put first twice', async () => {
    // Step 2 (the only rel.add the worker sends) gets [2, 2]; its re-send after the redelivery must too.
    injector().addScript([{ command: 'SendMessageBatch', functionId: 'worker', inputContains: add.name, times: 3, fault: 'throttle' }]);
    const throttled = injector().injected().throttle;
    const { workflowId } = await workflows.start(chain(s(add, [1, 1]), s(add, [2])));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: 4 });
    expect(injector().injected().throttle - throttled).toBe(3);
  });

  it("sends a chord's callback again when its send failed after the group was marked done", async () => {
    const marker = randomUUID();
    injector().addScript([{ command: 'SendMessageBatch', functionId: 'worker', inputContains: xsum.name, times: 3, fault: 'fail' }]);
    const failedBefore = injector().injected().fail;
    const { workflowId } = await workflows.start(chord([s(add, [1, 2]), s(add, [3, 4]), s(add, [marker.length, 0])], s(xsum)));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: 10 + marker.length });
    expect(injector().injected().fail - failedBefore).toBe(3);
  });

  it('sends the error callback again when its send failed after the workflow was marked failed', async () => {
    const marker = randomUUID();
    injector().addScript([{ command: 'SendMessage', functionId: 'worker', inputContains: marker, times: 3, fault: 'throttle' }]);
    const { workflowId } = await workflows.start(si(broken, { key: 'x' }), { onError: si(counted, { key: marker }) });
    expect(await ended(workflowId)).toMatchObject({ status: 'FAILED' });
    await eventually('the error callback to run', async () => (effects().get(marker) === 1 ? true : undefined));
  });

  it("starts the next step when a step's success, recorded with its node in one transaction, was applied and its response lost", async () => {
    const first = randomUUID();
    const second = randomUUID();
    // The transaction recording step 1's success (its result names the marker) is applied; the SDK's retry of it is refused by that very write.
    injector().addScript([{ command: 'TransactWriteItems', functionId: 'worker', inputContains: first, times: 1, fault: 'lose-response' }]);
    const lost = injector().injected()['lose-response'];
    const { workflowId } = await workflows.start(chain(si(counted, { key: first }), si(counted, { key: second })));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED', result: { key: second } });
    expect(injector().injected()['lose-response'] - lost).toBe(1);
    expect([effects().get(first), effects().get(second)]).toEqual([1, 1]);
  });

  it("closes a chord's group when the last member's success transaction was applied and its response lost", async () => {
    const marker = randomUUID();
    injector().addScript([{ command: 'TransactWriteItems', functionId: 'worker', inputContains: marker, times: 1, fault: 'lose-response' }]);
    const { workflowId } = await workflows.start(chord([si(counted, { key: marker }), s(add, [1, 2])], si(counted, { key: `${marker}-callback` })));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(effects().get(`${marker}-callback`)).toBe(1);
  });
});

describe('a write that meets another transaction is sent again (DynamoDB Local never conflicts; the injector does)', () => {
  it('claims a job whose claim met a transaction three times (TransactionConflictException, which the SDK does not retry)', async () => {
    const jobId = randomUUID();
    const marker = randomUUID();
    injector().addScript([{ command: 'UpdateItem', functionId: 'worker', inputContains: jobId, times: 3, fault: 'conflict' }]);
    const before = injector().injected().conflict;
    await client.enqueue(counted, { key: marker }, { jobId });
    expect(await finished(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect(injector().injected().conflict - before).toBe(3);
    expect(effects().get(marker)).toBe(1);
  });

  it("records a group member whose success transaction was cancelled by conflicts, and closes the chord's group", async () => {
    const marker = randomUUID();
    injector().addScript([{ command: 'TransactWriteItems', functionId: 'worker', inputContains: marker, times: 2, fault: 'conflict' }]);
    const before = injector().injected().conflict;
    const { workflowId } = await workflows.start(chord([si(counted, { key: marker }), s(add, [1, 2])], si(counted, { key: `${marker}-callback` })));
    expect(await ended(workflowId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(injector().injected().conflict - before).toBe(2);
    expect([effects().get(marker), effects().get(`${marker}-callback`)]).toEqual([1, 1]);
  });
});

describe('a success that cannot be recorded does not run the task again', () => {
  it('fails a task whose result is not marshallable (a Date) for good, after one run, with the reason in the DLQ', async () => {
    const key = randomUUID();
    const { jobId } = await client.enqueue(dated, { key });
    expect(await finished(jobId)).toMatchObject({ status: 'FAILED', attempts: 1, lastError: { name: 'ResultNotStorableError' } });
    expect(await deadLetter(jobId)).toMatchObject({ cause: 'non-retryable', errorName: 'ResultNotStorableError' });
    expect(effects().get(key)).toBe(1);
  });

  it('fails a task whose result is over 400 KB as a DynamoDB item (though under the JSON limit) after one run', async () => {
    const key = randomUUID();
    const { jobId } = await client.enqueue(bulky, { key });
    const job = await finished(jobId);
    expect(job).toMatchObject({ status: 'FAILED', attempts: 1, lastError: { name: 'ResultNotStorableError' } });
    expect(job.lastError?.message).toMatch(/400 KB|409,600 bytes/);
    expect(effects().get(key)).toBe(1);
  });

  it('runs a once-only task whose result is not marshallable once, and a second job for the same key not at all', async () => {
    const key = randomUUID();
    const first = await client.enqueue(datedOnce, { key });
    expect(await finished(first.jobId)).toMatchObject({ status: 'FAILED', attempts: 1, lastError: { name: 'ResultNotStorableError' } });
    const second = await client.enqueue(datedOnce, { key });
    expect(await finished(second.jobId)).toMatchObject({ status: 'FAILED', attempts: 1, lastError: { name: 'ResultNotStorableError' } });
    expect(effects().get(key)).toBe(1);
  });

  it('records a success whose first write fails on every SDK attempt (four, for DynamoDB), without running the task again', async () => {
    const key = randomUUID();
    injector().addScript([{ command: 'UpdateItem', functionId: 'worker', inputContains: key, times: 4, fault: 'fail' }]);
    const failedBefore = injector().injected().fail;
    const { jobId } = await client.enqueue(counted, { key });
    expect(await finished(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1, result: { key } });
    expect(injector().injected().fail - failedBefore).toBe(4);
    expect(effects().get(key)).toBe(1);
  });
});

describe('timers and leases die with the attempt that started them', () => {
  it('gives up the claim of a single-flight computation that timed out, and stores nothing it computes late', async () => {
    const key = `slow-${randomUUID()}`;
    await requestFlight(slowFlight, key, { ms: 2_500 });
    // The attempt times out at 300 ms; its one attempt is its last, so the key fails at once.
    const failed = await eventually('the flight to fail', async () => {
      const item = await slowFlight.flight.read(key);
      return item?.phase === 'failed' ? item : undefined;
    }, 2_000);
    expect(failed.lastError).toMatchObject({ name: 'TaskTimeoutError' });
    // The computation finishes later (the task ignored its signal); no heartbeat kept its claim, so nothing is stored.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await slowFlight.flight.read(key)).toMatchObject({ phase: 'failed' });
  });
});

describe('a conditional write recognises its own earlier write when the SDK retries it', () => {
  // Each write below is applied, its response lost, and sent again by the SDK; the retry's condition then sees the first write.
  const loseNext = (command: string, marker: string) => injector().addScript([{ command, inputContains: marker, fault: 'lose-response' }]);

  it('LeaseStore.acquire returns the lease it took', async () => {
    const key = `lock-${randomUUID()}`;
    loseNext('UpdateItem', key);
    const lease = await new LeaseStore().acquire(key, seconds(30), 'me');
    expect(lease).toMatchObject({ key, owner: 'me', token: 1 });
  });

  it('LeaseStore.release reports the release it made', async () => {
    const key = `lock-${randomUUID()}`;
    const store = new LeaseStore();
    const lease = await store.acquire(key, seconds(30), 'me');
    loseNext('UpdateItem', key);
    expect(await store.release(lease)).toBe(true);
  });

  it('the dedup guard admits the job whose marker it wrote', async () => {
    const dedupKey = `dedup-${randomUUID()}`;
    loseNext('PutItem', dedupKey);
    const verdict = await new DynamoDedupGuard().admit({ jobId: 'job-1', task: 't', queue: 'jobs', dedupKey, windowMs: 60_000 });
    expect(verdict).toEqual({ admitted: true });
  });

  it('a single-flight request that won the claim enqueues the refresh', async () => {
    const key = `flight-${randomUUID()}`;
    loseNext('UpdateItem', key);
    const enqueued: number[] = [];
    const answer = await new SingleFlight().request(key, { freshFor: seconds(60) }, async (claim) => void enqueued.push(claim.token));
    expect(enqueued).toEqual([1]);
    expect(answer).toMatchObject({ state: 'pending', claimed: true });
  });

  it('a job record created once is not reported as a reused id', async () => {
    const jobId = randomUUID();
    loseNext('PutItem', jobId);
    await new DynamoJobStore().create({ jobId, task: 't', queue: 'jobs', maxAttempts: 1, enqueuedAt: new Date().toISOString(), traceId: 't', ttlMs: 60_000 });
    expect(await client.getJob(jobId)).toMatchObject({ status: 'QUEUED', attempts: 0 });
  });

  it("a worker's claim of an attempt is its own, not another delivery's", async () => {
    const jobId = randomUUID();
    const store = new DynamoJobStore();
    const job = { jobId, task: 't', queue: 'jobs', maxAttempts: 1, enqueuedAt: new Date().toISOString(), traceId: 't', ttlMs: 60_000 };
    await store.create(job);
    loseNext('UpdateItem', jobId);
    expect(await store.claim(job, 1, 10_000)).toMatchObject({ claimed: true, record: { status: 'RUNNING', attempts: 1 } });
  });

  it('a cancel returns the job it cancelled', async () => {
    const jobId = randomUUID();
    const store = new DynamoJobStore();
    await store.create({ jobId, task: 't', queue: 'jobs', maxAttempts: 1, enqueuedAt: new Date().toISOString(), traceId: 't', ttlMs: 60_000 });
    loseNext('UpdateItem', jobId);
    expect(await store.cancel(jobId)).toMatchObject({ status: 'CANCELLED' });
  });

  it('once() runs its function, once, when its in-progress record was written', async () => {
    const key = `once-${randomUUID()}`;
    loseNext('PutItem', key);
    let ran = 0;
    const outcome = await once(key, async () => ++ran, { inProgressFor: millis(5_000) });
    expect(outcome).toEqual({ result: 1, ran: true });
  });
});
