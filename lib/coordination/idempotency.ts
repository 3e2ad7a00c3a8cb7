/**
 * Idempotent side effects: `once(key, fn)` runs `fn` at most once per key,
 * however many deliveries or concurrent workers ask, and returns the first
 * run's result to the others. A failure releases the key so a retry can run;
 * a record left in progress by a crashed invocation expires with the
 * invocation's deadline. (The seed's example: a welcome email sent exactly
 * once per user.)
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { applied, transactWrite, type TransactItem } from '../aws/conditional-write.js';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import { type Duration, days, minutes } from '../app/duration.js';
import { DYNAMODB_MAX_ITEM_BYTES, storability } from '../aws/item-size.js';
import { ResultNotStorableError } from '../jobs/errors.js';
import { retrying } from '../util/retrying.js';

/** Room the record's own attributes take beside the result. */
const RECORD_RESERVE_BYTES = 1024;
/** Tries of the completion write (beyond the SDK's retries): an effect that ran must not run again because its record failed to write. */
const COMPLETION_WRITE_TRIES = 4;

export const IDEMPOTENCY_ITEM = {
  pkOf: (key: string) => `ONCE#${key}`,
  sk: 'ONCE',
  ttl: 'expiresAt',
} as const;

/** Another run for the same key is in progress: retry later (the job's retry policy does). */
export class IdempotencyInProgressError extends Error {
  override readonly name = 'IdempotencyInProgressError';
  constructor(
    readonly key: string,
    readonly until: number,
  ) {
    super(`"${key}" is being run by another invocation until ${new Date(until).toISOString()} at the latest; try again later`);
  }
}

export interface OnceOptions extends StateTableOptions {
  /** How long a completed run's result is remembered (and repeats suppressed). @default 1 day */
  readonly remember?: Duration;
  /**
   * How long an in-progress record blocks others if its invocation dies. Pass
   * the Lambda context's remaining time.
   * @default 15 minutes (the Lambda maximum)
   */
  readonly inProgressFor?: Duration;
  /** Names the work in a {@link ResultNotStorableError}. @default the key */
  readonly resultName?: string;
}

export interface OnceResult<T> {
  readonly result: T;
  /** False when an earlier run's result was returned and `fn` did not run. */
  readonly ran: boolean;
}

