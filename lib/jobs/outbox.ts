/**
 * The transactional outbox: enqueue after commit, durably.
 *
 * `jobs.enqueueWith(items, task, input)` writes the caller's items, the job's
 * QUEUED record and the job's intent (an item in the `outbox` table) in one
 * DynamoDB transaction. Nothing is sent in the request. The relay, a function
 * fed by the outbox table's stream, sends each new intent's message and then
 * deletes the intent. So:
 *
 * - a refused transaction (a caller's condition failed) writes and sends
 *   nothing;
 * - a committed one is sent even if the request dies right after the commit:
 *   the intent is in the table, and the stream carries it to the relay;
 * - the job never runs before its row is readable: the message is sent only
 *   after the commit;
 * - a relay that dies after its send and before its delete is run again on
 *   the same records (the stream redelivers); the message goes out twice
 *   under one job id, and the worker's claim of the job record runs it once.
 *
 * The sweeper is the relay's backstop: a scheduled function that sends any
 * intent older than a minute (a stream batch skipped after its retries, a
 * relay disabled). It too may send twice; the job still runs once.
 *
 * Django's `transaction.on_commit` runs the enqueue in the web process after
 * the commit: a process that dies between the commit and the send loses the
 * job. Here the intent commits with the data.
 */
import { createHash } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { traceAttributesOfBody } from '../util/trace.js';
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { TableDeclaration } from '../app/declaration.js';
import { minutes, type Duration } from '../app/duration.js';
import { queueUrl, tableName } from '../app/resource-env.js';
import { documentClient, sqsClient } from '../aws/clients.js';
import { log, logContext } from '../util/log.js';
import { mapLimit } from '../util/map-limit.js';

/** The outbox table an app declares (`tables: { outbox: OUTBOX_TABLE }`): intents keyed by job id, streamed to the relay. */
export const OUTBOX_TABLE: TableDeclaration = {
  partitionKey: { name: 'pk' },
  // No TTL: an intent is deleted only once its message is sent. One that stays is the sweeper's, however old.
  stream: 'NEW_IMAGE',
};

/** The declared id of the outbox table, unless the app names another. */
export const OUTBOX_TABLE_ID = 'outbox';

export const OUTBOX_ITEM = {
  pkOf: (jobId: string) => `OUTBOX#${jobId}`,
  prefix: 'OUTBOX#',
} as const;

/** One job's intent, as the outbox table holds it. */
export interface OutboxIntent {
  readonly pk: string;
  readonly jobId: string;
  readonly task: string;
  readonly queue: string;
  /** The encoded envelope: the message body, sent as is. */
  readonly body: string;
  readonly delaySeconds: number;
  /** Epoch ms of the commit. */
  readonly createdAt: number;
}

/** The caller's transaction was refused by one of its own items' conditions: nothing was written or sent. */
export class OutboxTransactionRefusedError extends Error {
  override readonly name = 'OutboxTransactionRefusedError';
  constructor(
    /** Per item of the caller's, in order: DynamoDB's cancellation code (`ConditionalCheckFailed`, `None`). */
    readonly reasons: readonly string[],
    override readonly cause: unknown,
  ) {
    const failed = reasons.flatMap((code, i) => (code === 'None' ? [] : [`item ${i}: ${code}`]));
    super(`the transaction was refused (${failed.join(', ')}); nothing was written and no job was enqueued`);
  }
}

/** The transaction's idempotency token: the job id, hashed to DynamoDB's 36 characters when longer. */
export function outboxRequestToken(jobId: string): string {
  return jobId.length <= 36 ? jobId : createHash('sha256').update(jobId).digest('hex').slice(0, 36);
}


export interface OutboxRelayOptions {
  /** Declared id of the outbox table. @default 'outbox' */
  readonly table?: string;
  /** Sends in flight at once. @default 10 */
  readonly concurrency?: number;
  readonly client?: DynamoDBDocumentClient;
}

