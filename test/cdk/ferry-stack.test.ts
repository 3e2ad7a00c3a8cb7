import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Aspects, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SynthesisMessage } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { defineApp, type App as FerryApp } from '../../lib/app/define-app.js';
import { minutes, seconds, toWholeSeconds } from '../../lib/app/duration.js';
import { deadLetterQueueUrlEnvName, queueUrlEnvName, tableEnvName } from '../../lib/app/resource-env.js';
import { resources } from '../../app/resources.js';
import { notesApp } from '../../notes/resources.js';
import { FerryStack, type FerryStackProps } from '../../cdk/stacks/ferry-stack.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Synthesizes `app` without bundling any function (asset bundling is skipped for every stack). */
function synth(app: FerryApp, options: Partial<FerryStackProps> = {}): { stack: FerryStack; template: Template } {
  const cdkApp = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FerryStack(cdkApp, 'Test', { app, projectRoot: PROJECT_ROOT, ...options });
  return { stack, template: Template.fromStack(stack) };
}

/** Builds `app` under cdk-nag's AwsSolutions checks and returns the stack's annotations. */
function nagAnnotations(app: FerryApp): Annotations {
  const cdkApp = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FerryStack(cdkApp, 'Nag', { app, projectRoot: PROJECT_ROOT });
  Aspects.of(cdkApp).add(new AwsSolutionsChecks({ verbose: true }));
  return Annotations.fromStack(stack);
}

