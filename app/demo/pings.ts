/**
 * The demo slice that proves the spine end to end: `POST /pings` records a
 * ping and enqueues a job carrying only its id; a worker reads the ping and
 * marks it processed; `GET /pings/{id}` shows its state.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import { documentClient, tableName, jobs, NonRetryableError, defineTask } from 'ferry';
import { resources } from '../resources.js';

const PING_TTL_SECONDS = 86_400;
const MAX_MESSAGE_LENGTH = 200;

export interface Ping {
  readonly id: string;
  readonly message: string;
  readonly status: 'queued' | 'processed';
  readonly createdAt: string;
  readonly processedAt?: string;
  readonly jobId?: string;
  readonly attempts?: number;
  /** The worker pool (declared queue) that ran or runs its job. */
  readonly pool?: string;
}

/** The pools a ping's job can run on: every declared worker pool, so each is proven end to end. */
export const PING_POOLS: readonly string[] = resources.queues.map((q) => q.id);

const key = (id: string) => ({ pk: `PING#${id}`, sk: 'PING' });

/** A ping's id is a UUID (`createPing` makes it with `randomUUID`). */
const PING_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can name a ping: anything else is a bad request, never looked up. */
export function isPingId(id: string): boolean {
  return PING_ID.test(id);
}

export class InvalidPingError extends Error {
  override readonly name = 'InvalidPingError';
}

/** A job id pointing at no ping: retrying cannot help. */
export class PingNotFoundError extends NonRetryableError {
  override readonly name = 'PingNotFoundError';
}

/** The task: marks the ping processed. Re-running it for the same ping changes nothing but the attempt count. */
export const processPing = defineTask({
  name: 'demo.ping',
  queue: 'io',
  input: z.object({ pingId: z.uuid() }),
  run: async ({ pingId }, job) => {
    try {
      await documentClient().send(
        new UpdateCommand({
          TableName: tableName('state'),
          Key: key(pingId),
          UpdateExpression: 'SET #status = :processed, processedAt = if_not_exists(processedAt, :now), jobId = :jobId, attempts = :attempt',
          // Admits a ping that exists (queued, or processed by an earlier delivery);
          // rejects an id with no ping, which fails the job without retries.
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':processed': 'processed', ':now': new Date().toISOString(), ':jobId': job.jobId, ':attempt': job.attempt },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new PingNotFoundError(`no ping ${pingId} exists`, { cause: error });
      throw error;
    }
    return { pingId };
  },
});

/** Records a ping, then (after the write succeeded) enqueues its job with the ping's id, on `pool` (default io). */
export async function createPing(message: unknown, pool: unknown = 'io'): Promise<{ ping: Ping; jobId: string }> {
  if (message !== undefined && (typeof message !== 'string' || message.length > MAX_MESSAGE_LENGTH)) {
    throw new InvalidPingError(`"message" must be a string of at most ${MAX_MESSAGE_LENGTH} characters`);
  }
  if (typeof pool !== 'string' || !PING_POOLS.includes(pool)) throw new InvalidPingError(`"pool" must be one of ${PING_POOLS.join(', ')} (got ${JSON.stringify(pool)})`);
  const queue = pool;
  const ping: Ping = { id: randomUUID(), message: message ?? 'ping', status: 'queued', createdAt: new Date().toISOString(), pool: queue };
  await documentClient().send(
    new PutCommand({
      TableName: tableName('state'),
      Item: { ...key(ping.id), ...ping, expiresAt: Math.floor(Date.now() / 1000) + PING_TTL_SECONDS },
    }),
  );
  try {
    // The job joins the request's trace (the router runs the handler in it).
    const { jobId } = await jobs.enqueue(processPing, { pingId: ping.id }, { queue });
    return { ping, jobId };
  } catch (error) {
    // No job will process it: take the ping back rather than leave it queued forever, and let the caller retry.
    await documentClient()
      .send(new DeleteCommand({ TableName: tableName('state'), Key: key(ping.id), ConditionExpression: '#status = :queued', ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: { ':queued': 'queued' } }))
      .catch(() => undefined);
    throw error;
  }
}

export async function getPing(id: string): Promise<Ping | undefined> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: tableName('state'), Key: key(id), ConsistentRead: true }));
  if (Item === undefined) return undefined;
  const { pk: _pk, sk: _sk, expiresAt: _e, ...ping } = Item;
  return ping as Ping;
}
