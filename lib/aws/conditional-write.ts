/**
 * Conditional writes: telling "the condition refused it" (an expected
 * outcome, which callers branch on) from every other failure (which must
 * propagate, to be retried).
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

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
  const codes = (error.CancellationReasons ?? []).map((r) => r.Code ?? 'None');
  return codes.includes('ConditionalCheckFailed') && codes.every((c) => c === 'ConditionalCheckFailed' || c === 'None');
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
