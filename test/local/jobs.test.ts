/**
 * The job core on the local runtime: real worker handler, fauxqs, DynamoDB
 * Local. Retries with growing backoff, dead letters with reasons, poison,
 * partial batches, duplicate deliveries, cancel, timeouts, refused input,
 * long delays, redrive, and eager mode giving the same outcomes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { seconds } from '../../lib/app/duration.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { localClients, type LocalClients } from '../../lib/local/local-clients.js';
import { createJobClient, type JobClient } from '../../lib/jobs/enqueue.js';
import { deadLetterReasonOf, redrive, type DeadLetterReason } from '../../lib/jobs/dead-letter.js';
import { DynamoJobStore } from '../../lib/jobs/dynamo-job-store.js';
import { encodeEnvelope, newEnvelope, PayloadTooLargeError } from '../../lib/jobs/envelope.js';
import { InvalidTaskInputError } from '../../lib/jobs/errors.js';
import { JobStatus, NOT_FOUND, type JobLookup, type JobRecord } from '../../lib/jobs/job-state.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { inspectQueue } from '../helpers/queues.js';
import { CallCounter } from '../../bench/call-counter.js';
import { alwaysFails, flaky, member, rejects, runs, sleepy, waitsLong } from '../fixtures/job-tasks.js';
import { jobsApp } from '../fixtures/jobs-app.js';
import { registry } from '../fixtures/job-worker.js';

let runtime: LocalRuntime;
let clients: LocalClients;
let jobs: JobClient;
const logged: string[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime(jobsApp, { log: (line) => void logged.push(line) });
  clients = localClients(runtime.endpoints);
  jobs = createJobClient({ registry });
});

afterAll(async () => {
  clients?.destroy();
  await runtime?.stop();
});

const key = () => randomUUID();
const queue = () => runtime.resources.queues.jobs ?? { url: '', name: '', deadLetter: { name: '', url: '' } };

async function finished(jobId: string): Promise<JobRecord> {
  return eventually(`job ${jobId} to finish`, async () => {
    const job = await jobs.getJob(jobId);
    return job.status === JobStatus.SUCCEEDED || job.status === JobStatus.FAILED || job.status === JobStatus.CANCELLED
      ? (job)
      : undefined;
  }, 40_000);
}

/** The reason attached to the dead letter whose body mentions `marker`. */
async function deadLetter(marker: string): Promise<DeadLetterReason> {
  return eventually(`a dead letter for ${marker}`, async () => {
    const message = (await inspectQueue(runtime, queue().deadLetter.name)).ready.find((m) => m.body.includes(marker));
    return message && deadLetterReasonOf(message.messageAttributes);
  }, 40_000);
}

