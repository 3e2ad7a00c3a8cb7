/**
 * Counts the AWS calls this process makes through Ferry's shared clients (the
 * ones handlers use), by service and command, with SDK middleware installed
 * once per process. Each CallCounter counts from the moment it was created.
 */
import { dynamoDbClient, sqsClient } from '../lib/aws/clients.js';

const totals = new Map<string, number>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const bump = (key: string) => totals.set(key, (totals.get(key) ?? 0) + 1);
  const count = (service: string) => (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const key = `${service}:${(context.commandName ?? '?').replace(/Command$/, '')}`;
    bump(key);
    try {
      return await next(args);
    } catch (error) {
      // A conditional write that lost still costs a write request (DynamoDB bills it).
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') bump(`${key}:rejected`);
      throw error;
    }
  };
  sqsClient().middlewareStack.add(count('sqs') as never, { step: 'initialize', name: 'ferryCallCounter' });
  dynamoDbClient().middlewareStack.add(count('dynamodb') as never, { step: 'initialize', name: 'ferryCallCounter' });
}

const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems'];

export class CallCounter {
  private readonly baseline: Map<string, number>;

  constructor() {
    install();
    this.baseline = new Map(totals);
  }

  /** Calls since this counter was created whose `service:Command` key is one of `keys`. */
  get(...keys: string[]): number {
    return keys.reduce((sum, key) => sum + (totals.get(key) ?? 0) - (this.baseline.get(key) ?? 0), 0);
  }

  /** All SQS calls since this counter was created. */
  sqsCalls(): number {
    return this.get(...[...totals.keys()].filter((k) => k.startsWith('sqs:')));
  }

  /** DynamoDB write requests since this counter was created, including conditional writes that were rejected. */
  dynamoWrites(): number {
    return this.get(...WRITES);
  }

  /** DynamoDB writes that changed something: write requests less rejected conditional writes. */
  dynamoWritesApplied(): number {
    return this.dynamoWrites() - this.get(...WRITES.map((w) => `${w}:rejected`));
  }
}
