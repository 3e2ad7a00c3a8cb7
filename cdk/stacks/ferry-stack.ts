/**
 * Ferry's AWS resources, built only from the resolved app declaration: every
 * table, queue, function, event source, schedule and route here comes from
 * `App` (see `lib/app/define-app.ts`), and nothing is configured twice.
 *
 * A queue that feeds exactly one function, which consumes no other queue,
 * becomes a {@link WorkerPool} (queue, dead-letter queue, function and event
 * source together) when its visibility timeout is at least 6x the function's
 * timeout, as the declaration's default is. Other queues (several consumers,
 * a consumer of several queues, none, or a shorter declared visibility
 * timeout, which gets a warning) are built from the same parts separately.
 */
import { Annotations, CfnOutput, type Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { type Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  type App as FerryApp,
  environmentOf,
  HEARTBEAT_ENV,
  HEARTBEAT_SETTINGS_OUTPUT,
  type LambdaFunction,
  type Queue as DeclaredQueue,
  type SqsSource,
} from '../../lib/app/define-app.js';
import { cdkDuration } from '../constructs/duration.js';
import { FerryAlarms } from '../constructs/ferry-alarms.js';
import { FerryDashboard } from '../constructs/ferry-dashboard.js';
import { FerryFunction, type FerryFunctionProps } from '../constructs/ferry-function.js';
import type { WatchedHeartbeats } from '../constructs/heartbeat-metric.js';
import { FerryRestApi } from '../constructs/rest-api.js';
import { FerrySchedule } from '../constructs/schedule.js';
import { StateTable } from '../constructs/state-table.js';
import { minimumVisibilitySeconds, VISIBILITY_TIMEOUT_FACTOR, WorkerPool } from '../constructs/worker-pool.js';
import { WorkerQueue, type WorkerQueueProps } from '../constructs/worker-queue.js';
import { applyNagSuppressions } from '../nag-suppressions.js';

export interface FerryStackProps extends StackProps {
  /** The resolved declaration (from `defineApp`) the stack is built from. */
  readonly app: FerryApp;
  /**
   * Directory that function entries and `package-lock.json` are relative to.
   * @default the working directory (where `cdk` and `ferry synth` run)
   */
  readonly projectRoot?: string;
  /**
   * Topic every alarm notifies when it fires.
   * @default no alarm actions (the alarms only change state)
   */
  readonly alarmTopic?: ITopic;
  /**
   * Age of the oldest message in a queue beyond which its alarm fires.
   * @default the `FerryAlarms` default (15 minutes)
   */
  readonly maxMessageAge?: Duration;
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

function timeoutSeconds(fn: LambdaFunction): number {
  return cdkDuration(fn.timeout, `function "${fn.id}": timeout`).toSeconds();
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
  /** Worker pools, by the declared id of their queue (a subset of the queues: see the file comment). */
  readonly workerPools: ReadonlyMap<string, WorkerPool>;
  /** EventBridge schedule rules, by declared schedule name. */
  readonly schedules: ReadonlyMap<string, Rule>;
  /** The REST API, if any function declares an `http` event. */
  readonly restApi: RestApi | undefined;
  /** Alarms on every queue and function. */
  readonly alarms: FerryAlarms;
  /** The operations dashboard: queues, functions, jobs by outcome. */
  readonly dashboard: FerryDashboard;

  constructor(scope: Construct, id: string, props: FerryStackProps) {
    super(scope, id, props);
    const { app } = props;
    const projectRoot = props.projectRoot ?? process.cwd();
    const declaredFunctions = new Map(app.functions.map((fn) => [fn.id, fn]));

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

    const functionProps = (fn: LambdaFunction): FerryFunctionProps => ({
      projectRoot,
      entry: fn.entry,
      handler: fn.handler,
      timeout: cdkDuration(fn.timeout, `function "${fn.id}": timeout`),
      memorySize: fn.memoryMb,
      description: `${app.name} ${fn.id} (${fn.entry})`,
      // A worker that sends jobs runs loops through SQS by design (long delays sent on, workflows): Lambda must not stop them.
      allowRecursiveLoop: app.sqsSources.some((source) => source.functionId === fn.id) && Object.values(fn.queues).some((access) => access !== 'consume'),
    });
    const queueProps = (q: DeclaredQueue): WorkerQueueProps => ({
      visibilityTimeout: cdkDuration(q.visibilityTimeout, `queue "${q.id}": visibilityTimeout`),
      maxReceiveCount: q.maxReceiveCount,
      retention: cdkDuration(q.retention, `queue "${q.id}": retention`),
      deadLetterRetention: cdkDuration(q.deadLetterRetention, `queue "${q.id}": deadLetterRetention`),
    });
    const maxBatchingWindowOf = (source: SqsSource): Duration =>
      cdkDuration(source.maxBatchingWindow, `function "${source.functionId}": maxBatchingWindow`);

    // Queues: a worker pool where one fits, otherwise a queue on its own.
    const workerQueues = new Map<string, WorkerQueue>();
    const ferryFunctions = new Map<string, FerryFunction>();
    const workerPools = new Map<string, WorkerPool>();
    for (const q of app.queues) {
      const sources = app.sqsSources.filter((s) => s.queue === q.id);
      const consumers = sources.map((s) => must(declaredFunctions, s.functionId, 'function'));
      const visibilityS = cdkDuration(q.visibilityTimeout, `queue "${q.id}": visibilityTimeout`).toSeconds();
      const longestTimeoutS = Math.max(0, ...consumers.map(timeoutSeconds));
      const source = sources.length === 1 ? sources[0] : undefined;
      const consumer = consumers.length === 1 ? consumers[0] : undefined;
      const pooled =
        source !== undefined &&
        consumer !== undefined &&
        app.sqsSources.filter((s) => s.functionId === consumer.id).length === 1 &&
        visibilityS >= minimumVisibilitySeconds(longestTimeoutS);

      if (pooled) {
        const pool = new WorkerPool(this, `${pascal(q.id)}WorkerPool`, {
          function: functionProps(consumer),
          queue: queueProps(q),
          batchSize: source.batchSize,
          maxBatchingWindow: maxBatchingWindowOf(source),
          maxConcurrency: source.maxConcurrency,
        });
        workerPools.set(q.id, pool);
        workerQueues.set(q.id, pool.workerQueue);
        ferryFunctions.set(consumer.id, pool.workerFunction);
      } else {
        const queue = new WorkerQueue(this, `${pascal(q.id)}Queue`, queueProps(q));
        workerQueues.set(q.id, queue);
        if (visibilityS < minimumVisibilitySeconds(longestTimeoutS)) {
          Annotations.of(queue).addWarningV2(
            'ferry:FerryStack.visibilityTimeout',
            `queue "${q.id}": visibilityTimeout (${visibilityS} s) is less than ${VISIBILITY_TIMEOUT_FACTOR}x the timeout of a function ` +
              `it feeds (${longestTimeoutS} s), as AWS recommends; leave it undeclared to get ${minimumVisibilitySeconds(longestTimeoutS)} s or more`,
          );
        }
      }
    }

    for (const fn of app.functions) {
      if (!ferryFunctions.has(fn.id)) ferryFunctions.set(fn.id, new FerryFunction(this, `${pascal(fn.id)}Function`, functionProps(fn)));
    }
    const functions = new Map([...ferryFunctions].map(([fnId, f]) => [fnId, f.function]));

    for (const fn of app.functions) {
      const lambda = must(functions, fn.id, 'function');
      const environment = environmentOf(app, fn, {
        tableName: (tableId) => must(stateTables, tableId, 'table').table.tableName,
        queueUrl: (queueId) => must(workerQueues, queueId, 'queue').queue.queueUrl,
        deadLetterQueueUrl: (queueId) => must(workerQueues, queueId, 'queue').deadLetterQueue.queueUrl,
      });
      for (const [name, value] of Object.entries(environment)) lambda.addEnvironment(name, value);
      for (const [tableId, access] of Object.entries(fn.tables)) must(stateTables, tableId, 'table').grant(lambda, access);
      for (const [queueId, access] of Object.entries(fn.queues)) must(workerQueues, queueId, 'queue').grant(lambda, access);
      // GetMetricData has no resource-level permission: AWS requires "*".
      if (fn.metrics === 'read') lambda.addToRolePolicy(new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    }

    for (const source of app.sqsSources) {
      if (workerPools.has(source.queue)) continue;
      const maxBatchingWindow = maxBatchingWindowOf(source);
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
      const { rule } = new FerrySchedule(this, `${pascal(camel(schedule.name))}Schedule`, {
        schedule: Schedule.expression(schedule.expression.source),
        target: must(functions, schedule.functionId, 'function'),
        ...(schedule.input !== undefined && { input: schedule.input }),
        description: `${app.name} schedule "${schedule.name}" -> ${schedule.functionId}`,
      });
      schedules.set(schedule.name, rule);
    }

    let restApi: RestApi | undefined;
    if (app.routes.length > 0) {
      const api = new FerryRestApi(this, 'RestApi', {
        restApiName: `${app.name}-api`,
        stageName: app.api.stageName,
        binaryMediaTypes: app.api.binaryMediaTypes,
        routes: app.routes.map((route) => ({
          method: route.method,
          path: route.path,
          handler: must(functions, route.functionId, 'function'),
          authorization: route.authorization,
        })),
      });
      restApi = api.api;
      new CfnOutput(this, 'ApiUrl', { value: api.url });
    }

    for (const [queueId, queue] of workerQueues) {
      new CfnOutput(this, `${pascal(queueId)}QueueUrl`, { value: queue.queue.queueUrl });
      new CfnOutput(this, `${pascal(queueId)}DeadLetterQueueUrl`, { value: queue.deadLetterQueue.queueUrl });
    }

    const beats = app.heartbeats;
    const heartbeats: WatchedHeartbeats | undefined =
      beats === undefined
        ? undefined
        : {
            queues: Object.fromEntries(beats.queues.map((queueId) => [queueId, must(workerQueues, queueId, 'queue').queue])),
            periodSeconds: beats.alarm.periodSeconds,
            evaluationPeriods: beats.alarm.evaluationPeriods,
            datapointsToAlarm: beats.alarm.datapointsToAlarm,
            thresholdMs: beats.alarm.thresholdMs,
          };
    if (beats !== undefined) {
      new CfnOutput(this, HEARTBEAT_SETTINGS_OUTPUT, {
        description: 'Queue heartbeats: queues, table and late threshold (what `ferry heartbeat --outputs` reads)',
        value: app.functions.find((fn) => fn.id === beats.sender)?.environment[HEARTBEAT_ENV] ?? '',
      });
    }
    this.alarms = new FerryAlarms(this, 'Alarms', {
      ...(heartbeats !== undefined && { heartbeats }),
      queues: Object.fromEntries([...workerQueues].map(([queueId, q]) => [queueId, { queue: q.queue, deadLetterQueue: q.deadLetterQueue }])),
      functions: Object.fromEntries(functions),
      ...(props.alarmTopic !== undefined && { alarmTopic: props.alarmTopic }),
      ...(props.maxMessageAge !== undefined && { maxMessageAge: props.maxMessageAge }),
    });
    if (this.alarms.alarms.length > 0) {
      new CfnOutput(this, 'AlarmNames', {
        description: 'Every alarm of the stack, comma-separated',
        value: Fn.join(',', this.alarms.alarms.map((alarm) => alarm.alarmName)),
      });
    }

    this.dashboard = new FerryDashboard(this, 'Dashboard', {
      ...(heartbeats !== undefined && { heartbeats }),
      queues: Object.fromEntries([...workerQueues].map(([queueId, q]) => [queueId, { queue: q.queue, deadLetterQueue: q.deadLetterQueue }])),
      functions: Object.fromEntries(functions),
    });
    new CfnOutput(this, 'DashboardName', { description: 'The CloudWatch dashboard of queues, functions and jobs', value: this.dashboard.dashboard.dashboardName });

    this.tables = new Map([...stateTables].map(([tableId, t]) => [tableId, t.table]));
    this.queues = new Map([...workerQueues].map(([queueId, q]) => [queueId, q.queue]));
    this.deadLetterQueues = new Map([...workerQueues].map(([queueId, q]) => [queueId, q.deadLetterQueue]));
    this.functions = functions;
    this.workerPools = workerPools;
    this.schedules = schedules;
    this.restApi = restApi;

    applyNagSuppressions(this, app);
  }
}
