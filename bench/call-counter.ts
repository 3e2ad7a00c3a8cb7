/**
 * Counts the AWS calls this process makes through Ferry's shared clients (the
 * ones handlers use), by service and command, with SDK middleware.
 */
import { dynamoDbClient, sqsClient } from '../lib/aws/clients.js';

export class CallCounter {
  private readonly counts = new Map<string, number>();

  constructor() {
    const count = (service: string) => (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => {
      const key = `${service}:${(context.commandName ?? '?').replace(/Command$/, '')}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      return next(args);
    };
    sqsClient().middlewareStack.add(count('sqs') as never, { step: 'initialize', name: 'ferryBenchCallCounter' });
    dynamoDbClient().middlewareStack.add(count('dynamodb') as never, { step: 'initialize', name: 'ferryBenchCallCounter' });
  }

  /** Calls so far whose `service:Command` key matches. */
  get(...keys: string[]): number {
    return keys.reduce((sum, key) => sum + (this.counts.get(key) ?? 0), 0);
  }

  /** All SQS calls, or all DynamoDB writes, so far. */
  sqsCalls(): number {
    return [...this.counts].filter(([k]) => k.startsWith('sqs:')).reduce((s, [, n]) => s + n, 0);
  }

  dynamoWrites(): number {
    return this.get('dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems');
  }

  snapshot(): Map<string, number> {
    return new Map(this.counts);
  }
}
