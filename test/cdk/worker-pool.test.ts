import { fileURLToPath } from 'node:url';
import { App, CfnElement, CfnParameter, Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { WorkerPool, type WorkerPoolProps } from '../../cdk/constructs/worker-pool.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A stack holding one `WorkerPool` with `props` (asset bundling skipped). */
function poolStack(props: Partial<WorkerPoolProps> & { timeout?: Duration }): { stack: Stack; pool: WorkerPool } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const { timeout, ...rest } = props;
  const pool = new WorkerPool(stack, 'Pool', {
    function: { projectRoot: PROJECT_ROOT, entry: 'functions/worker.ts', ...(timeout !== undefined && { timeout }) },
    ...rest,
  });
  return { stack, pool };
}

/** The template logical id of an L2 construct's CloudFormation resource. */
function logicalId(stack: Stack, construct: IConstruct): string {
  const cfn = construct.node.defaultChild;
  if (!(cfn instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(cfn);
}

describe('WorkerPool', () => {
  describe('validation', () => {
    it('refuses a visibility timeout under 6x the function timeout, naming both', () => {
      expect(() => poolStack({ timeout: Duration.seconds(30), queue: { visibilityTimeout: Duration.seconds(120) } })).toThrow(
        "Test/Pool: the queue's visibility timeout (120 s) must be at least 6x the function timeout (30 s), i.e. 180 s; " +
          'otherwise SQS can redeliver a message while it is still being handled',
      );
    });

    it('measures against the default 3-second function timeout when none is given', () => {
      expect(() => poolStack({ queue: { visibilityTimeout: Duration.seconds(17) } })).toThrow(
        "the queue's visibility timeout (17 s) must be at least 6x the function timeout (3 s), i.e. 18 s",
      );
    });

    it('accepts a visibility timeout of exactly 6x the function timeout', () => {
      const { stack } = poolStack({ timeout: Duration.seconds(30), queue: { visibilityTimeout: Duration.seconds(180) } });
      Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 180, RedrivePolicy: Match.anyValue() });
    });

    it('skips the check when the function timeout is an unresolved token', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Test');
      const timeoutS = new CfnParameter(stack, 'TimeoutSeconds', { type: 'Number', default: 60 }).valueAsNumber;
      expect(Token.isUnresolved(timeoutS)).toBe(true);
      expect(
        () =>
          new WorkerPool(stack, 'Pool', {
            function: { projectRoot: PROJECT_ROOT, entry: 'functions/worker.ts', timeout: Duration.seconds(timeoutS) },
            queue: { visibilityTimeout: Duration.seconds(10) },
          }),
      ).not.toThrow();
    });

    it('refuses to guess a visibility timeout from an unresolved function timeout', () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'Test');
      const timeoutS = new CfnParameter(stack, 'TimeoutSeconds', { type: 'Number', default: 60 }).valueAsNumber;
      expect(
        () =>
          new WorkerPool(stack, 'Pool', {
            function: { projectRoot: PROJECT_ROOT, entry: 'functions/worker.ts', timeout: Duration.seconds(timeoutS) },
          }),
      ).toThrow(
        'Test/Pool: the function timeout or batching window is an unresolved token, so no visibility timeout can be derived ' +
          'from it; pass queue.visibilityTimeout (at least 6x the function timeout)',
      );
    });

    it('warns when the visibility timeout covers 6x the function timeout but not the batching window on top', () => {
      const { stack } = poolStack({
        timeout: Duration.seconds(10),
        maxBatchingWindow: Duration.seconds(20),
        batchSize: 100,
        queue: { visibilityTimeout: Duration.seconds(60) },
      });
      Annotations.fromStack(stack).hasWarning(
        '/Test/Pool',
        "the queue's visibility timeout (60 s) does not cover 6x the function timeout (10 s) plus the batching window (20 s); " +
          'AWS recommends at least 80 s [ack: ferry:WorkerPool.visibilityTimeout]',
      );
    });
  });

  describe('defaults', () => {
    it('sets the visibility timeout to 6x the function timeout plus the batching window', () => {
      const { stack } = poolStack({ timeout: Duration.seconds(20), maxBatchingWindow: Duration.seconds(10), batchSize: 50 });
      Template.fromStack(stack).hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 130, RedrivePolicy: Match.anyValue() });
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    });

    it('feeds the function batches of 10 with batch item failures reported, and no concurrency limit', () => {
      const { stack, pool } = poolStack({ timeout: Duration.seconds(5) });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack, pool.function) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, pool.queue), 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumBatchingWindowInSeconds: Match.absent(),
        ScalingConfig: Match.absent(),
      });
    });
  });

  it('passes batch size, batching window and maximum concurrency to the event source mapping', () => {
    const { stack } = poolStack({ timeout: Duration.seconds(5), batchSize: 500, maxBatchingWindow: Duration.seconds(30), maxConcurrency: 3 });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 30,
      ScalingConfig: { MaximumConcurrency: 3 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('redrives to its dead-letter queue after the given receive count, both queues encrypted and TLS-only', () => {
    const { stack, pool } = poolStack({ timeout: Duration.seconds(5), queue: { maxReceiveCount: 7 } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, pool.deadLetterQueue), 'Arn'] }, maxReceiveCount: 7 },
      SqsManagedSseEnabled: true,
    });
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });
});