describe('worker retries', () => {
  it('keeps a retry asked for in 13 hours within SQS\'s 12 hours from the receive, so the visibility change is not refused', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(waitsLong, { key: k });
    await eventually('the first attempt', async () => (runs().byKey[k]?.length === 1 ? true : undefined));
    // The worker then hides the message for as long as SQS allows; a refused change would be logged by the runtime.
    await eventually('the message to be hidden', async () => ((await inspectQueue(runtime, queue().name)).inflight.some((m) => m.message.body.includes(jobId)) ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(logged.filter((l) => l.startsWith('SQS refused'))).toEqual([]);
  });

  it('succeeds on a later attempt after failures, with backoff that grows between attempts', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(flaky, { key: k, failTimes: 2 });
    const job = await finished(jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', attempts: 3, result: { succeededOn: 3 } });
    expect(job.lastError).toBeUndefined();
    const times = runs().byKey[k]?.map((r) => r.at) ?? [];
    expect(runs().byKey[k]?.map((r) => r.attempt)).toEqual([1, 2, 3]);
    const [first = 0, second = 0, third = 0] = times;
    // Backoff without jitter: 1 s, then 2 s (visibility is set in whole seconds).
    expect(second - first).toBeGreaterThanOrEqual(900);
    expect(third - second).toBeGreaterThanOrEqual(1_900);
    expect(third - second).toBeGreaterThan(second - first);
  });

  it('sends a job that fails every attempt to the DLQ with its reason after max attempts, and marks it FAILED', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(alwaysFails, { key: k });
    const reason = await deadLetter(jobId);
    expect(reason).toMatchObject({
      cause: 'attempts-exhausted',
      errorName: 'Error',
      errorMessage: 'the downstream service is down',
      attempts: 2,
      task: 'test.always-fails',
      jobId,
      queue: 'jobs',
    });
    expect(runs().byKey[k]).toHaveLength(2);
    expect(await finished(jobId)).toMatchObject({ status: 'FAILED', attempts: 2, lastError: { name: 'Error', message: 'the downstream service is down' } });
  });

  it('dead-letters a non-retryable error at once', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(rejects, { key: k });
    expect(await deadLetter(jobId)).toMatchObject({ cause: 'non-retryable', errorName: 'NonRetryableError', errorMessage: 'the account is closed', attempts: 1 });
    expect(runs().byKey[k]).toHaveLength(1);
  });

  it('dead-letters an undecodable message at once, as poison', async () => {
    const marker = `not a job ${randomUUID()}`;
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue().url, MessageBody: marker }));
    expect(await deadLetter(marker)).toMatchObject({ cause: 'poison', errorName: 'EnvelopeDecodeError', errorMessage: 'not a Ferry job envelope: body is not JSON', attempts: 1, queue: 'jobs' });
  });

  it('dead-letters a message naming no registered task and marks the job FAILED', async () => {
    const { jobId } = await jobs.sendTask('test.no-such-task', { any: 1 }, { queue: 'jobs' });
    expect(await deadLetter(jobId)).toMatchObject({ cause: 'non-retryable', errorName: 'UnknownTaskError' });
    expect(await finished(jobId)).toMatchObject({ status: 'FAILED', lastError: { name: 'UnknownTaskError' } });
  });

  it('retries only the failed member of a batch of ten', async () => {
    const keys = Array.from({ length: 10 }, key);
    const sent = await jobs.enqueueMany(member, keys.map((k, i) => ({ key: k, failOnce: i === 4 })));
    expect(sent).toHaveLength(10);
    const done = await Promise.all(sent.map((s) => finished(s.jobId)));
    expect(done.every((j) => j.status === 'SUCCEEDED')).toBe(true);
    expect(keys.map((k) => runs().byKey[k]?.length)).toEqual([1, 1, 1, 1, 2, 1, 1, 1, 1, 1]);
  });

  it('enforces the task timeout and records it', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(sleepy, { key: k, ms: 2_000 });
    expect(await finished(jobId)).toMatchObject({ status: 'FAILED', lastError: { name: 'TaskTimeoutError', message: 'task "test.sleepy" timed out after 300 ms' } });
    expect(await deadLetter(jobId)).toMatchObject({ cause: 'attempts-exhausted', errorName: 'TaskTimeoutError' });
  });
});

