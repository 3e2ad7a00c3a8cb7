/**
 * Ferry's AWS resources, built only from the resolved app declaration: every
 * table, queue, function, event source, schedule and route here comes from
 * `App` (see `lib/app/define-app.ts`), and nothing is configured twice.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type App as FerryApp, environmentOf } from '../../lib/app/define-app.js';
import { cdkDuration } from '../constructs/duration.js';
import { FerryFunction } from '../constructs/ferry-function.js';
import { FerryRestApi } from '../constructs/rest-api.js';
import { StateTable } from '../constructs/state-table.js';
import { WorkerQueue } from '../constructs/worker-queue.js';

/** The repository root: two levels above `cdk/stacks/`. */
export const DEFAULT_PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface FerryStackProps extends StackProps {
  /** The resolved declaration (from `defineApp`) the stack is built from. */
  readonly app: FerryApp;
  /**
   * Directory that function entries and `package-lock.json` are relative to.
   * @default the repository root, resolved from this file's location
   */
  readonly projectRoot?: string;
}

/** `ioWorker` → `IoWorker`: construct ids and output names. */
function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}

/** `nightly-cleanup` → `nightlyCleanup`. */
function camel(name: string): string {
  return name.replace(/[^A-Za-z0-9]+([A-Za-z0-9]?)/g, (_match, next: string) => next.toUpperCase());
}

function must<T>(map: ReadonlyMap<string, T>, id: string, kind: string): T {
  const value = map.get(id);
  if (value === undefined) throw new Error(`the declaration refers to unknown ${kind} "${id}"`);
  return value;
}

export class FerryStack extends Stack {
  /** Tables, by declared id. */
  readonly tables: ReadonlyMap<string, Table>;
  /** Queues, by declared id. */
  readonly queues: ReadonlyMap<string, Queue>;
  /** Dead-letter queues, by the declared id of the queue they serve. */
  readonly deadLetterQueues: ReadonlyMap<string, Queue>;
  /** Functions, by declared id. */
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  /** EventBridge schedule rules, by declared schedule name. */
  readonly schedules: ReadonlyMap<string, Rule>;
  /** The REST API, if any function declares an `http` event. */
  readonly restApi: RestApi | undefined;

  constructor(scope: Construct, id: string, props: FerryStackProps) {
    super(scope, id, props);
    const { app } = props;
    const projectRoot = props.projectRoot ?? DEFAULT_PROJECT_ROOT;

    const stateTables = new Map<string, StateTable>();
    for (const t of app.tables) {
      const table = new StateTable(this, `${pascal(t.id)}Table`, {
        partitionKey: t.partitionKey,
        ...(t.sortKey && { sortKey: t.sortKey }),
        ...(t.timeToLiveAttribute !== undefined && { timeToLiveAttribute: t.timeToLiveAttribute }),
        ...(t.stream !== undefined && { stream: t.stream }),
      });
      stateTables.set(t.id, table);
      new CfnOutput(this, `${pascal(t.id)}TableName`, { value: table.table.tableName });
    }

    const workerQueues = new Map<string, WorkerQueue>();
    for (const q of app.queues) {
      const queue = new WorkerQueue(this, `${pascal(q.id)}Queue`, {
        visibilityTimeout: cdkDuration(q.visibilityTimeout, `queue "${q.id}": visibilityTimeout`),
        maxReceiveCount: q.maxReceiveCount,
        retention: cdkDuration(q.retention, `queue "${q.id}": retention`),
        deadLetterRetention: cdkDuration(q.deadLetterRetention, `queue "${q.id}": deadLetterRetention`),
      });
      workerQueues.set(q.id, queue);
      new CfnOutput(this, `${pascal(q.id)}QueueUrl`, { value: queue.queue.queueUrl });
      new CfnOutput(this, `${pascal(q.id)}DeadLetterQueueUrl`, { value: queue.deadLetterQueue.queueUrl });
    }

    const functions = new Map<string, NodejsFunction>();
    for (const fn of app.functions) {
      const environment = environmentOf(fn, {
        tableName: (tableId) => must(stateTables, tableId, 'table').table.tableName,
        queueUrl: (queueId) => must(workerQueues, queueId, 'queue').queue.queueUrl,
        deadLetterQueueUrl: (queueId) => must(workerQueues, queueId, 'queue').deadLetterQueue.queueUrl,
      });
      const { function: lambda } = new FerryFunction(this, `${pascal(fn.id)}Function`, {
        projectRoot,
        entry: fn.entry,
        handler: fn.handler,
        timeout: cdkDuration(fn.timeout, `function "${fn.id}": timeout`),
        memorySize: fn.memoryMb,
        environment,
        description: `${app.name} ${fn.id} (${fn.entry})`,
      });
      for (const [tableId, access] of Object.entries(fn.tables)) must(stateTables, tableId, 'table').grant(lambda, access);
      for (const [queueId, access] of Object.entries(fn.queues)) must(workerQueues, queueId, 'queue').grant(lambda, access);
      functions.set(fn.id, lambda);
    }

    for (const source of app.sqsSources) {
      const maxBatchingWindow = cdkDuration(source.maxBatchingWindow, `function "${source.functionId}": maxBatchingWindow`);
      must(functions, source.functionId, 'function').addEventSource(
        new SqsEventSource(must(workerQueues, source.queue, 'queue').queue, {
          batchSize: source.batchSize,
          ...(maxBatchingWindow.toSeconds() > 0 && { maxBatchingWindow }),
          maxConcurrency: source.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }

    for (const source of app.streamSources) {
      must(functions, source.functionId, 'function').addEventSource(
        new DynamoEventSource(must(stateTables, source.table, 'table').table, {
          startingPosition: StartingPosition[source.startingPosition],
          batchSize: source.batchSize,
          retryAttempts: source.retryAttempts,
          reportBatchItemFailures: true,
        }),
      );
    }

    const schedules = new Map<string, Rule>();
    for (const schedule of app.schedules) {
      const target = new LambdaFunctionTarget(must(functions, schedule.functionId, 'function'), {
        ...(schedule.input !== undefined && { event: RuleTargetInput.fromObject(schedule.input) }),
      });
      const rule = new Rule(this, `${pascal(camel(schedule.name))}Schedule`, {
        description: `${app.name} schedule "${schedule.name}" -> ${schedule.functionId}`,
        schedule: Schedule.expression(schedule.expression.source),
        targets: [target],
      });
      schedules.set(schedule.name, rule);
    }

    let restApi: RestApi | undefined;
    if (app.routes.length > 0) {
      const api = new FerryRestApi(this, 'RestApi', {
        restApiName: `${app.name}-api`,
        routes: app.routes.map((route) => ({
          method: route.method,
          path: route.path,
          handler: must(functions, route.functionId, 'function'),
        })),
      });
      restApi = api.api;
      new CfnOutput(this, 'ApiUrl', { value: api.url });
    }

    this.tables = new Map([...stateTables].map(([id, t]) => [id, t.table]));
    this.queues = new Map([...workerQueues].map(([id, q]) => [id, q.queue]));
    this.deadLetterQueues = new Map([...workerQueues].map(([id, q]) => [id, q.deadLetterQueue]));
    this.functions = functions;
    this.schedules = schedules;
    this.restApi = restApi;
  }
}
