import { describe, expect, it } from 'vitest';
import { checkSqsRules, InvalidParameterValue, ReceiptLog, refusedEntries } from '../../lib/local/sqs-rules.js';

const NOW = 1_800_000_000_000;

describe('checkSqsRules', () => {
  it('refuses a message with more than 10 message attributes, alone or in a batch', () => {
    const attributes = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'x' }]));
    expect(() => checkSqsRules('SendMessageCommand', { MessageAttributes: attributes(10) }, new ReceiptLog(), NOW)).not.toThrow();
    expect(() => checkSqsRules('SendMessageCommand', { MessageAttributes: attributes(11) }, new ReceiptLog(), NOW)).toThrow(
      new InvalidParameterValue('Number of message attributes [11] exceeds the allowed maximum [10].'),
    );
    // A batch is not refused whole: the entry is reported in Failed, as SQS does, and the others go through.
    expect(() => checkSqsRules('SendMessageBatchCommand', { Entries: [{ Id: 'a' }, { Id: 'b', MessageAttributes: attributes(12) }] }, new ReceiptLog(), NOW)).not.toThrow();
    expect(refusedEntries('SendMessageBatchCommand', { Entries: [{ Id: 'a' }, { Id: 'b', MessageAttributes: attributes(12) }] }, new ReceiptLog(), NOW)).toEqual([
      { Id: 'b', SenderFault: true, Code: 'InvalidParameterValue', Message: 'Number of message attributes [12] exceeds the allowed maximum [10].' },
    ]);
  });

  it('refuses a visibility change that would hide a message beyond 12 hours from its receive', () => {
    const receipts = new ReceiptLog();
    receipts.record('r1', NOW - 3_600_000);
    expect(() => checkSqsRules('ChangeMessageVisibilityCommand', { ReceiptHandle: 'r1', VisibilityTimeout: 39_600 }, receipts, NOW)).not.toThrow();
    expect(() => checkSqsRules('ChangeMessageVisibilityCommand', { ReceiptHandle: 'r1', VisibilityTimeout: 39_601 }, receipts, NOW)).toThrow(
      /^Value 39601 for parameter VisibilityTimeout is invalid\. Reason: Total VisibilityTimeout for the message is beyond the limit \[43200 seconds\]/,
    );
    expect(refusedEntries('ChangeMessageVisibilityBatchCommand', { Entries: [{ Id: '0', ReceiptHandle: 'r1', VisibilityTimeout: 43_200 }] }, receipts, NOW).map((e) => e.Id)).toEqual(['0']);
  });

  it('leaves a receipt it did not see to the emulator', () => {
    expect(() => checkSqsRules('ChangeMessageVisibilityCommand', { ReceiptHandle: 'unknown', VisibilityTimeout: 43_200 }, new ReceiptLog(), NOW)).not.toThrow();
  });
});
