/**
 * Every cdk-nag (AwsSolutions) finding Ferry accepts, each with its reason, in
 * one place. `FerryStack` applies them to itself, so `cdk synth` with
 * `AwsSolutionsChecks` (see `cdk/ferry-app.ts`) and the synth tests agree.
 *
 * Findings fixed rather than suppressed: Lambda roles write only to their own
 * log group (no AWSLambdaBasicExecutionRole, IAM4), the API has a request
 * validator (APIG2) and error-level execution logs (APIG6). Suppressions are
 * attached to the resources they concern, never stack-wide, and IAM ones name
 * the exact policy or resource they allow (`appliesTo`).
 */
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { NagSuppressions } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { App as FerryApp } from '../lib/app/define-app.js';

/** What the suppressions need of a `FerryStack` (a structural type, so this file does not import the stack). */
export interface NagSuppressionTargets {
  /** Functions, by declared id. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /** The REST API, if any. */
  readonly restApi: IConstruct | undefined;
}

/** The managed policy CDK attaches to the account-level API Gateway logging role. */
const API_GATEWAY_LOGS_POLICY = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs';

/** Adds Ferry's accepted cdk-nag suppressions to the resources of `stack`, built from `app`. */
export function applyNagSuppressions(stack: NagSuppressionTargets, app: FerryApp): void {
  for (const fn of stack.functions.values()) {
    NagSuppressions.addResourceSuppressions(fn, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x on purpose: the bundle is built for esbuild target node22 and tested on that runtime; ' +
          'moving to a newer runtime is a deliberate upgrade, not something a newer aws-cdk-lib should force.',
      },
    ]);
  }

  // X-Ray active tracing: Lambda grants xray:PutTraceSegments and xray:PutTelemetryRecords on "*" (test/cdk checks that
  // no other action is granted on "*", besides a stream function's dynamodb:ListStreams below).
  // A function declaring uses.metrics: 'read' is granted cloudwatch:GetMetricData on "*" as well.
  for (const [functionId, fn] of stack.functions) {
    if (fn.role === undefined) continue;
    const readsMetrics = app.functions.find((f) => f.id === functionId)?.metrics === 'read';
    NagSuppressions.addResourceSuppressions(
      fn.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions, ' +
            'so AWS requires Resource "*" (the AWSXRayDaemonWriteAccess policy grants the same)' +
            (readsMetrics ? "; cloudwatch:GetMetricData (uses.metrics: 'read') has none either" : '') +
            '; every other action is scoped.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  // A dynamodb-stream event: CDK's DynamoEventSource grants dynamodb:ListStreams on "*".
  for (const functionId of new Set(app.streamSources.map((s) => s.functionId))) {
    const role = stack.functions.get(functionId)?.role;
    if (role === undefined) continue;
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'dynamodb:ListStreams (granted by DynamoEventSource for the declared dynamodb-stream event) has no resource-level ' +
            'permissions, so AWS requires Resource "*"; every other stream action is scoped to the table and its stream ARN.',
          appliesTo: ['Resource::*'],
        },
      ],
      true,
    );
  }

  const api = stack.restApi;
  if (api !== undefined) {
    NagSuppressions.addResourceSuppressions(
      api,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Public by design: the routes serve a health check, demo pings and reports over stored page views; they only read ' +
            'state or enqueue bounded background jobs, hold no user data or credentials, and the stage throttle bounds abuse. ' +
            'Routes declared with authorization "iam" (the operations console) are not public: API Gateway checks SigV4 and execute-api:Invoke.',
        },
        {
          id: 'AwsSolutions-COG4',
          reason: 'Public by design (see AwsSolutions-APIG4): there are no users, so no Cognito user pool to authorize against.',
        },
        {
          id: 'AwsSolutions-APIG3',
          reason:
            'No WAF web ACL: the public API is rate-limited by the stage throttle (100 rps, 200 burst), and a web ACL is a ' +
            'per-account cost and policy choice left to whoever deploys it.',
        },
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'The account-level role that lets API Gateway write access and execution logs to CloudWatch uses the AWS-managed ' +
            'AmazonAPIGatewayPushToCloudWatchLogs policy, the one AWS documents for it; it must reach log groups of every API in the account.',
          appliesTo: [API_GATEWAY_LOGS_POLICY],
        },
      ],
      true,
    );
  }
}
