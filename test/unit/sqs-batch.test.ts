import { describe, expect, it } from 'vitest';
import type { Message } from '@aws-sdk/client-sqs';
import { latestCopies } from '../../lib/local/sqs-event-source.js';

describe('latestCopies', () => {
  it('keeps one record per message, with the newest receipt handle, when a message reappeared during the batching window', () => {
    const batch: Message[] = [
      { MessageId: 'a', ReceiptHandle: 'a-1' },
      { MessageId: 'b', ReceiptHandle: 'b-1' },
      { MessageId: 'a', ReceiptHandle: 'a-2' },
    ];
    expect(latestCopies(batch)).toEqual([
      { MessageId: 'b', ReceiptHandle: 'b-1' },
      { MessageId: 'a', ReceiptHandle: 'a-2' },
    ]);
  });

  it('leaves a batch of distinct messages as it is', () => {
    const batch: Message[] = [{ MessageId: 'a' }, { MessageId: 'b' }];
    expect(latestCopies(batch)).toEqual(batch);
  });
});
