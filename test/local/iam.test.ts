/**
 * IAM on the local runtime: a function's calls are checked against the policy
 * the synthesized stack gives it, and a call outside it fails with
 * AccessDeniedException, as on AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { type LocalRuntime } from '../../lib/local/runtime.js';
import { deployedPolicies } from '../../lib/local/deployed-policies.js';
import { resources } from '../../app/resources.js';
import { AccessDeniedException, iamMatch, isAllowed, permissionsOf, type ArnResolver } from '../../lib/local/iam-check.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { testApp } from '../fixtures/test-app.js';

const arns: ArnResolver = {
  table: (name) => `arn:aws:dynamodb:ddblocal:000000000000:table/${name}`,
  queue: (url) => `arn:aws:sqs:us-east-1:000000000000:${url.slice(url.lastIndexOf('/') + 1)}`,
  queueNamed: (name) => `arn:aws:sqs:us-east-1:000000000000:${name}`,
};

describe('permissionsOf', () => {
  it('names the action and the table, or its index, of a DynamoDB call', () => {
    expect(permissionsOf('DynamoDBClient', 'PutItemCommand', { TableName: 'state' }, arns)).toEqual([
      { action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:ddblocal:000000000000:table/state' },
    ]);
    expect(permissionsOf('DynamoDBClient', 'QueryCommand', { TableName: 'state', IndexName: 'byStatus' }, arns)).toEqual([
      { action: 'dynamodb:Query', resource: 'arn:aws:dynamodb:ddblocal:000000000000:table/state/index/byStatus' },
    ]);
  });

  it('needs a batch action on every table of a batch, and each item action of a transaction', () => {
    expect(permissionsOf('DynamoDBClient', 'BatchWriteItemCommand', { RequestItems: { a: [], b: [] } }, arns).map((p) => `${p.action} ${p.resource.slice(-1)}`)).toEqual([
      'dynamodb:BatchWriteItem a',
      'dynamodb:BatchWriteItem b',
    ]);
    const items = [{ Put: { TableName: 'a' } }, { Update: { TableName: 'b' } }, { ConditionCheck: { TableName: 'a' } }];
    expect(permissionsOf('DynamoDBClient', 'TransactWriteItemsCommand', { TransactItems: items }, arns).map((p) => p.action)).toEqual([
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
    ]);
  });

  it('authorizes an SQS batch call as its single-message action, on the queue of its URL', () => {
    expect(permissionsOf('SQSClient', 'SendMessageBatchCommand', { QueueUrl: 'http://127.0.0.1:4566/000000000000/jobs' }, arns)).toEqual([
      { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:jobs' },
    ]);
    expect(permissionsOf('SQSClient', 'DeleteMessageBatchCommand', { QueueUrl: 'http://h/0/jobs' }, arns)[0]?.action).toBe('sqs:DeleteMessage');
  });

  it('names the queue of GetQueueUrl by its name, and every queue of the account for ListQueues', () => {
    expect(permissionsOf('SQSClient', 'GetQueueUrlCommand', { QueueName: 'jobs' }, arns)).toEqual([{ action: 'sqs:GetQueueUrl', resource: 'arn:aws:sqs:us-east-1:000000000000:jobs' }]);
    expect(permissionsOf('SQSClient', 'ListQueuesCommand', {}, arns)).toEqual([{ action: 'sqs:ListQueues', resource: 'arn:aws:sqs:us-east-1:000000000000:*' }]);
  });
});

describe('AccessDeniedException', () => {
  it('takes the name, code and status the SDK gives each service: DynamoDB 400 AccessDeniedException, SQS 403 AccessDenied', () => {
    const dynamodb = new AccessDeniedException('api', 'arn:role', { action: 'dynamodb:PutItem', resource: 'arn:t' });
    expect([dynamodb.name, dynamodb.Code, dynamodb.$metadata.httpStatusCode]).toEqual(['AccessDeniedException', 'AccessDeniedException', 400]);
    const sqs = new AccessDeniedException('api', 'arn:role', { action: 'sqs:SendMessage', resource: 'arn:q' }, true);
    expect([sqs.name, sqs.Code, sqs.Type, sqs.$metadata.httpStatusCode]).toEqual(['AccessDenied', 'AccessDenied', 'Sender', 403]);
    expect(sqs.message).toBe('User: arn:role is not authorized to perform: sqs:SendMessage on resource: arn:q with an explicit deny in an identity-based policy');
  });
});

describe('isAllowed', () => {
  const permission = { action: 'sqs:SendMessage', resource: 'arn:aws:sqs:us-east-1:000000000000:jobs' };
  it('allows what a statement allows, with IAM wildcards, actions matched without case', () => {
    expect(isAllowed([{ effect: 'Allow', actions: ['SQS:sendmessage'], resources: ['arn:aws:sqs:*:*:jobs'] }], permission)).toBe(true);
    expect(isAllowed([{ effect: 'Allow', actions: ['sqs:Send*'], resources: ['arn:aws:sqs:us-east-1:000000000000:job?'] }], permission)).toBe(true);
  });

  it('refuses what no statement allows, and what a statement denies even if another allows it', () => {
    expect(isAllowed([{ effect: 'Allow', actions: ['sqs:ReceiveMessage'], resources: ['*'] }], permission)).toBe(false);
    expect(isAllowed([{ effect: 'Allow', actions: ['sqs:SendMessage'], resources: ['arn:aws:sqs:us-east-1:000000000000:other'] }], permission)).toBe(false);
    expect(
      isAllowed(
        [
          { effect: 'Allow', actions: ['sqs:*'], resources: ['*'] },
          { effect: 'Deny', actions: ['sqs:SendMessage'], resources: ['*'] },
        ],
        permission,
      ),
    ).toBe(false);
  });

  it('matches resources case-sensitively, as IAM does', () => {
    expect(iamMatch('arn:aws:sqs:*:*:Jobs', 'arn:aws:sqs:us-east-1:0:jobs')).toBe(false);
  });
});

describe('deployedPolicies', () => {
  it("reads each function's role policy out of the synthesized stack, with resources as local ARNs", async () => {
    const policies = await deployedPolicies(resources, PROJECT_ROOT, {
      tables: { state: 'arn:local:table/state', pageViews: 'arn:local:table/page-views' },
      queues: { io: 'arn:local:io', cpu: 'arn:local:cpu' },
      deadLetterQueues: { io: 'arn:local:io-dlq', cpu: 'arn:local:cpu-dlq' },
    });
    const may = (fn: string, action: string, resource: string) => isAllowed(policies.get(fn) ?? [], { action, resource });
    expect(may('ioWorker', 'sqs:SendMessage', 'arn:local:io')).toBe(true);
    expect(may('ioWorker', 'sqs:SendMessage', 'arn:local:io-dlq')).toBe(true);
    expect(may('ioWorker', 'dynamodb:Query', 'arn:local:table/page-views')).toBe(true);
    expect(may('ioWorker', 'dynamodb:PutItem', 'arn:local:table/page-views')).toBe(false);
    expect(may('api', 'sqs:SendMessage', 'arn:local:io')).toBe(true);
    expect(may('api', 'sqs:SendMessage', 'arn:local:cpu')).toBe(true);
    expect(may('api', 'sqs:SendMessage', 'arn:local:io-dlq')).toBe(false);
    expect(may('api', 'sqs:ReceiveMessage', 'arn:local:io')).toBe(false);
    expect(may('api', 'dynamodb:Query', 'arn:local:table/page-views')).toBe(false);
  });
});

describe('a function on the local runtime', () => {
  let runtime: LocalRuntime;
  const lines: string[] = [];
  beforeAll(async () => {
    runtime = await startTestRuntime(testApp, { log: (line) => void lines.push(line) });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('may make the calls its deployed policy grants', async () => {
    const response = await fetch(`${runtime.url}/echo/get-event`);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('is refused a call outside its deployed policy with AccessDeniedException, logged with the function, action and resource', async () => {
    const response = await fetch(`${runtime.url}/echo/put-event`);
    expect(response.status).toBe(403);
    const error = (await response.json()) as { name: string; message: string };
    expect(error.name).toBe('AccessDeniedException');
    expect(error.message).toMatch(
      /^User: arn:aws:sts::000000000000:assumed-role\/t-[0-9a-f]{8}-http-role\/t-[0-9a-f]{8}-http is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:[^:]+:000000000000:table\/t-[0-9a-f]{8}-events because no identity-based policy allows the dynamodb:PutItem action$/,
    );
    expect(lines.some((l) => /^IAM: function "http" was refused dynamodb:PutItem on arn:aws:dynamodb:.*table\/t-[0-9a-f]{8}-events/.test(l))).toBe(true);
  });

  it('is refused the same call from a timer its invocation started', async () => {
    const response = await fetch(`${runtime.url}/echo/put-event-later`);
    expect(((await response.json()) as { name: string }).name).toBe('AccessDeniedException');
  });

  it('leaves calls made outside any invocation (the test, acting as an administrator) unchecked', async () => {
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { documentClient } = await import('../../lib/aws/clients.js');
    await expect(documentClient().send(new PutCommand({ TableName: runtime.resources.tables.events?.name, Item: { pk: 'admin', sk: '1' } }))).resolves.toBeDefined();
  });
});

describe('SQS rules fauxqs does not check, on the local runtime', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime(testApp);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('reports a batch entry with too many message attributes in Failed and sends the others, as SQS does', async () => {
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    const { sqsClient } = await import('../../lib/aws/clients.js');
    const attributes = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'x' }]));
    const result = await sqsClient().send(
      new SendMessageBatchCommand({
        QueueUrl: runtime.resources.queues.wide?.url,
        Entries: [
          { Id: 'good', MessageBody: '{"mode":"ok"}' },
          { Id: 'bad', MessageBody: '{"mode":"ok"}', MessageAttributes: attributes },
        ],
      }),
    );
    expect(result.Successful?.map((s) => s.Id)).toEqual(['good']);
    expect(result.Failed).toEqual([{ Id: 'bad', SenderFault: true, Code: 'InvalidParameterValue', Message: 'Number of message attributes [11] exceeds the allowed maximum [10].' }]);
  });
});