const SQS_CONSUME = 'sqs:ReceiveMessage';
const SQS_SEND = 'sqs:SendMessage';
const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:BatchGetItem'];
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The template's resources by logical id. */
function resourcesOf(template: Template): Record<string, Resource> {
  return (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
}

/** The template logical id of an L2 construct's CloudFormation resource. */
function logicalId(stack: FerryStack, construct: IConstruct | undefined): string {
  const cfn = construct?.node.defaultChild;
  if (!(cfn instanceof CfnElement)) throw new Error(`${construct?.node.path ?? 'construct'} is missing or has no CloudFormation resource`);
  return stack.getLogicalId(cfn);
}

function functionLogicalId(stack: FerryStack, functionId: string): string {
  return logicalId(stack, stack.functions.get(functionId));
}

/** Every action the IAM policies attached to `functionId`'s role allow, with their resources. */
function policyStatements(template: Template, stack: FerryStack, functionId: string): { Action: unknown; Resource: unknown }[] {
  const fnResource = resourcesOf(template)[functionLogicalId(stack, functionId)] as Resource;
  const role = (fnResource.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  return policies
    .filter((p) => (p.Properties?.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);
}

function actionsOf(statement: { Action: unknown }): string[] {
  return Array.isArray(statement.Action) ? (statement.Action as string[]) : [statement.Action as string];
}

/** Whether `value` mentions logical id `id` anywhere (a `Ref`, an `Fn::GetAtt`, or inside a list of them). */
function refersTo(value: unknown, id: string): boolean {
  return JSON.stringify(value).includes(`"${id}"`);
}

/** Every CloudWatch alarm's properties. */
function alarmsOf(template: Template): Record<string, unknown>[] {
  return (Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[]).map((a) => a.Properties ?? {});
}

/** The one-minute, one-period, missing-is-fine shape every Ferry alarm has. */
const ALARM_SHAPE = {
  ComparisonOperator: 'GreaterThanThreshold',
  EvaluationPeriods: 1,
  DatapointsToAlarm: 1,
  Period: 60,
  TreatMissingData: 'notBreaching',
} as const;

/** Full path (`/pings/{id}`) of every API Gateway resource, by logical id, rebuilt from its PathPart and ParentId. */
function resourcePaths(template: Template): Map<string, string> {
  const apiResources = template.findResources('AWS::ApiGateway::Resource') as Record<string, Resource>;
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const props = apiResources[id]?.Properties;
    const parent = props?.ParentId as { Ref?: string };
    const full = `${parent.Ref === undefined ? '' : pathOf(parent.Ref)}/${String(props?.PathPart)}`;
    paths.set(id, full);
    return full;
  };
  for (const id of Object.keys(apiResources)) pathOf(id);
  return paths;
}

describe('FerryStack built from app/resources.ts', () => {
  const { stack, template } = synth(resources);

  it('creates exactly the declared queues, each with its own dead-letter queue', () => {
    expect([...stack.queues.keys()].sort()).toEqual(resources.queues.map((q) => q.id).sort());
    expect([...stack.deadLetterQueues.keys()].sort()).toEqual(resources.queues.map((q) => q.id).sort());
    template.resourceCountIs('AWS::SQS::Queue', resources.queues.length * 2);
  });

  it('redrives each queue to its dead-letter queue after the declared maxReceiveCount', () => {
    for (const q of resources.queues) {
      const queue = stack.queues.get(q.id);
      const dlq = stack.deadLetterQueues.get(q.id);
      if (queue === undefined || dlq === undefined) throw new Error(`queue "${q.id}" missing`);
      const resource = resourcesOf(template)[logicalId(stack, queue)] as Resource;
      expect(resource.Properties?.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, dlq), 'Arn'] },
        maxReceiveCount: q.maxReceiveCount,
      });
    }
  });

  it('gives each queue the declared (or defaulted) visibility timeout and retention', () => {
    for (const q of resources.queues) {
      const queue = stack.queues.get(q.id);
      if (queue === undefined) throw new Error(`queue "${q.id}" missing`);
      const resource = resourcesOf(template)[logicalId(stack, queue)] as Resource;
      expect(resource.Properties?.VisibilityTimeout).toBe(toWholeSeconds(q.visibilityTimeout, 'visibilityTimeout'));
      expect(resource.Properties?.MessageRetentionPeriod).toBe(toWholeSeconds(q.retention, 'retention'));
    }
  });

  it('encrypts every queue and dead-letter queue with SSE-SQS', () => {
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as Resource[];
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
  });

  it('refuses non-TLS access to every queue and dead-letter queue', () => {
    const queueIds = Object.keys(template.findResources('AWS::SQS::Queue'));
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as Resource[];
    for (const id of queueIds) {
      const policy = policies.find((p) => (p.Properties?.Queues as { Ref: string }[]).some((r) => r.Ref === id));
      expect(policy, `queue policy for ${id}`).toBeDefined();
      const statements = (policy?.Properties?.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('maps every declared SQS source to an event source mapping that reports batch item failures', () => {
    expect(resources.sqsSources.length).toBeGreaterThan(0);
    for (const source of resources.sqsSources) {
      const queue = stack.queues.get(source.queue);
      if (queue === undefined) throw new Error(`queue "${source.queue}" missing`);
      const queueId = logicalId(stack, queue);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionLogicalId(stack, source.functionId) },
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: source.batchSize,
        ScalingConfig: { MaximumConcurrency: source.maxConcurrency },
        ...(source.maxBatchingWindow.milliseconds === 0 && { MaximumBatchingWindowInSeconds: Match.absent() }),
      });
    }
  });

  it('makes the state table on-demand, with TTL on expiresAt and point-in-time recovery', () => {
    const declared = resources.tables.find((t) => t.id === 'state');
    expect(declared?.timeToLiveAttribute).toBe('expiresAt');
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [
          { AttributeName: declared?.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: declared?.sortKey?.name, KeyType: 'RANGE' },
        ],
        StreamSpecification: Match.absent(),
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('puts the operations console behind IAM authorization, and only it: every other route stays public', () => {
    const fullPaths = resourcePaths(template);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    const byPath = (m: Resource) => {
      const resourceId = m.Properties?.ResourceId as { Ref?: string };
      return resourceId.Ref === undefined ? '/' : (fullPaths.get(resourceId.Ref) ?? '?');
    };
    const iam = methods.filter((m) => m.Properties?.AuthorizationType === 'AWS_IAM').map(byPath).sort();
    expect(iam).toEqual(['/_ferry/console', '/_ferry/console/{proxy+}']);
    for (const m of methods) if (!byPath(m).startsWith('/_ferry/')) expect(m.Properties?.AuthorizationType, byPath(m)).toBe('NONE');
  });

  it('lets the console read the queues\' numbers, send to them and handle their dead letters, but never receive their live messages', () => {
    const statements = policyStatements(template, stack, 'console');
    for (const queueId of ['io', 'cpu']) {
      const queue = logicalId(stack, stack.queues.get(queueId));
      const dlq = logicalId(stack, stack.deadLetterQueues.get(queueId));
      const on = (id: string) => new Set(statements.filter((st) => refersTo(st.Resource, id)).flatMap(actionsOf));
      expect(on(queue)).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
      expect(on(dlq).has('sqs:ReceiveMessage')).toBe(true);
      expect(on(dlq).has('sqs:DeleteMessage')).toBe(true);
    }
  });

  it('serves every declared route through a REST (v1) API method with a Lambda proxy integration', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    const fullPaths = resourcePaths(template);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    expect(resources.routes.length).toBeGreaterThan(0);
    for (const route of resources.routes) {
      const method = methods.find((m) => {
        const resourceId = m.Properties?.ResourceId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
        const at = resourceId.Ref === undefined ? '/' : fullPaths.get(resourceId.Ref);
        return at === route.path && m.Properties?.HttpMethod === route.method;
      });
      expect(method, `${route.method} ${route.path}`).toBeDefined();
      expect(method?.Properties?.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(refersTo(method?.Properties?.Integration, functionLogicalId(stack, route.functionId))).toBe(true);
    }
    template.resourceCountIs('AWS::ApiGateway::Method', resources.routes.length);
  });

  it('deploys the API to a throttled prod stage with access logging', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue(), Format: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }),
      ]),
    });
  });

  it('runs every declared function on nodejs22.x, arm64, with the declared timeout, memory and handler', () => {
    for (const fn of resources.functions) {
      const resource = resourcesOf(template)[functionLogicalId(stack, fn.id)] as Resource;
      expect(resource.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: `index.${fn.handler}`,
        Timeout: toWholeSeconds(fn.timeout, 'timeout'),
        MemorySize: fn.memoryMb,
      });
      expect((resource.Properties?.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup).toBeDefined();
    }
    template.resourceCountIs('AWS::Lambda::Function', resources.functions.length);
  });

  it('gives each function the environment variables of the tables and queues it uses, and the app as its Powertools service', () => {
    for (const fn of resources.functions) {
      const resource = resourcesOf(template)[functionLogicalId(stack, fn.id)] as Resource;
      const variables = (resource.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      const expected = [
        ...Object.keys(fn.tables).map(tableEnvName),
        ...Object.keys(fn.queues).flatMap((q) => [queueUrlEnvName(q), deadLetterQueueUrlEnvName(q)]),
        ...Object.keys(fn.environment),
        'NODE_OPTIONS',
        'POWERTOOLS_SERVICE_NAME',
      ];
      expect(Object.keys(variables).sort()).toEqual([...new Set(expected)].sort());
      expect(variables.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(variables.POWERTOOLS_SERVICE_NAME).toBe(fn.environment.POWERTOOLS_SERVICE_NAME ?? resources.name);
    }
  });

  it('keeps each function log group for one month', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', resources.functions.length + 1 /* API access logs */);
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Resource[];
    for (const group of groups) expect(group.Properties?.RetentionInDays).toBe(30);
  });

  it('lets the api (pings on either pool) and each worker (re-sends and workflow members) send to both pools, and only the workers consume', () => {
    const sendsTo = (functionId: string, queueId: string): boolean => {
      const queue = stack.queues.get(queueId);
      if (queue === undefined) throw new Error(`queue "${queueId}" missing`);
      const queueLogicalId = logicalId(stack, queue);
      return policyStatements(template, stack, functionId).some((s) => actionsOf(s).includes('sqs:SendMessage') && refersTo(s.Resource, queueLogicalId));
    };
    expect(resources.functions.find((f) => f.id === 'api')?.queues.io).toBe('send');
    expect([sendsTo('api', 'io'), sendsTo('api', 'cpu')]).toEqual([true, true]);
    const consumes = (functionId: string) => policyStatements(template, stack, functionId).some((s) => actionsOf(s).includes('sqs:ReceiveMessage'));
    expect([consumes('api'), consumes('ioWorker'), consumes('cpuWorker')]).toEqual([false, true, true]);
    // The report's start job runs on ioWorker and sends its chord's members to io: without this grant
    // the first refresh fails on AWS with AccessDeniedException (the local runtime now refuses it too).
    for (const worker of ['ioWorker', 'cpuWorker']) expect([sendsTo(worker, 'io'), sendsTo(worker, 'cpu')]).toEqual([true, true]);
  });

  it('grants nothing on a dead-letter queue to a function that only sends to its queue', () => {
    const dlq = stack.deadLetterQueues.get('io');
    if (dlq === undefined) throw new Error('dead-letter queue of "io" missing');
    const dlqId = logicalId(stack, dlq);
    expect(policyStatements(template, stack, 'api').some((s) => refersTo(s.Resource, dlqId))).toBe(false);
    expect(policyStatements(template, stack, 'ioWorker').some((s) => refersTo(s.Resource, dlqId))).toBe(true);
  });

  it('grants each function the declared access to each table it uses', () => {
    const expectedActions = { read: 'dynamodb:GetItem', write: 'dynamodb:PutItem', readWrite: 'dynamodb:PutItem' } as const;
    for (const fn of resources.functions) {
      for (const [tableId, access] of Object.entries(fn.tables)) {
        const table = stack.tables.get(tableId);
        if (table === undefined) throw new Error(`table "${tableId}" missing`);
        const tableLogicalId = logicalId(stack, table);
        const statements = policyStatements(template, stack, fn.id).filter((s) => refersTo(s.Resource, tableLogicalId));
        const actions = statements.flatMap(actionsOf);
        expect(actions).toContain(expectedActions[access]);
        if (access === 'read') expect(actions).not.toContain('dynamodb:PutItem');
        if (access === 'write') expect(actions).not.toContain('dynamodb:Query');
      }
    }
  });

  it('builds a worker pool for every queue that feeds exactly one function, around that function', () => {
    for (const q of resources.queues) {
      const sources = resources.sqsSources.filter((s) => s.queue === q.id);
      expect(sources).toHaveLength(1);
      const pool = stack.workerPools.get(q.id);
      expect(pool?.queue).toBe(stack.queues.get(q.id));
      expect(pool?.deadLetterQueue).toBe(stack.deadLetterQueues.get(q.id));
      expect(pool?.function).toBe(stack.functions.get(sources[0]?.functionId ?? ''));
    }
    expect(stack.workerPools.size).toBe(resources.queues.length);
  });

  it('gives every worker queue a visibility timeout of at least 6x the timeout of the function it feeds', () => {
    for (const source of resources.sqsSources) {
      const fn = resources.functions.find((f) => f.id === source.functionId);
      const queue = stack.queues.get(source.queue);
      if (fn === undefined || queue === undefined) throw new Error(`source ${source.functionId} <- ${source.queue} missing`);
      const resource = resourcesOf(template)[logicalId(stack, queue)] as Resource;
      expect(resource.Properties?.VisibilityTimeout).toBeGreaterThanOrEqual(6 * toWholeSeconds(fn.timeout, 'timeout'));
    }
  });

  it('alarms as soon as a message reaches any dead-letter queue', () => {
    for (const q of resources.queues) {
      const dlqId = logicalId(stack, stack.deadLetterQueues.get(q.id));
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...ALARM_SHAPE,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 0,
      });
      expect(stack.alarms.deadLetterAlarms.has(q.id)).toBe(true);
    }
  });

  it('alarms when the oldest message of any queue has waited more than 15 minutes', () => {
    for (const q of resources.queues) {
      const queueId = logicalId(stack, stack.queues.get(q.id));
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...ALARM_SHAPE,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 15 * 60,
      });
      expect(stack.alarms.messageAgeAlarms.has(q.id)).toBe(true);
    }
  });

  it('alarms on any error and any throttle of every function', () => {
    for (const fn of resources.functions) {
      for (const metric of ['Errors', 'Throttles']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          ...ALARM_SHAPE,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(stack, fn.id) } }],
          Statistic: 'Sum',
          Threshold: 0,
        });
      }
      expect(stack.alarms.errorAlarms.has(fn.id)).toBe(true);
      expect(stack.alarms.throttleAlarms.has(fn.id)).toBe(true);
    }
  });

  it('alarms on each heartbeat queue\'s latency: the declared period, datapoints and threshold, dimensioned by the queue\'s name', () => {
    const beats = resources.heartbeats;
    expect(beats?.queues).toEqual(['io', 'cpu']);
    const heartbeatAlarms = alarmsOf(template).filter((a) => a.MetricName === 'HeartbeatLatency');
    expect(heartbeatAlarms).toHaveLength(2);
    for (const queueId of beats?.queues ?? []) {
      const queueLogicalId = logicalId(stack, stack.queues.get(queueId));
      const alarm = heartbeatAlarms.find((a) => JSON.stringify(a.Dimensions).includes(queueLogicalId));
      expect(alarm, queueId).toMatchObject({
        Namespace: 'Ferry',
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
        Threshold: 120_000,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'missing',
        Dimensions: [{ Name: 'Queue', Value: { 'Fn::GetAtt': [queueLogicalId, 'QueueName'] } }],
      });
    }
  });

  it('sends heartbeats from a scheduled function that may send to each heartbeat queue, and tells every function the settings', () => {
    const sender = stack.functions.get('heartbeat');
    expect(sender).toBeDefined();
    for (const fn of resources.functions) {
      const props = resourcesOf(template)[functionLogicalId(stack, fn.id)]?.Properties as { Environment: { Variables: Record<string, unknown> } };
      const env = JSON.parse(String(props.Environment.Variables.FERRY_HEARTBEAT)) as unknown;
      expect(env).toEqual({ queues: ['io', 'cpu'], table: 'state', lateAfterMs: 120_000, highResolution: false });
    }
  });

  it('creates exactly those alarms, with no actions when no alarm topic is given', () => {
    const expected = 2 * resources.queues.length + 2 * resources.functions.length + (resources.heartbeats?.queues.length ?? 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', expected);
    expect(stack.alarms.alarms).toHaveLength(expected);
    for (const alarm of alarmsOf(template)) expect(alarm.AlarmActions).toBeUndefined();
  });

  it('lets each function consume exactly the queues it declares consuming, and send to exactly those it declares sending to', () => {
    for (const fn of resources.functions) {
      const statements = policyStatements(template, stack, fn.id);
      for (const q of resources.queues) {
        const queueId = logicalId(stack, stack.queues.get(q.id));
        const allows = (action: string): boolean => statements.some((s) => actionsOf(s).includes(action) && refersTo(s.Resource, queueId));
        const access = fn.queues[q.id];
        expect(allows(SQS_CONSUME), `${fn.id} consumes ${q.id}`).toBe(access === 'consume' || access === 'sendConsume');
        expect(allows(SQS_SEND), `${fn.id} sends to ${q.id}`).toBe(access === 'send' || access === 'sendConsume' || access === 'operate');
      }
    }
  });

  it('lets the api function consume no queue or dead-letter queue', () => {
    const consumes = policyStatements(template, stack, 'api').filter((s) => actionsOf(s).includes(SQS_CONSUME));
    expect(consumes).toEqual([]);
  });

  it('grants each function nothing on a table it does not use, and no writes on a table it only reads', () => {
    for (const fn of resources.functions) {
      const statements = policyStatements(template, stack, fn.id);
      for (const t of resources.tables) {
        const tableId = logicalId(stack, stack.tables.get(t.id));
        const actions = statements.filter((s) => refersTo(s.Resource, tableId)).flatMap(actionsOf);
        const access = fn.tables[t.id];
        if (access === undefined) expect(actions, `${fn.id} on ${t.id}`).toEqual([]);
        if (access === 'read') {
          expect(actions, `${fn.id} on ${t.id}`).toEqual(expect.arrayContaining(TABLE_READ));
          for (const write of TABLE_WRITE) expect(actions, `${fn.id} on ${t.id}`).not.toContain(write);
        }
      }
    }
  });

  it('gives the api function no access to the pageViews table, and the io worker read-only access', () => {
    expect(resources.functions.find((f) => f.id === 'api')?.tables.pageViews).toBeUndefined();
    expect(resources.functions.find((f) => f.id === 'ioWorker')?.tables.pageViews).toBe('read');
    const pageViewsId = logicalId(stack, stack.tables.get('pageViews'));
    const on = (functionId: string): string[] =>
      policyStatements(template, stack, functionId).filter((s) => refersTo(s.Resource, pageViewsId)).flatMap(actionsOf);
    expect(on('api')).toEqual([]);
    expect(on('ioWorker')).toContain('dynamodb:Query');
    expect(on('ioWorker').filter((a) => TABLE_WRITE.includes(a))).toEqual([]);
  });

  it('lets each function write logs only to its own log group, without AWS-managed policies', () => {
    for (const fn of resources.functions) {
      const fnResource = resourcesOf(template)[functionLogicalId(stack, fn.id)] as Resource;
      const logGroup = (fnResource.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      const logStatements = policyStatements(template, stack, fn.id).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      expect(logStatements).toEqual([
        expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroup, 'Arn'] } }),
      ]);
      const roleId = (fnResource.Properties?.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect((resourcesOf(template)[roleId] as Resource).Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('logs API execution errors and validates requests on every method', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false }),
      ]),
    });
    template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    const validatorId = Object.keys(template.findResources('AWS::ApiGateway::RequestValidator'))[0];
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    for (const method of Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[]) {
      expect(method.Properties?.RequestValidatorId).toEqual({ Ref: validatorId });
    }
  });

  it('outputs the API URL, every queue and dead-letter queue URL, every table name and the alarm names', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const pascal = (id: string): string => `${id.charAt(0).toUpperCase()}${id.slice(1)}`;
    expect(Object.keys(outputs)).toContain('ApiUrl');
    for (const q of resources.queues) {
      expect(outputs[`${pascal(q.id)}QueueUrl`]?.Value).toEqual({ Ref: logicalId(stack, stack.queues.get(q.id)) });
      expect(outputs[`${pascal(q.id)}DeadLetterQueueUrl`]?.Value).toEqual({ Ref: logicalId(stack, stack.deadLetterQueues.get(q.id)) });
    }
    for (const t of resources.tables) expect(outputs[`${pascal(t.id)}TableName`]?.Value).toEqual({ Ref: logicalId(stack, stack.tables.get(t.id)) });
    const alarmNames = JSON.stringify(outputs.AlarmNames?.Value);
    for (const alarm of stack.alarms.alarms) expect(alarmNames).toContain(`"${logicalId(stack, alarm)}"`);
  });
});

