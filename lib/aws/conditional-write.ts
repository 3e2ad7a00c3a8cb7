/**
 * Conditional writes: telling "the condition refused it" (an expected
 * outcome, which callers branch on) from every other failure (which must
 * propagate, to be retried).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommand, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../util/sleep.js';

/** Transactions cancelled by a conflict with another transaction tried again before the error goes up. */
const TRANSACTION_RETRIES = 8;

/**
 * True when `error` means a condition refused the write: a
 * ConditionalCheckFailedException, or a transaction cancelled because one of
 * its conditions failed. A transaction cancelled for a conflict with another
 * transaction, throttling or a validation error is not a refusal: it is thrown
 * on, so the write is tried again rather than taken as refused.
 */
export function isConditionRefusal(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (!(error instanceof TransactionCanceledException)) return false;
  const codes = cancellationCodes(error);
  return codes.includes('ConditionalCheckFailed') && codes.every((c) => c === 'ConditionalCheckFailed' || c === 'None');
}

/** One write of a transaction, as the document client takes it (`Put`, `Update`, `Delete` or `ConditionCheck`). */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A cancelled transaction's reasons, item by item, as codes (`ConditionalCheckFailed`, `None`, ...). */
export function cancellationCodes(error: TransactionCanceledException): string[] {
  return (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
}

/** True when a transaction was cancelled only because it collided with another one touching the same item. */
export function isTransactionConflict(error: unknown): boolean {
  return error instanceof TransactionCanceledException && (error.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
}

/** Awaits a conditional write: true if it was applied, false if its condition refused it; other errors propagate. */
export async function applied(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionRefusal(error)) return false;
    throw error;
  }
}

/**
 * Sends a transaction; one that collided with another transaction on the
 * same items (nothing applied) is sent again, with jitter. Returns undefined
 * when it applied, or the refusal (`CancellationReasons` name the items whose
 * condition failed, with their `ALL_OLD` item when asked) for the caller to
 * tell its own earlier write from another's. Other errors propagate.
 */
export async function transactWrite(db: DynamoDBDocumentClient, write: TransactWriteCommand): Promise<TransactionCanceledException | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.send(write);
      return undefined;
    } catch (error) {
      if (isConditionRefusal(error)) return error as TransactionCanceledException;
      if (!isTransactionConflict(error) || attempt >= TRANSACTION_RETRIES) throw error;
      await sleep(Math.random() * 25 * 2 ** attempt);
    }
  }
}