/** Sends an intent's message, then deletes the intent; a send that fails throws, and the intent stays. */
async function relay(intent: OutboxIntent, table: string, db: DynamoDBDocumentClient): Promise<void> {
  // The delay counts from the commit: a late relay (or the sweeper) sends with what is left of it.
  const delaySeconds = Math.max(0, Math.ceil(intent.delaySeconds - (Date.now() - intent.createdAt) / 1000));
  await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl(intent.queue), MessageBody: intent.body, DelaySeconds: delaySeconds, MessageSystemAttributes: traceAttributesOfBody(intent.body) }));
  // Only this intent, never a newer one under the same key (there is none: job ids are not reused).
  await db.send(new DeleteCommand({ TableName: tableName(table), Key: { pk: intent.pk } }));
}

/**
 * The relay: a handler for the outbox table's stream (`dynamodb-stream` event,
 * `NEW_IMAGE`). Each new intent is sent, then deleted. A failure reports the
 * first failed record (`ReportBatchItemFailures`), so the stream retries from
 * there, in order; the records before it are done.
 */
export function createOutboxRelay(options: OutboxRelayOptions = {}): (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse> {
  const table = options.table ?? OUTBOX_TABLE_ID;
  return async (event, context) => {
    if (context !== undefined) logContext(context);
    const db = options.client ?? documentClient();
    const intents = event.Records.flatMap((record) => {
      if (record.eventName !== 'INSERT' || record.dynamodb?.NewImage === undefined) return [];
      const intent = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) as OutboxIntent;
      return intent.pk.startsWith(OUTBOX_ITEM.prefix) ? [{ intent, sequence: record.dynamodb.SequenceNumber ?? '' }] : [];
    });
    const failed = new Set<string>();
    await mapLimit(intents, options.concurrency ?? 10, async ({ intent, sequence }) => {
      try {
        await relay(intent, table, db);
      } catch (error) {
        failed.add(sequence);
        log({ level: 'warn', msg: 'outbox relay failed', jobId: intent.jobId, task: intent.task, error: error instanceof Error ? error.message : String(error) });
      }
    });
    const first = intents.find(({ sequence }) => failed.has(sequence));
    return { batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first.sequence }] };
  };
}

export interface OutboxSweepOptions extends OutboxRelayOptions {
  /** Intents younger than this are the relay's; older ones the sweeper sends. @default 1 minute */
  readonly olderThan?: Duration;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Sends every intent older than `olderThan` that is still in the outbox (the
 * relay skipped or has not run), then deletes it. Run it on a schedule: the
 * backstop that makes "committed" mean "sent" even when the stream did not
 * deliver. Returns how many intents it sent.
 */
export async function sweepOutbox(options: OutboxSweepOptions = {}): Promise<{ readonly sent: number; readonly failed: number }> {
  const table = options.table ?? OUTBOX_TABLE_ID;
  const db = options.client ?? documentClient();
  const before = (options.now ?? Date.now)() - (options.olderThan ?? minutes(1)).milliseconds;
  let sent = 0;
  let failed = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName(table),
        FilterExpression: 'begins_with(pk, :prefix) AND createdAt < :before',
        ExpressionAttributeValues: { ':prefix': OUTBOX_ITEM.prefix, ':before': before },
        ...(start !== undefined && { ExclusiveStartKey: start }),
      }),
    );
    await mapLimit((page.Items ?? []) as OutboxIntent[], options.concurrency ?? 10, async (intent) => {
      try {
        await relay(intent, table, db);
        sent += 1;
      } catch (error) {
        failed += 1;
        log({ level: 'warn', msg: 'outbox sweep failed', jobId: intent.jobId, error: error instanceof Error ? error.message : String(error) });
      }
    });
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  if (sent > 0 || failed > 0) log({ level: sent > 0 ? 'warn' : 'error', msg: 'outbox swept', sent, failed });
  return { sent, failed };
}

/** The sweeper as a scheduled function's handler (`schedule` event). */
export function createOutboxSweeper(options: OutboxSweepOptions = {}): (event?: unknown, context?: Context) => Promise<{ readonly sent: number; readonly failed: number }> {
  return (_event, context) => {
    if (context !== undefined) logContext(context);
    return sweepOutbox(options);
  };
}
