/**
 * The contract between what is deployed and what runs locally: the stack is
 * synthesized from an app's declaration, the local runtime is started from
 * the same declaration, and for every function, event source, queue, table,
 * route and the API stage, the settings the local runtime really runs with
 * (read back from the emulators and the runtime) equal the template's.
 * Run for Ferry's own app and for the fixture app with every kind of event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App as CdkApp, CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { App } from '../../lib/app/define-app.js';
import { toWholeSeconds } from '../../lib/app/duration.js';
import { localClients, type LocalClients } from '../../lib/local/local-clients.js';
import { PROJECT_ROOT } from '../helpers/repo-root.js';
import { type LocalRuntime } from '../../lib/local/runtime.js';
import { resources } from '../../app/resources.js';
import { FerryStack } from '../../cdk/stacks/ferry-stack.js';
import { startTestRuntime } from '../helpers/runtime.js';
import { testApp } from '../fixtures/test-app.js';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, Json>;
}

/** NodejsFunction's flag for the bundle's source maps; the local runtime runs the sources themselves. */
const BUNDLE_ONLY_VARIABLES = new Set(['NODE_OPTIONS']);

describe.each([
  ['Ferry', resources],
  ['the fixture app', testApp],
])('the local runtime of %s runs with the settings of the synthesized stack', (_name, app: App) => {
  let runtime: LocalRuntime;
  let clients: LocalClients;
  let stack: FerryStack;
  let template: Record<string, Resource>;
  const logicalId = (construct: IConstruct | undefined): string => {
    const cfn = construct?.node.defaultChild;
    if (!(cfn instanceof CfnElement)) throw new Error(`${construct?.node.path ?? 'construct'} has no CloudFormation resource`);
    return stack.getLogicalId(cfn);
  };
  const resource = (construct: IConstruct | undefined): Resource => {
    const found = template[logicalId(construct)];
    if (found === undefined) throw new Error(`no resource for ${construct?.node.path ?? 'construct'}`);
    return found;
  };
  const ofType = (type: string) => Object.entries(template).filter(([, r]) => r.Type === type);

  beforeAll(async () => {
    const cdkApp = new CdkApp({ context: { 'aws:cdk:bundling-stacks': [] } });
    stack = new FerryStack(cdkApp, 'Contract', { app, projectRoot: PROJECT_ROOT });
    template = (cdkApp.synth().getStackArtifact(stack.artifactId).template as { Resources: Record<string, Resource> }).Resources;
    runtime = await startTestRuntime(app);
    clients = localClients(runtime.endpoints);
  }, 60_000);
  afterAll(async () => {
    clients?.destroy();
    await runtime?.stop();
  });

  /** A template value as it is locally: a table's or queue's Ref is its name or URL; literals stay. */
  const localValue = (value: Json | undefined): string | undefined => {
    if (typeof value === 'string') return value;
    const ref = (value as { Ref?: Json } | undefined)?.Ref;
    for (const [id, table] of stack.tables) if (ref === logicalId(table)) return runtime.resources.tables[id]?.name;
    for (const [id, queue] of stack.queues) if (ref === logicalId(queue)) return runtime.resources.queues[id]?.url;
    for (const [id, queue] of stack.deadLetterQueues) if (ref === logicalId(queue)) return runtime.resources.queues[id]?.deadLetter.url;
    return `unresolved ${JSON.stringify(value)}`;
  };

  it('functions: timeout, memory, handler and every environment variable', () => {
    for (const fn of app.functions) {
      const properties = resource(stack.functions.get(fn.id)).Properties;
      const local = runtime.functions[fn.id];
      expect(local, fn.id).toBeDefined();
      expect({ timeout: local?.timeoutSeconds, memory: local?.memoryMb, handler: `index.${local?.handler ?? ''}` }, fn.id).toEqual({
        timeout: properties.Timeout,
        memory: properties.MemorySize,
        handler: properties.Handler,
      });
      const variables: Record<string, Json> = (properties.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
      const deployed = Object.fromEntries(Object.entries(variables).filter(([k]) => !BUNDLE_ONLY_VARIABLES.has(k)).map(([k, v]) => [k, localValue(v)]));
      expect(local?.environment, fn.id).toEqual(deployed);
    }
  });

  it('SQS event sources: queue, batch size, batching window, maximum concurrency, partial batch responses', () => {
    const deployed = ofType('AWS::Lambda::EventSourceMapping')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.EventSourceArn).includes('Queue'))
      .map((p) => ({
        functionId: [...stack.functions].find(([, f]) => (p.FunctionName as { Ref?: string }).Ref === logicalId(f))?.[0],
        queue: [...stack.queues].find(([, q]) => JSON.stringify(p.EventSourceArn).includes(logicalId(q)))?.[0],
        batchSize: p.BatchSize,
        maxBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0,
        maxConcurrency: (p.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency,
        responseTypes: p.FunctionResponseTypes,
      }));
    const local = runtime.eventSources.sqs.map((s) => ({
      functionId: s.functionId,
      queue: s.queue,
      batchSize: s.batchSize,
      maxBatchingWindowSeconds: toWholeSeconds(s.maxBatchingWindow, 'window'),
      maxConcurrency: s.maxConcurrency,
      // The local mapping always honours batchItemFailures (sqs-event-source.ts).
      responseTypes: ['ReportBatchItemFailures'],
    }));
    const order = (list: { functionId?: string; queue?: string }[]) => [...list].sort((a, b) => `${a.functionId}${a.queue}`.localeCompare(`${b.functionId}${b.queue}`));
    expect(order(local)).toEqual(order(deployed));
  });

  it('stream event sources: table, batch size, starting position, retries', () => {
    const deployed = ofType('AWS::Lambda::EventSourceMapping')
      .map(([, r]) => r.Properties)
      .filter((p) => JSON.stringify(p.EventSourceArn).includes('StreamArn'))
      .map((p) => ({
        table: [...stack.tables].find(([, t]) => JSON.stringify(p.EventSourceArn).includes(logicalId(t)))?.[0],
        batchSize: p.BatchSize,
        startingPosition: p.StartingPosition,
        retryAttempts: p.MaximumRetryAttempts,
      }));
    const local = runtime.eventSources.streams.map((s) => ({ table: s.table, batchSize: s.batchSize, startingPosition: s.startingPosition, retryAttempts: s.retryAttempts }));
    expect(local).toEqual(deployed);
  });

  it('queues and their dead-letter queues: visibility timeout, retention, redrive', async () => {
    for (const [id, queue] of stack.queues) {
      const provisioned = runtime.resources.queues[id];
      const deployed = resource(queue).Properties;
      const deployedDlq = resource(stack.deadLetterQueues.get(id)).Properties;
      const { Attributes: main = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: provisioned?.url, AttributeNames: ['All'] }));
      const { Attributes: dlq = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: provisioned?.deadLetter.url, AttributeNames: ['All'] }));
      const redrive = JSON.parse(main.RedrivePolicy ?? '{}') as { maxReceiveCount?: number | string; deadLetterTargetArn?: string };
      expect(
        {
          visibility: Number(main.VisibilityTimeout),
          retention: Number(main.MessageRetentionPeriod),
          maxReceiveCount: Number(redrive.maxReceiveCount),
          deadLetterTarget: redrive.deadLetterTargetArn,
          dlqVisibility: Number(dlq.VisibilityTimeout),
          dlqRetention: Number(dlq.MessageRetentionPeriod),
        },
        id,
      ).toEqual({
        visibility: deployed.VisibilityTimeout ?? 30,
        retention: deployed.MessageRetentionPeriod ?? 345_600,
        maxReceiveCount: (deployed.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
        deadLetterTarget: provisioned?.deadLetter.arn,
        dlqVisibility: deployedDlq.VisibilityTimeout ?? 30,
        dlqRetention: deployedDlq.MessageRetentionPeriod ?? 345_600,
      });
    }
  });

  it('tables: keys, time to live, stream', async () => {
    for (const [id, table] of stack.tables) {
      const deployed = resource(table).Properties;
      const name = runtime.resources.tables[id]?.name;
      const { Table: described } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: name }));
      const { TimeToLiveDescription: ttl } = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name }));
      const stream = described?.StreamSpecification?.StreamEnabled === true ? described.StreamSpecification.StreamViewType : undefined;
      expect(
        {
          keys: described?.KeySchema,
          attributes: [...(described?.AttributeDefinitions ?? [])].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName))),
          ttl: ttl?.TimeToLiveStatus === 'ENABLED' ? ttl.AttributeName : undefined,
          stream,
        },
        id,
      ).toEqual({
        keys: deployed.KeySchema,
        attributes: [...((deployed.AttributeDefinitions as { AttributeName: string }[] | undefined) ?? [])].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
        ttl: (deployed.TimeToLiveSpecification as { AttributeName?: string } | undefined)?.AttributeName,
        stream: (deployed.StreamSpecification as { StreamViewType?: string } | undefined)?.StreamViewType,
      });
    }
  });

  it('routes and the stage: every deployed method answers locally under the stage, and nothing else does', async () => {
    const paths = new Map<string, string>();
    const pathOf = (ref: Json | undefined): string => {
      const id = (ref as { Ref?: string } | undefined)?.Ref;
      if (id === undefined) return '';
      const cached = paths.get(id);
      if (cached !== undefined) return cached;
      const properties = template[id]?.Properties ?? {};
      const path = `${pathOf(properties.ParentId)}/${typeof properties.PathPart === 'string' ? properties.PathPart : '?'}`;
      paths.set(id, path);
      return path;
    };
    const deployed = ofType('AWS::ApiGateway::Method')
      .map(([, r]) => `${typeof r.Properties.HttpMethod === 'string' ? r.Properties.HttpMethod : '?'} ${pathOf(r.Properties.ResourceId) || '/'}`)
      .sort();
    expect(app.routes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(deployed);
    const stages = ofType('AWS::ApiGateway::Stage').map(([, r]) => r.Properties.StageName);
    expect(stages).toEqual([app.api.stageName]);
    // Locally, an undeclared method on the first route's path is refused as the deployed API refuses it.
    const first = app.routes[0];
    if (first !== undefined) {
      const path = first.path.replace(/\{[^}]+\}/g, 'x');
      const other = first.method === 'DELETE' ? 'PATCH' : 'DELETE';
      const declaredOther = app.routes.some((r) => r.path === first.path && (r.method === other || r.method === 'ANY'));
      if (!declaredOther) expect((await fetch(`${runtime.url}/${app.api.stageName}${path}`, { method: other })).status).toBe(403);
    }
  });
});