describe('FerryStack with an alarm topic and a maximum message age', () => {
  const cdkApp = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const topic = new Topic(new Stack(cdkApp, 'Ops'), 'Alarms');
  const stack = new FerryStack(cdkApp, 'Test', { app: resources, projectRoot: PROJECT_ROOT, alarmTopic: topic, maxMessageAge: Duration.minutes(5) });
  const template = Template.fromStack(stack);

  it('notifies the topic from every alarm', () => {
    const alarms = alarmsOf(template);
    expect(alarms).toHaveLength(stack.alarms.alarms.length);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ 'Fn::ImportValue': expect.stringContaining('Alarms') as unknown }]);
    }
  });

  it('alarms on message age at the given maximum', () => {
    const ages = alarmsOf(template).filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(ages).toHaveLength(resources.queues.length);
    for (const alarm of ages) expect(alarm.Threshold).toBe(300);
  });
});

const STREAMS_APP = defineApp({
  name: 'streams',
  tables: {
    events: { partitionKey: { name: 'id' }, stream: 'NEW_AND_OLD_IMAGES' },
  },
  queues: {
    batch: { maxReceiveCount: 3, visibilityTimeout: minutes(5) },
  },
  functions: {
    projector: {
      entry: 'functions/worker.ts',
      timeout: seconds(20),
      events: [{ type: 'dynamodb-stream', table: 'events', batchSize: 50, startingPosition: 'TRIM_HORIZON', retryAttempts: 2 }],
    },
    sweeper: {
      entry: 'functions/worker.ts',
      timeout: seconds(60),
      uses: { queues: { batch: 'sendConsume' } },
      events: [
        { type: 'schedule', name: 'nightly-sweep', expression: 'cron(0 3 * * ? *)', input: { task: 'sweep' } },
        { type: 'schedule', name: 'heartbeat', expression: 'rate(5 minutes)' },
        { type: 'sqs', queue: 'batch', batchSize: 100, maxBatchingWindow: seconds(10), maxConcurrency: 2 },
      ],
    },
  },
});

