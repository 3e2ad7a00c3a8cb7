/**
 * Creates every declared table and queue in the emulators, as the CDK stack
 * creates them in AWS: tables with their keys, TTL and stream; each queue with
 * its dead-letter queue, redrive policy, visibility timeout and retention.
 * Idempotent: what exists (kept in DynamoDB Local's data folder) is reused.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { App, Queue, Table } from '../app/define-app.js';
import { toWholeSeconds } from '../app/duration.js';

export interface ProvisionedTable {
  readonly name: string;
  readonly arn: string;
}

export interface ProvisionedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly deadLetter: { readonly name: string; readonly url: string; readonly arn: string };
}

export interface Provisioned {
  readonly tables: Readonly<Record<string, ProvisionedTable>>;
  readonly queues: Readonly<Record<string, ProvisionedQueue>>;
}

/** Local physical name of resource `id`: `<prefix>-<kebab-id>`. */
export function localName(prefix: string, id: string): string {
  return `${prefix}-${id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

export async function provision(app: App, prefix: string, clients: { dynamodb: DynamoDBClient; sqs: SQSClient }): Promise<Provisioned> {
  const tables = await Promise.all(app.tables.map(async (t) => [t.id, await ensureTable(clients.dynamodb, t, localName(prefix, t.id))] as const));
  const queues = await Promise.all(app.queues.map(async (q) => [q.id, await ensureQueue(clients.sqs, q, localName(prefix, q.id))] as const));
  return { tables: Object.fromEntries(tables), queues: Object.fromEntries(queues) };
}

async function ensureTable(dynamodb: DynamoDBClient, table: Table, name: string): Promise<ProvisionedTable> {
  const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        ...(table.stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await reconcileStream(dynamodb, table, name);
  }
  if (table.timeToLiveAttribute !== undefined) {
    const { TimeToLiveDescription } = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name }));
    if (TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED' || TimeToLiveDescription.AttributeName !== table.timeToLiveAttribute) {
      await dynamodb.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { Enabled: true, AttributeName: table.timeToLiveAttribute },
        }),
      );
    }
  }
  const { Table: described } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
  return { name, arn: described?.TableArn ?? `arn:aws:dynamodb:us-east-1:000000000000:table/${name}` };
}

/** A table kept from an earlier run gets the stream its declaration now asks for. */
async function reconcileStream(dynamodb: DynamoDBClient, table: Table, name: string): Promise<void> {
  const { Table: existing } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
  const current = existing?.StreamSpecification?.StreamEnabled ? existing.StreamSpecification.StreamViewType : undefined;
  if (current === table.stream) return;
  if (current !== undefined) {
    await dynamodb.send(new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: false } }));
  }
  if (table.stream !== undefined) {
    await dynamodb.send(
      new UpdateTableCommand({ TableName: name, StreamSpecification: { StreamEnabled: true, StreamViewType: table.stream } }),
    );
  }
}

async function ensureQueue(sqs: SQSClient, queue: Queue, name: string): Promise<ProvisionedQueue> {
  const deadLetterName = `${name}-dlq`;
  const deadLetter = await createQueue(sqs, deadLetterName, {
    MessageRetentionPeriod: String(toWholeSeconds(queue.deadLetterRetention, 'deadLetterRetention')),
  });
  const main = await createQueue(sqs, name, {
    VisibilityTimeout: String(toWholeSeconds(queue.visibilityTimeout, 'visibilityTimeout')),
    MessageRetentionPeriod: String(toWholeSeconds(queue.retention, 'retention')),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: queue.maxReceiveCount }),
  });
  return { name, ...main, deadLetter: { name: deadLetterName, ...deadLetter } };
}

async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (QueueUrl === undefined) throw new Error(`CreateQueue returned no URL for ${name}`);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl, arn: Attributes?.QueueArn ?? '' };
}
