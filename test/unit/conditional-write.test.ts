import { describe, expect, it } from 'vitest';
import { ConditionalCheckFailedException, ResourceNotFoundException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { applied, isConditionRefusal, isTransactionConflict } from '../../lib/aws/conditional-write.js';

const meta = { $metadata: {} };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'cancelled', ...meta, CancellationReasons: codes.map((Code) => ({ Code })) });

describe('isConditionRefusal', () => {
  it('counts a failed condition and a transaction cancelled by one of its conditions as a refusal', () => {
    expect(isConditionRefusal(new ConditionalCheckFailedException({ message: 'no', ...meta }))).toBe(true);
    expect(isConditionRefusal(cancelled('ConditionalCheckFailed', 'None'))).toBe(true);
  });

  it('does not count a transaction cancelled by a conflict or throttling, nor any other error, as a refusal', () => {
    expect(isConditionRefusal(cancelled('None', 'TransactionConflict'))).toBe(false);
    expect(isConditionRefusal(cancelled('ConditionalCheckFailed', 'TransactionConflict'))).toBe(false);
    expect(isConditionRefusal(cancelled('ThrottlingError'))).toBe(false);
    expect(isConditionRefusal(new ResourceNotFoundException({ message: 'gone', ...meta }))).toBe(false);
  });
});

describe('isTransactionConflict', () => {
  it('recognises a transaction cancelled by a conflicting one', () => {
    expect(isTransactionConflict(cancelled('None', 'TransactionConflict'))).toBe(true);
    expect(isTransactionConflict(cancelled('ConditionalCheckFailed'))).toBe(false);
  });
});

describe('applied', () => {
  it('resolves true for an applied write, false for a refused one, and rethrows anything else', async () => {
    expect(await applied(Promise.resolve({}))).toBe(true);
    expect(await applied(Promise.reject(new ConditionalCheckFailedException({ message: 'no', ...meta })))).toBe(false);
    await expect(applied(Promise.reject(cancelled('TransactionConflict')))).rejects.toThrow('cancelled');
  });
});