describe('FerryStack built from a declaration with a stream and a schedule', () => {
  const declared = STREAMS_APP;
  const { stack, template } = synth(declared);

  it('turns on the declared stream view type', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('maps the dynamodb-stream event to an event source mapping with the declared options', () => {
    const table = stack.tables.get('events');
    if (table === undefined) throw new Error('table "events" missing');
    const tableId = logicalId(stack, table);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(stack, 'projector') },
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 50,
      MaximumRetryAttempts: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const streamRead = policyStatements(template, stack, 'projector').some(
      (s) => actionsOf(s).includes('dynamodb:GetRecords') && refersTo(s.Resource, tableId),
    );
    expect(streamRead).toBe(true);
  });

  it('passes a non-zero batching window to the SQS event source mapping', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(stack, 'sweeper') },
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('schedules each declared expression as an EventBridge rule targeting the function', () => {
    for (const schedule of declared.schedules) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: schedule.expression.source,
        State: 'ENABLED',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [functionLogicalId(stack, schedule.functionId), 'Arn'] },
            ...(schedule.input === undefined ? { Input: Match.absent() } : { Input: JSON.stringify(schedule.input) }),
          }),
        ],
      });
    }
    template.resourceCountIs('AWS::Events::Rule', declared.schedules.length);
    expect([...stack.schedules.keys()].sort()).toEqual(['heartbeat', 'nightly-sweep']);
  });

  it('lets a sendConsume function redrive its dead-letter queue', () => {
    const dlq = stack.deadLetterQueues.get('batch');
    if (dlq === undefined) throw new Error('dead-letter queue of "batch" missing');
    const dlqId = logicalId(stack, dlq);
    const actions = policyStatements(template, stack, 'sweeper')
      .filter((s) => refersTo(s.Resource, dlqId))
      .flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:SendMessage']));
  });

  it('keeps a declared visibility timeout under 6x the function timeout, warns, and builds no worker pool for it', () => {
    const queue = stack.queues.get('batch');
    const resource = resourcesOf(template)[logicalId(stack, queue)] as Resource;
    expect(resource.Properties?.VisibilityTimeout).toBe(300);
    expect(stack.workerPools.size).toBe(0);
    Annotations.fromStack(stack).hasWarning(
      '/Test/BatchQueue',
      'queue "batch": visibilityTimeout (300 s) is less than 6x the timeout of a function it feeds (60 s), as AWS recommends; ' +
        'leave it undeclared to get 360 s or more [ack: ferry:FerryStack.visibilityTimeout]',
    );
  });

  it('alarms on the queue and on every function, pooled or not', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2 * declared.queues.length + 2 * declared.functions.length);
  });

  it('creates no REST API when no function declares a route', () => {
    expect(stack.restApi).toBeUndefined();
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
  });
});

