/**
 * Counts the AWS calls this process makes through Ferry's shared clients (the
 * ones handlers use), by service and command, with SDK middleware installed
 * once per process. Each CallCounter counts from the moment it was created.
 */
import { cloudWatchClient, dynamoDbClient, sqsClient } from '../lib/aws/clients.js';

const totals = new Map<string, number>();
let installed = false;

/** Transactions in flight, per item they touch (JSON of table and key). */
const inFlight = new Map<string, number>();

function install(): void {
  if (installed) return;
  installed = true;
  const bump = (key: string, by = 1) => totals.set(key, (totals.get(key) ?? 0) + by);
  const count = (service: string) => (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
    const key = `${service}:${(context.commandName ?? '?').replace(/Command$/, '')}`;
    const input = (args as { input?: Record<string, unknown> }).input ?? {};
    bump(key);
    if (WRITES.includes(key)) bump(ITEMS_WRITTEN, itemsOf(key, input));
    const touched = key === 'dynamodb:TransactWriteItems' ? transactionKeys(input) : [];
    // Another transaction on one of these items in flight at this moment: DynamoDB on AWS may cancel one of the two (TransactionConflict).
    if (touched.some((k) => (inFlight.get(k) ?? 0) > 0)) bump(`${key}:overlap`);
    for (const k of touched) inFlight.set(k, (inFlight.get(k) ?? 0) + 1);
    try {
      return await next(args);
    } catch (error) {
      // A conditional write that lost still costs a write request (DynamoDB bills it).
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') bump(`${key}:rejected`);
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      // A transaction cancelled for a collision with another one (sent again by Ferry): the cost of contention.
      if (reasons.some((r) => r.Code === 'TransactionConflict')) bump(`${key}:conflict`);
      else if (reasons.some((r) => r.Code === 'ConditionalCheckFailed')) bump(`${key}:rejected`);
      throw error;
    } finally {
      for (const k of touched) inFlight.set(k, (inFlight.get(k) ?? 1) - 1);
    }
  };
  sqsClient().middlewareStack.add(count('sqs') as never, { step: 'initialize', name: 'ferryCallCounter' });
  dynamoDbClient().middlewareStack.add(count('dynamodb') as never, { step: 'initialize', name: 'ferryCallCounter' });
  cloudWatchClient().middlewareStack.add(count('cloudwatch') as never, { step: 'initialize', name: 'ferryCallCounter' });
}

/** The items a transaction touches, as comparable strings. */
function transactionKeys(input: Record<string, unknown>): string[] {
  const items = (input.TransactItems as Record<string, { TableName?: string; Key?: unknown; Item?: Record<string, unknown> }>[] | undefined) ?? [];
  return items.map((entry) => {
    const op = Object.values(entry)[0] ?? {};
    const key = op.Key ?? (op.Item && { pk: op.Item.pk, sk: op.Item.sk });
    return JSON.stringify([op.TableName, key]);
  });
}

const WRITES = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:TransactWriteItems'];
const ITEMS_WRITTEN = 'dynamodb:items-written';

/** Items a write request writes (or tries to): one, a batch's requests, a transaction's items. */
function itemsOf(key: string, input: Record<string, unknown>): number {
  if (key === 'dynamodb:TransactWriteItems') return (input.TransactItems as unknown[] | undefined)?.length ?? 0;
  if (key === 'dynamodb:BatchWriteItem') return Object.values((input.RequestItems as Record<string, unknown[]> | undefined) ?? {}).reduce((n, r) => n + r.length, 0);
  return 1;
}

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

  /** Items the DynamoDB write requests wrote or tried to (a transaction of three items counts three). */
  dynamoItemsWritten(): number {
    return this.get(ITEMS_WRITTEN);
  }

  /**
   * Transactions sent while another transaction on one of their items was in
   * flight: the ones DynamoDB on AWS may cancel with TransactionConflict.
   * DynamoDB Local runs transactions one at a time and cancels none, so this
   * is the local stand-in for contention.
   */
  transactionOverlaps(): number {
    return this.get('dynamodb:TransactWriteItems:overlap');
  }

  /** Transactions cancelled because they collided with another transaction on an item. */
  transactionConflicts(): number {
    return this.get('dynamodb:TransactWriteItems:conflict');
  }

  /** All DynamoDB requests since this counter was created. */
  dynamoCalls(): number {
    return this.get(...[...totals.keys()].filter((k) => k.startsWith('dynamodb:') && k !== ITEMS_WRITTEN && !k.endsWith(':rejected') && !k.endsWith(':conflict') && !k.endsWith(':overlap')));
  }

  /** DynamoDB writes that changed something: write requests less rejected conditional writes. */
  dynamoWritesApplied(): number {
    return this.dynamoWrites() - this.get(...WRITES.map((w) => `${w}:rejected`));
  }
}