describe('job status', () => {
  it('createMany writes 100 jobs in one transaction, and job by job a chunk with records that exist or a job named twice', async () => {
    const store = new DynamoJobStore();
    const newJob = (jobId: string) => ({ jobId, task: member.name, queue: 'jobs', maxAttempts: 1, enqueuedAt: new Date().toISOString(), traceId: 't', ttlMs: 60_000 });
    const fresh = Array.from({ length: 100 }, () => newJob(randomUUID()));
    const calls = new CallCounter();
    expect(await store.createMany(fresh)).toEqual(fresh.map(() => true));
    expect(calls.get('dynamodb:TransactWriteItems', 'dynamodb:PutItem')).toBe(1);

    const existing = fresh[0]?.jobId ?? '';
    await store.cancel(existing); // a record that moved on: kept as it stands
    const twice = randomUUID();
    const mixed = [newJob(existing), newJob(twice), newJob(twice), newJob(randomUUID())];
    expect(await store.createMany(mixed)).toEqual([false, true, false, true]);
    expect(await store.get(existing)).toMatchObject({ status: 'CANCELLED' });
    expect(await store.get(twice)).toMatchObject({ status: 'QUEUED', attempts: 0 });
  });

  it('runs a tracked job once when SQS delivers its message twice', async () => {
    const k = key();
    const envelope = newEnvelope(member.name, { key: k }, { tracked: true });
    await new DynamoJobStore().create({
      jobId: envelope.jobId,
      task: member.name,
      queue: 'jobs',
      maxAttempts: member.retry.maxAttempts,
      enqueuedAt: envelope.enqueuedAt,
      traceId: envelope.traceId,
      ttlMs: 60_000,
    });
    const before = (await runtime.stats()).queues.jobs?.deleted ?? 0;
    const body = encodeEnvelope(envelope);
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue().url, MessageBody: body }));
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue().url, MessageBody: body }));
    await eventually('both copies to be deleted', async () => (((await runtime.stats()).queues.jobs?.deleted ?? 0) - before >= 2 ? true : undefined), 40_000);
    expect(runs().byKey[k]).toHaveLength(1);
    expect(await jobs.getJob(envelope.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });

  it('skips a job cancelled before it ran and keeps it CANCELLED', async () => {
    const k = key();
    const before = (await runtime.stats()).queues.jobs?.deleted ?? 0;
    const { jobId } = await jobs.enqueue(member, { key: k }, { delay: seconds(2) });
    expect(await jobs.cancel(jobId)).toMatchObject({ status: 'CANCELLED' });
    await eventually('the message to be consumed', async () => (((await runtime.stats()).queues.jobs?.deleted ?? 0) > before ? true : undefined), 40_000);
    expect(runs().byKey[k]).toBeUndefined();
    expect(await jobs.getJob(jobId)).toMatchObject({ status: 'CANCELLED' });
  });

  it('refuses to cancel a job that already ran, naming its status', async () => {
    const { jobId } = await jobs.enqueue(member, { key: key() });
    await finished(jobId);
    await expect(jobs.cancel(jobId)).rejects.toThrow(`job ${jobId} is SUCCEEDED; only a QUEUED job can be cancelled`);
  });

  it('answers NOT_FOUND, never pending, for an unknown job id', async () => {
    const id = randomUUID();
    const lookup: JobLookup = await jobs.getJob(id);
    expect(lookup).toEqual({ jobId: id, status: NOT_FOUND });
    await expect(jobs.cancel(id)).rejects.toThrow(`no job ${id} is known`);
  });

  it('costs three DynamoDB writes for a tracked job (create, claim, succeed) and none for an untracked one', async () => {
    const calls = new CallCounter();
    const tracked = await jobs.enqueue(member, { key: key() });
    await finished(tracked.jobId);
    expect(calls.dynamoWrites()).toBe(3);
    const k = key();
    const writesBefore = calls.dynamoWrites();
    await jobs.enqueue(member, { key: k }, { trackStatus: false });
    await eventually('the untracked job to run', async () => (runs().byKey[k]?.length === 1 ? true : undefined));
    expect(calls.dynamoWrites() - writesBefore).toBe(0);
  });

  it('writes no status record for an untracked job', async () => {
    const k = key();
    const { jobId, tracked } = await jobs.enqueue(member, { key: k }, { trackStatus: false });
    expect(tracked).toBe(false);
    await eventually('the untracked job to run', async () => (runs().byKey[k]?.length === 1 ? true : undefined));
    expect(await jobs.getJob(jobId)).toEqual({ jobId, status: NOT_FOUND });
  });
});