const ROUTES_APP = defineApp({
  name: 'routes',
  functions: {
    site: {
      entry: 'functions/api.ts',
      timeout: seconds(5),
      events: [
        { type: 'http', method: 'GET', path: '/' },
        { type: 'http', method: 'ANY', path: '/files/{proxy+}' },
        { type: 'http', method: 'DELETE', path: '/files' },
      ],
    },
  },
});

describe('FerryStack built from a declaration with root, greedy and ANY routes', () => {
  const declared = ROUTES_APP;
  const { stack, template } = synth(declared);

  it('puts each route on the resource at its path, nesting greedy paths under their parent', () => {
    const fullPaths = resourcePaths(template);
    expect([...fullPaths.values()].sort()).toEqual(['/files', '/files/{proxy+}']);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[];
    for (const route of declared.routes) {
      const found = methods.some((m) => {
        const resourceId = m.Properties?.ResourceId as { Ref?: string };
        const at = resourceId.Ref === undefined ? '/' : fullPaths.get(resourceId.Ref);
        return at === route.path && m.Properties?.HttpMethod === route.method;
      });
      expect(found, `${route.method} ${route.path}`).toBe(true);
    }
    template.resourceCountIs('AWS::ApiGateway::Method', declared.routes.length);
  });

  it('shares one Lambda integration target across all routes of a function', () => {
    const uris = (Object.values(template.findResources('AWS::ApiGateway::Method')) as Resource[]).map(
      (m) => (m.Properties?.Integration as { Uri: unknown }).Uri,
    );
    expect(new Set(uris.map((uri) => JSON.stringify(uri))).size).toBe(1);
    expect(refersTo(uris[0], functionLogicalId(stack, 'site'))).toBe(true);
  });
});

