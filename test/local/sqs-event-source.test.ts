/**
 * The SQS event source mapping of the local runtime, against fauxqs and the
 * real handler module: batching, ReportBatchItemFailures, whole-batch failures,
 * visibility-timeout redelivery, the DLQ after maxReceiveCount, concurrency.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { localClients, type LocalClients } from '../../lib/local/local-clients.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';
import { inspectQueue } from '../helpers/queues.js';
import { recorder } from '../fixtures/recorder.js';
import { testApp } from '../fixtures/test-app.js';

let runtime: LocalRuntime;
let clients: LocalClients;
const logged: string[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime(testApp, { log: (line) => void logged.push(line) });
  clients = localClients(runtime.endpoints);
});

afterAll(async () => {
  clients?.destroy();
  await runtime?.stop();
});

type Mode = 'ok' | 'fail' | 'throw' | 'sleep' | 'bad-id' | 'late-write';

/** Sends one message per mode in a single SendMessageBatch; returns the tag that marks them. */
async function send(queueId: 'work' | 'wide', modes: readonly Mode[], ms?: number): Promise<string> {
  const tag = randomUUID();
  const queue = runtime.resources.queues[queueId];
  if (!queue) throw new Error(`no queue ${queueId}`);
  for (let i = 0; i < modes.length; i += 10) {
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: modes.slice(i, i + 10).map((mode, j) => ({ Id: String(i + j), MessageBody: JSON.stringify({ tag, n: i + j, mode, ms }) })),
      }),
    );
  }
  return tag;
}

/** The batches the handler saw for messages tagged `tag`. */
function batchesOf(tag: string) {
  return recorder()
    .sqsBatches.map((b) => ({ ...b, records: b.records.filter((r) => r.body.includes(tag)) }))
    .filter((b) => b.records.length > 0);
}

async function deadLetterBodies(queueName: string): Promise<string[]> {
  return (await inspectQueue(runtime, queueName)).ready.map((m) => m.body);
}

/** The batches of `tag` once it was delivered twice; on timeout the error shows what was seen. */
async function redelivered(tag: string) {
  try {
    return await eventually('a second delivery of the batch', async () => {
      const b = batchesOf(tag);
      return b.length >= 2 ? b : undefined;
    });
  } catch (error) {
    const seen = JSON.stringify({ batches: batchesOf(tag), stats: (await runtime.stats()).queues.work });
    throw new Error(`${(error as Error).message}; seen: ${seen}`, { cause: error });
  }
}