describe('enqueue', () => {
  it('refuses input that fails the schema, naming each field, and sends and records nothing', async () => {
    const before = (await runtime.stats()).queues.jobs?.sent;
    const attempt = jobs.enqueue(flaky, { key: '', failTimes: -1 });
    await expect(attempt).rejects.toBeInstanceOf(InvalidTaskInputError);
    await expect(attempt).rejects.toThrow(/invalid input for task "test.flaky": key: .*; failTimes: /);
    expect((await runtime.stats()).queues.jobs?.sent).toBe(before);
  });

  it('refuses a payload over the SQS limit with an error naming the limit', async () => {
    const before = (await runtime.stats()).queues.jobs?.sent;
    await expect(jobs.enqueue(member, { key: 'x'.repeat(1_100_000) })).rejects.toThrow(PayloadTooLargeError);
    await expect(jobs.enqueue(member, { key: 'x'.repeat(1_100_000) })).rejects.toThrow(/SQS accepts at most 1048576 bytes \(1 MiB\)/);
    expect((await runtime.stats()).queues.jobs?.sent).toBe(before);
  });

  it('carries a delay beyond 15 minutes in the envelope: the worker sends it on rather than running or holding it', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(member, { key: k }, { delay: seconds(3_600) });
    // Enqueue used SQS's 15-minute maximum; to see the worker's half now, send a copy that is due in 20 minutes.
    const envelope = { ...newEnvelope(member.name, { key: k }, { tracked: false, notBefore: new Date(Date.now() + 20 * 60_000) }) };
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: queue().url, MessageBody: encodeEnvelope(envelope) }));
    const delayed = await eventually('the copy to be sent on, delayed', async () => {
      const q = await inspectQueue(runtime, queue().name);
      return q.delayed.some((m) => m.body.includes(envelope.jobId)) ? q.delayed : undefined;
    });
    expect(delayed.some((m) => m.body.includes(jobId))).toBe(true);
    expect(runs().byKey[k]).toBeUndefined();
    expect(await jobs.getJob(jobId)).toMatchObject({ status: 'QUEUED', attempts: 0 });
  });
});

describe('redrive', () => {
  it('moves dead letters back to their queue, where a fixed job then succeeds', async () => {
    const k = key();
    const { jobId } = await jobs.enqueue(rejects, { key: k });
    await deadLetter(jobId);
    expect(await finished(jobId)).toMatchObject({ status: 'FAILED' });
    runs().fixed.add(k);
    const { moved } = await redrive('jobs');
    expect(moved).toBeGreaterThanOrEqual(1);
    expect(await eventually('the redriven job to succeed', async () => {
      const job = await jobs.getJob(jobId);
      return job.status === 'SUCCEEDED' ? job : undefined;
    }, 40_000)).toMatchObject({ attempts: 1, result: { fixed: true } });
  });
});

describe('eager mode', () => {
  const eager = () => createJobClient({ registry, eager: true, eagerWaitsForBackoff: false });

  it('retries inline until a later attempt succeeds, and records the job', async () => {
    const outcome = await eager().enqueue(flaky, { key: key(), failTimes: 2 });
    expect(outcome.eager).toEqual({ status: 'SUCCEEDED', result: { succeededOn: 3 }, attempts: 3 });
    expect(await jobs.getJob(outcome.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 3 });
  });

  it('fails after max attempts, at once for a non-retryable error, and on timeout, as workers do', async () => {
    expect((await eager().enqueue(alwaysFails, { key: key() })).eager).toMatchObject({ status: 'FAILED', cause: 'attempts-exhausted', attempts: 2 });
    expect((await eager().enqueue(rejects, { key: key() })).eager).toMatchObject({ status: 'FAILED', cause: 'non-retryable', attempts: 1, error: { name: 'NonRetryableError' } });
    expect((await eager().enqueue(sleepy, { key: key(), ms: 1_000 })).eager).toMatchObject({ status: 'FAILED', error: { name: 'TaskTimeoutError' } });
  });

  it('refuses bad input the same way', async () => {
    await expect(eager().enqueue(flaky, { key: '', failTimes: 0 })).rejects.toThrow(InvalidTaskInputError);
  });
});