describe('X-Ray tracing', () => {
  for (const [name, app] of Object.entries({ 'app/resources.ts': resources, 'notes/resources.ts': notesApp })) {
    it(`traces every function and the API stage of the stack built from ${name}, granting "*" only to X-Ray's, ListStreams' and a metrics reader's GetMetricData`, () => {
      const { stack, template } = synth(app);
      const fns = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
      expect(fns.length).toBe(app.functions.length);
      for (const fn of fns) expect(fn.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
      const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
      const onStar = policies
        .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement)
        .filter((st) => st.Resource === '*')
        .flatMap(actionsOf);
      const readsMetrics = app.functions.some((f) => f.metrics === 'read');
      expect(new Set(onStar)).toEqual(
        new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', ...(app.streamSources.length > 0 ? ['dynamodb:ListStreams'] : []), ...(readsMetrics ? ['cloudwatch:GetMetricData'] : [])]),
      );
      // GetMetricData only for the functions that declare uses.metrics: 'read' (the console).
      for (const fn of app.functions) expect(policyStatements(template, stack, fn.id).flatMap(actionsOf).includes('cloudwatch:GetMetricData'), fn.id).toBe(fn.metrics === 'read');
    });
  }
});

describe("Lambda's recursive loop detection", () => {
  for (const [name, app] of Object.entries({ 'app/resources.ts': resources, 'notes/resources.ts': notesApp })) {
    it(`lets the workers of ${name} that send jobs loop through SQS (long delays, workflows), and no other function`, () => {
      const { template } = synth(app);
      const fns = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
      const looping = new Set(app.sqsSources.map((s) => s.functionId).filter((id) => Object.values(app.functions.find((f) => f.id === id)?.queues ?? {}).some((a) => a !== 'consume')));
      expect(looping.size).toBeGreaterThan(0);
      for (const fn of app.functions) {
        // Each function's description names it: "<app> <function id> (<entry>)".
        const resource = fns.find((r) => r.Properties?.Description === `${app.name} ${fn.id} (${fn.entry})`);
        expect(resource, fn.id).toBeDefined();
        expect(resource?.Properties?.RecursiveLoop, fn.id).toBe(looping.has(fn.id) ? 'Allow' : undefined);
      }
    });
  }
});

