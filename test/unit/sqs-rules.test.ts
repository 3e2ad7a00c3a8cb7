import { describe, expect, it } from 'vitest';
import { checkSqsRules, InvalidParameterValue, ReceiptLog } from '../../lib/local/sqs-rules.js';

const NOW = 1_800_000_000_000;

describe('checkSqsRules', () => {
  it('refuses a message with more than 10 message attributes, alone or in a batch', () => {
    const attributes = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'x' }]));
    expect(() => checkSqsRules('SendMessageCommand', { MessageAttributes: attributes(10) }, new ReceiptLog(), NOW)).not.toThrow();
    expect(() => checkSqsRules('SendMessageCommand', { MessageAttributes: attributes(11) }, new ReceiptLog(), NOW)).toThrow(
      new InvalidParameterValue('Number of message attributes [11] exceeds the allowed maximum [10].'),
    );
    expect(() => checkSqsRules('SendMessageBatchCommand', { Entries: [{}, { MessageAttributes: attributes(12) }] }, new ReceiptLog(), NOW)).toThrow(
      /\[12\] exceeds the allowed maximum \[10\]/,
    );
  });

  it('refuses a visibility change that would hide a message beyond 12 hours from its receive', () => {
    const receipts = new ReceiptLog();
    receipts.record('r1', NOW - 3_600_000);
    expect(() => checkSqsRules('ChangeMessageVisibilityCommand', { ReceiptHandle: 'r1', VisibilityTimeout: 39_600 }, receipts, NOW)).not.toThrow();
    expect(() => checkSqsRules('ChangeMessageVisibilityCommand', { ReceiptHandle: 'r1', VisibilityTimeout: 39_601 }, receipts, NOW)).toThrow(
      /^Value 39601 for parameter VisibilityTimeout is invalid\. Reason: Total VisibilityTimeout for the message is beyond the limit \[43200 seconds\]/,
    );
    expect(() => checkSqsRules('ChangeMessageVisibilityBatchCommand', { Entries: [{ ReceiptHandle: 'r1', VisibilityTimeout: 43_200 }] }, receipts, NOW)).toThrow(InvalidParameterValue);
  });

  it('leaves a receipt it did not see to the emulator', () => {
    expect(() => checkSqsRules('ChangeMessageVisibilityCommand', { ReceiptHandle: 'unknown', VisibilityTimeout: 43_200 }, new ReceiptLog(), NOW)).not.toThrow();
  });
});