export async function once<T>(key: string, fn: () => Promise<T>, options: OnceOptions = {}): Promise<OnceResult<T>> {
  const state = new StateTable(options);
  const db = state.db;
  const table = state.name;
  const now = state.now();
  const Key = { pk: IDEMPOTENCY_ITEM.pkOf(key), sk: IDEMPOTENCY_ITEM.sk };
  const run = randomUUID();
  const inProgressUntil = now + (options.inProgressFor ?? minutes(15)).milliseconds;
  try {
    await db.send(
      new PutCommand({
        TableName: table,
        Item: { ...Key, status: 'IN_PROGRESS', run, inProgressUntil, [IDEMPOTENCY_ITEM.ttl]: Math.ceil(inProgressUntil / 1000) },
        // Admits a key never run, one whose record expired (TTL passed, deleted
        // lazily), and one left IN_PROGRESS by an invocation that died. Rejects
        // a COMPLETED run (its result is returned) and a live IN_PROGRESS one.
        ConditionExpression:
          'attribute_not_exists(pk) OR #ttl <= :nowS OR (#status = :inProgress AND inProgressUntil < :now)',
        ExpressionAttributeNames: { '#ttl': IDEMPOTENCY_ITEM.ttl, '#status': 'status' },
        ExpressionAttributeValues: { ':nowS': Math.floor(now / 1000), ':inProgress': 'IN_PROGRESS', ':now': now },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException) || error.Item === undefined) throw error;
    const existing = unmarshall(error.Item);
    if (existing.status === 'COMPLETED') {
      // The effect ran; its result could not be kept. Repeats neither run it nor get a result.
      if (typeof existing.unstorable === 'string') throw new ResultNotStorableError(options.resultName ?? key, existing.unstorable);
      return { result: existing.result as T, ran: false };
    }
    // Refused by this very run's record: the SDK retried a put whose response was lost.
    if (existing.run !== run) throw new IdempotencyInProgressError(key, Number(existing.inProgressUntil));
  }

  let result: T;
  try {
    result = await fn();
  } catch (error) {
    await applied(
      db.send(
        new DeleteCommand({
          TableName: table,
          Key,
          // Admits only this run's own record, so a failure frees the key for a retry
          // without deleting a record some later run has taken over.
          ConditionExpression: '#run = :run',
          ExpressionAttributeNames: { '#run': 'run' },
          ExpressionAttributeValues: { ':run': run },
        }),
      ),
    );
    throw error;
  }
  const rememberUntil = Math.ceil((state.now() + (options.remember ?? days(1)).milliseconds) / 1000);
  // Checked before the write: a result DynamoDB would refuse is not kept, but the
  // record still says the effect happened, so no repeat runs it again.
  const verdict = storability(result, 'result', DYNAMODB_MAX_ITEM_BYTES - RECORD_RESERVE_BYTES);
  const outcome = verdict.storable
    ? { expression: 'SET #status = :completed, #result = :result, #ttl = :ttl REMOVE inProgressUntil', values: { ':result': result ?? null } }
    : { expression: 'SET #status = :completed, unstorable = :unstorable, #ttl = :ttl REMOVE inProgressUntil', values: { ':unstorable': verdict.reason } };
  await retrying(
    () =>
      db.send(
        new UpdateCommand({
          TableName: table,
          Key,
          UpdateExpression: outcome.expression,
          // Admits this run's own record. If the run outlived its in-progress
          // deadline and another run took the key over, the effect may have happened
          // twice; the write is refused so the later run's record stands.
          ConditionExpression: '#run = :run',
          ExpressionAttributeNames: verdict.storable
            ? { '#status': 'status', '#result': 'result', '#ttl': IDEMPOTENCY_ITEM.ttl, '#run': 'run' }
            : { '#status': 'status', '#ttl': IDEMPOTENCY_ITEM.ttl, '#run': 'run' },
          ExpressionAttributeValues: { ':completed': 'COMPLETED', ':ttl': rememberUntil, ':run': run, ...outcome.values },
        }),
      ),
    { tries: COMPLETION_WRITE_TRIES, again: (error) => !(error instanceof ConditionalCheckFailedException) },
  );
  if (!verdict.storable) throw new ResultNotStorableError(options.resultName ?? key, verdict.reason);
  return { result, ran: true };
}

export type { TransactItem };

/**
 * Exactly once, for an effect that is itself a DynamoDB write (a balance
 * credited, a row inserted, an outbox entry): the effect's items and the
 * key's COMPLETED record commit in one transaction, so no crash, retry,
 * duplicate delivery or lost response can apply the effect twice or record it
 * without applying it. `once()` cannot promise as much for an effect outside
 * DynamoDB (an email): an environment that dies after the effect and before
 * its record lets a later run repeat it; give such providers the key too.
 * @returns ran: false when the key had completed before (nothing was written)
 */
export async function onceWrite(key: string, items: readonly TransactItem[], options: Omit<OnceOptions, 'inProgressFor' | 'resultName'> = {}): Promise<{ readonly ran: boolean }> {
  const state = new StateTable(options);
  const run = randomUUID();
  const now = state.now();
  const write = new TransactWriteCommand({
    TransactItems: [
      {
        Put: {
          TableName: state.name,
          Item: {
            pk: IDEMPOTENCY_ITEM.pkOf(key),
            sk: IDEMPOTENCY_ITEM.sk,
            status: 'COMPLETED',
            run,
            [IDEMPOTENCY_ITEM.ttl]: Math.ceil((now + (options.remember ?? days(1)).milliseconds) / 1000),
          },
          // Admits a key never run (or whose record expired); refused, the
          // effect was applied before, by an earlier run or by this very one
          // (its response lost), told apart by the run id.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl <= :nowS',
          ExpressionAttributeNames: { '#ttl': IDEMPOTENCY_ITEM.ttl },
          ExpressionAttributeValues: { ':nowS': Math.floor(now / 1000) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      ...items,
    ],
  });
  const refusal = await transactWrite(state.db, write);
  if (refusal === undefined) return { ran: true };
  // Refused by an effect item's own condition: the effect is the caller's to explain.
  const record = refusal.CancellationReasons?.[0];
  if (record?.Code !== 'ConditionalCheckFailed') throw refusal;
  return { ran: (record.Item === undefined ? {} : unmarshall(record.Item)).run === run };
}