describe('the operations dashboard', () => {
  it('shows each queue (waiting, in flight, oldest message, dead letters), each function (errors, throttles, duration) and jobs by outcome', () => {
    const { stack, template } = synth(resources);
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Resource[];
    expect(dashboards).toHaveLength(1);
    // The body is a Fn::Join of strings and references: its literal parts say what it shows.
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const queueId of ['io', 'cpu']) {
      for (const title of ['waiting and in flight', 'oldest message (s)', 'dead letters']) expect(body).toContain(`${queueId}: ${title}`);
    }
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateAgeOfOldestMessage']) expect(body).toContain(metric);
    for (const fn of resources.functions) {
      expect(body).toContain(`${fn.id}: errors and throttles`);
      expect(body).toContain(`${fn.id}: duration (ms)`);
    }
    // Lambda's metric names (the titles say "errors", "throttles" and "duration" in lower case).
    for (const metric of ['Errors', 'Throttles', 'Duration']) expect(body).toContain(`AWS/Lambda\\\",\\\"${metric}`);
    // Jobs by outcome: this stack's queues only (each queue's roll-up, by its physical name), summed.
    for (const outcome of ['succeeded', 'failed', 'retried', 'stopped']) expect(body).toContain(`SUM([FILL(${outcome}0, 0), FILL(${outcome}1, 0)])`);
    for (const name of ['JobsSucceeded', 'JobsFailed', 'JobsRetried', 'JobsStopped']) expect(body).toContain(`[\\"Ferry\\",\\"${name}\\",\\"Queue\\",\\"`);
    expect(body).not.toContain('SEARCH(');
    const queueNames = (['io', 'cpu'] as const).map((id) => stack.resolve(stack.queues.get(id)?.queueName) as unknown);
    for (const name of queueNames) expect(body).toContain(JSON.stringify(name));
    // Heartbeats: each queue's canary latency, with the alarm's threshold drawn.
    for (const queueId of ['io', 'cpu']) expect(body).toContain(`${queueId}: heartbeat latency (ms)`);
    expect(body).toContain('HeartbeatLatency');
    expect(body).toContain('\\"value\\":120000');
    // Its name is an output, for the README's "open the dashboard" and for tools.
    expect(Object.keys(template.findOutputs('DashboardName'))).toEqual(['DashboardName']);
    expect(stack.dashboard.dashboard).toBeDefined();
  });
});