describe('SqsEventSource', () => {
  it('delivers the messages of one send as one batch within the batching window and deletes them all on success', async () => {
    const before = (await runtime.stats()).queues.work;
    const tag = await send('work', ['ok', 'ok', 'ok']);
    const after = await eventually('three deletions', async () => {
      const q = (await runtime.stats()).queues.work;
      return q && before && q.deleted - before.deleted >= 3 ? q : undefined;
    });
    const batches = batchesOf(tag);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.records.map((r) => r.receiveCount)).toEqual([1, 1, 1]);
    expect(after.sent - (before?.sent ?? 0)).toBe(3);
    expect(after.received - (before?.received ?? 0)).toBe(3);
  });

  it('deletes only the successful records when the handler reports batch item failures, and redelivers the failed one after the visibility timeout', async () => {
    const tag = await send('work', ['ok', 'fail', 'ok']);
    const redelivered = await eventually('the failed record to come back', async () => {
      const b = batchesOf(tag);
      return b.length >= 2 ? b : undefined;
    });
    const [first, second] = redelivered;
    expect(first?.records).toHaveLength(3);
    expect(second?.records).toHaveLength(1);
    expect(JSON.parse(second?.records[0]?.body ?? '{}')).toMatchObject({ mode: 'fail' });
    expect(second?.records[0]?.receiveCount).toBe(2);
    // The queue's visibility timeout is 4 s: the record stays hidden that long.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(3_500);
  });

  it('moves a record that keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
    const tag = await send('work', ['fail']);
    const dlqName = runtime.resources.queues.work?.deadLetter.name ?? '';
    await eventually('the record in the dead-letter queue', async () => ((await deadLetterBodies(dlqName)).some((b) => b.includes(tag)) ? true : undefined), 40_000);
    // maxReceiveCount is 2: two deliveries, then SQS moves it on the third receive.
    const batches = batchesOf(tag);
    expect(batches.map((b) => b.records[0]?.receiveCount), JSON.stringify(batches)).toEqual([1, 2]);
    const stats = (await runtime.stats()).queues.work;
    expect(stats?.movedToDlq).toBeGreaterThanOrEqual(1);
    expect(stats?.deadLetters, JSON.stringify(stats)).toBe(stats?.movedToDlq);
  });

  it('fails the whole batch when the handler throws, so every record is received again', async () => {
    const tag = await send('work', ['ok', 'throw']);
    const batches = await redelivered(tag);
    expect(batches[0]?.records).toHaveLength(2);
    expect(batches[1]?.records.map((r) => r.receiveCount)).toEqual([2, 2]);
  });

  it('fails the whole batch when the response names an item that is not in the batch', async () => {
    const tag = await send('work', ['ok', 'bad-id']);
    const batches = await redelivered(tag);
    expect(batches[1]?.records.map((r) => r.receiveCount)).toEqual([2, 2]);
  });

  it('fails the whole batch when the function times out', async () => {
    const before = (await runtime.stats()).functions.batcher;
    const tag = await send('work', ['sleep'], 1_500);
    const batches = await eventually('a redelivery after the timeout', async () => {
      const b = batchesOf(tag);
      return b.length >= 2 ? b : undefined;
    });
    expect(batches[1]?.records[0]?.receiveCount).toBe(2);
    const after = (await runtime.stats()).functions.batcher;
    expect((after?.timeouts ?? 0) - (before?.timeouts ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it("refuses a timed-out invocation's late write, as a stopped sandbox makes none, and brings its batch back after the visibility timeout", async () => {
    const lateWrites = (tag: string) =>
      clients.dynamodb.send(
        new QueryCommand({
          TableName: runtime.resources.tables.events?.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :tag)',
          ExpressionAttributeValues: { ':pk': { S: 'late-write' }, ':tag': { S: tag } },
          ConsistentRead: true,
        }),
      );
    // In time (100 ms of the 1 s timeout), the same write lands.
    const inTime = await send('work', ['late-write'], 100);
    await eventually('the write made in time', async () => ((await lateWrites(inTime)).Count === 1 ? true : undefined));

    const tag = await send('work', ['late-write'], 1_500);
    const batches = await redelivered(tag);
    expect(batches[1]?.records[0]?.receiveCount).toBe(2);
    await eventually('both attempts to try their late write', async () => {
      const refused = logged.filter((l) => /^timeout: function "batcher" called DynamoDB PutItem \d+ ms after its invocation timed out/.test(l));
      return refused.length >= 2 ? true : undefined;
    });
    expect((await lateWrites(tag)).Count).toBe(0);
  });

  it('never runs more invocations of a source at once than its maxConcurrency', async () => {
    const before = (await runtime.stats()).queues.wide;
    const tag = await send('wide', Array<Mode>(9).fill('sleep'), 300);
    await eventually('nine deletions', async () => {
      const q = (await runtime.stats()).queues.wide;
      return q && before && q.deleted - before.deleted >= 9 ? q : undefined;
    });
    const batches = batchesOf(tag);
    expect(batches.every((b) => b.records.length === 1)).toBe(true);
    expect(batches).toHaveLength(9);
    const most = Object.entries(recorder().maxRunning).find(([name]) => name.endsWith('-fanout'))?.[1];
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
  });

  it('once disabled, reports idle only after the batches in hand are done, and refuses to wait on across a re-enable', async () => {
    const before = (await runtime.stats()).queues.wide;
    const tag = await send('wide', ['sleep', 'sleep'], 1_500);
    await eventually('both batches in hand', async () => (batchesOf(tag).length >= 2 ? true : undefined));
    runtime.setEventSourceEnabled('fanout', 'wide', false);
    await runtime.eventSourceDisabled('fanout', 'wide');
    // Idle means acknowledged: both messages were deleted before it resolved, none is waiting.
    expect(((await runtime.stats()).queues.wide?.deleted ?? 0) - (before?.deleted ?? 0)).toBe(2);
    await runtime.eventSourceDisabled('fanout', 'wide');

    // Nothing is received while disabled; enabling it again delivers.
    const later = await send('wide', ['ok']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(batchesOf(later)).toHaveLength(0);
    runtime.setEventSourceEnabled('fanout', 'wide', true);
    await eventually('the message sent while disabled', async () => (batchesOf(later).length === 1 ? true : undefined));

    // A wait that the mapping's re-enabling overtakes is settled (rejected), not left hanging.
    runtime.setEventSourceEnabled('fanout', 'wide', false);
    const waiting = runtime.eventSourceDisabled('fanout', 'wide');
    runtime.setEventSourceEnabled('fanout', 'wide', true);
    await expect(waiting).rejects.toThrow(/enabled again before it was idle/);
    await expect(runtime.eventSourceDisabled('fanout', 'wide')).rejects.toThrow(/is enabled/);
  }, 60_000);
});
