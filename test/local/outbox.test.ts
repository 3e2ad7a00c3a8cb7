/**
 * Enqueue after commit, durably (lib/jobs/outbox.ts), on the local runtime:
 * the relay on the outbox table's stream, the sweeper on its schedule, the
 * worker whose task reads the note it was enqueued for.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { tableName } from '../../lib/app/resource-env.js';
import { documentClient } from '../../lib/aws/clients.js';
import { jobs } from '../../lib/jobs/enqueue.js';
import { OUTBOX_ITEM, OutboxTransactionRefusedError } from '../../lib/jobs/outbox.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { outboxApp } from '../fixtures/outbox-app.js';
import { relayFaults } from '../fixtures/outbox-relay.js';
import { copyNote, outboxRuns } from '../fixtures/outbox-worker.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime(outboxApp, { log: (l) => process.env.DEBUG_OUTBOX && console.log(l) });
});
afterAll(() => runtime?.stop());
beforeEach(() => {
  Object.assign(relayFaults(), { dieAfterSend: 0, drop: 0 });
});

const putNote = (id: string, text: string) => ({ Put: { TableName: tableName('notes'), Item: { id, text }, ConditionExpression: 'attribute_not_exists(id)' } });
const intentOf = async (jobId: string) => (await documentClient().send(new GetCommand({ TableName: tableName('outbox'), Key: { pk: OUTBOX_ITEM.pkOf(jobId) } }))).Item;
const sent = async () => (await runtime.stats()).queues.io?.sent ?? 0;
const succeeded = (jobId: string) =>
  eventually(`job ${jobId} to succeed`, async () => {
    const job = await jobs.getJob(jobId);
    return job.status === 'SUCCEEDED' ? job : undefined;
  });

describe('enqueueWith: the transactional outbox', () => {
  it('commits the note, the job record and its intent together; the relay sends it and the job, run once, reads the note', async () => {
    const noteId = randomUUID();
    const before = await sent();
    const { jobId, tracked } = await jobs.enqueueWith([putNote(noteId, 'first')], copyNote, { noteId });
    expect(tracked).toBe(true);
    // Committed with the note: the record is there at once, before anything was sent.
    expect((await jobs.getJob(jobId)).status).toMatch(/QUEUED|RUNNING|SUCCEEDED/);
    const job = await succeeded(jobId);
    expect(job).toMatchObject({ result: { noteId, text: 'first' }, attempts: 1 });
    expect(outboxRuns().get(jobId)).toEqual({ runs: 1, sawNote: [true] });
    await eventually('the intent to be deleted', async () => ((await intentOf(jobId)) === undefined ? true : undefined));
    expect((await sent()) - before).toBe(1);
  });

  it('writes, records and sends nothing when the transaction is refused by one of its items', async () => {
    const noteId = randomUUID();
    await documentClient().send(new PutCommand({ TableName: tableName('notes'), Item: { id: noteId, text: 'exists' } }));
    const jobId = randomUUID();
    const before = await sent();
    const refused = jobs.enqueueWith([putNote(noteId, 'again')], copyNote, { noteId }, { jobId });
    await expect(refused).rejects.toBeInstanceOf(OutboxTransactionRefusedError);
    await expect(refused).rejects.toMatchObject({ reasons: ['ConditionalCheckFailed'] });
    expect(await jobs.getJob(jobId)).toEqual({ jobId, status: 'NOT_FOUND' });
    expect(await intentOf(jobId)).toBeUndefined();
    // Long enough for the relay to have sent something, had anything been committed.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await sent()).toBe(before);
    expect(outboxRuns().get(jobId)).toBeUndefined();
    expect((await documentClient().send(new GetCommand({ TableName: tableName('notes'), Key: { id: noteId } }))).Item?.text).toBe('exists');
  });

  it('runs the job once when the relay dies after sending: the stream redelivers, the message goes out twice', async () => {
    relayFaults().dieAfterSend = 1;
    const noteId = randomUUID();
    const before = await sent();
    const { jobId } = await jobs.enqueueWith([putNote(noteId, 'relay dies')], copyNote, { noteId });
    await succeeded(jobId);
    await eventually('the intent to be deleted', async () => ((await intentOf(jobId)) === undefined ? true : undefined));
    expect(relayFaults().dieAfterSend).toBe(0);
    // The stream's retry of the batch sends the message again.
    await eventually('the redelivered batch to be sent again', async () => ((await sent()) - before === 2 ? true : undefined));
    // Let the second message arrive and be skipped.
    await eventually('both messages to be handled', async () => ((await runtime.stats()).queues.io?.deleted ?? 0) >= (await sent()) ? true : undefined);
    expect(outboxRuns().get(jobId)).toEqual({ runs: 1, sawNote: [true] });
  });

  it('leaves an intent the relay dropped to the sweeper, which sends it: the job runs once', async () => {
    relayFaults().drop = 1;
    const noteId = randomUUID();
    const { jobId } = await jobs.enqueueWith([putNote(noteId, 'swept')], copyNote, { noteId });
    await eventually('the relay to drop the batch', async () => (relayFaults().drop === 0 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await intentOf(jobId)).toBeDefined();
    expect((await jobs.getJob(jobId)).status).toBe('QUEUED');
    await runtime.fireSchedule('outbox-sweep');
    await succeeded(jobId);
    expect(await intentOf(jobId)).toBeUndefined();
    expect(outboxRuns().get(jobId)).toEqual({ runs: 1, sawNote: [true] });
  });

  it('recognises its own earlier commit when the caller retries under the same job id: the job runs once', async () => {
    const noteId = randomUUID();
    const jobId = randomUUID();
    const first = await jobs.enqueueWith([putNote(noteId, 'retried')], copyNote, { noteId }, { jobId });
    expect(first).toMatchObject({ jobId, deduplicated: false });
    // The caller's retry after an answer it never got: the same note, the same job id, a new envelope.
    const again = await jobs.enqueueWith([putNote(noteId, 'retried')], copyNote, { noteId }, { jobId });
    expect(again).toMatchObject({ jobId, deduplicated: true });
    await succeeded(jobId);
    await new Promise((r) => setTimeout(r, 500));
    expect(outboxRuns().get(jobId)).toEqual({ runs: 1, sawNote: [true] });
  });

  it('refuses a message too large for an intent, naming its size, before writing anything', async () => {
    const noteId = randomUUID();
    const refused = jobs.enqueueWith([putNote(noteId, 'big')], copyNote, { noteId: 'x'.repeat(400 * 1024) });
    await expect(refused).rejects.toThrow(/message is \d+ bytes; an outbox intent holds at most 358400/);
    expect((await documentClient().send(new GetCommand({ TableName: tableName('notes'), Key: { id: noteId } }))).Item).toBeUndefined();
  });

  it('refuses more items than a transaction holds beside the job, before writing anything', async () => {
    const items = Array.from({ length: 99 }, () => putNote(randomUUID(), 'x'));
    await expect(jobs.enqueueWith(items, copyNote, { noteId: 'n' })).rejects.toThrow(/at most 98 items/);
  });
});