describe('FerryStack built from notes/resources.ts (the second app)', () => {
  const { stack, template } = synth(notesApp);

  it('gives the API no queue to send on: its jobs leave only through the outbox', () => {
    const actions = policyStatements(template, stack, 'api').flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem']));
    expect(actions.filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  it('feeds the relay from the outbox table\'s new images, and schedules the sweeper and the purge', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { StartingPosition: 'TRIM_HORIZON' });
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
    expect(rules.map((r) => r.Properties?.ScheduleExpression).sort()).toEqual(['rate(1 hour)', 'rate(1 minute)']);
    expect(policyStatements(template, stack, 'relay').flatMap(actionsOf)).toEqual(expect.arrayContaining([SQS_SEND]));
  });
});

describe('cdk-nag AwsSolutions checks', () => {
  const declarations = { 'app/resources.ts': resources, 'notes/resources.ts': notesApp, 'a stream and a schedule': STREAMS_APP, 'root, greedy and ANY routes': ROUTES_APP };

  for (const [name, app] of Object.entries(declarations)) {
    it(`finds no unsuppressed error or warning in the stack built from ${name}`, () => {
      const annotations = nagAnnotations(app);
      const format = (found: SynthesisMessage[]): string[] => found.map((m) => `${m.id}: ${JSON.stringify(m.entry.data)}`);
      expect(format(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
      expect(format(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
    });
  }
});

describe('cdk synth through the real CLI', () => {
  it(
    'bundles every function as ESM and writes a template with the REST API, with no cdk-nag finding',
    () => {
      const out = mkdtempSync(path.join(tmpdir(), 'ferry-cdk-synth-'));
      try {
        const result = spawnSync('npx', ['cdk', 'synth', '--no-notices', '-q', '-o', out], {
          cwd: PROJECT_ROOT,
          env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
          encoding: 'utf8',
          timeout: 180_000,
        });
        expect(result.status, `cdk synth failed:\n${result.stderr}`).toBe(0);
        expect(result.stderr, 'cdk-nag findings printed by cdk synth').not.toMatch(/AwsSolutions-/);

        const templateFile = path.join(out, 'Ferry.template.json');
        expect(existsSync(templateFile)).toBe(true);
        expect(readFileSync(templateFile, 'utf8')).toContain('AWS::ApiGateway::RestApi');

        const assetDirs = readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name.startsWith('asset.'));
        // One bundle per distinct entry file (identical bundles share an asset).
        expect(assetDirs).toHaveLength(new Set(resources.functions.map((f) => f.entry)).size);
        for (const dir of assetDirs) {
          const bundle = path.join(out, dir.name, 'index.mjs');
          expect(existsSync(bundle), `${dir.name}/index.mjs`).toBe(true);
          const code = readFileSync(bundle, 'utf8');
          expect(code.startsWith('import { createRequire }')).toBe(true);
          // The AWS SDK is inside the bundle (the tested version), not imported from Lambda's runtime.
          expect(code).not.toMatch(/from\s*"@aws-sdk\//);
          expect(code).toContain('DynamoDB_20120810');
          expect(existsSync(`${bundle}.map`)).toBe(true);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    240_000,
  );
});
