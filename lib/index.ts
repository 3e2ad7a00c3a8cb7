/**
 * Ferry: background jobs for AWS serverless.
 *
 * This is the public API an app is written against: the declaration of its
 * resources, tasks and the worker that runs them, enqueueing, coordination
 * on DynamoDB (leases, dedup markers, idempotency, single-flight results),
 * workflows, and REST API routing. Everything not exported here (or from
 * `ferry/cdk`, `ferry/local` and `ferry/testing`) is internal and may change.
 *
 * @packageDocumentation
 */

// Declaring an app: tables, queues, functions and their events, once, for CDK and the local runtime.
export type {
  ApiDeclaration,
  AppDeclaration,
  DynamoStreamEventDeclaration,
  EventDeclaration,
  FunctionDeclaration,
  HeartbeatDeclaration,
  HttpEventDeclaration,
  HttpMethod,
  KeyDeclaration,
  KeyType,
  QueueAccess,
  QueueDeclaration,
  ScheduleEventDeclaration,
  SqsEventDeclaration,
  StreamViewType,
  TableAccess,
  TableDeclaration,
} from './app/declaration.js';
export { defineApp, InvalidDeclarationError } from './app/define-app.js';
export { InvalidScheduleExpressionError } from './app/schedule-expression.js';
export type { App, HeartbeatAlarm, Heartbeats, LambdaFunction, Queue, Route, Schedule, SqsSource, StreamSource, Table } from './app/define-app.js';
export { days, hours, millis, minutes, seconds, type Duration } from './app/duration.js';
export { deadLetterQueueUrl, deadLetterQueueUrlEnvName, MissingResourceEnvError, queueUrl, queueUrlEnvName, tableEnvName, tableName } from './app/resource-env.js';
export { defineConfig, type DevOptions, type FerryConfig } from './app/config.js';

// AWS clients: endpoints from AWS_ENDPOINT_URL*, shared per environment.
export { documentClient, dynamoDbClient, sqsClient } from './aws/clients.js';
export { StateTable, type StateTableOptions } from './aws/state-table.js';

// Tasks, the worker and enqueueing.
export { defineTask, TASK_DEFAULTS, type AnyTask, type Task, type TaskContext, type TaskOptions } from './jobs/task.js';
export { createTaskRegistry, InvalidTaskRegistryError, type TaskRegistry } from './jobs/task-registry.js';
export { createWorker, type WorkerHandler, type WorkerOptions, type WorkflowHook } from './jobs/worker.js';
export { createJobClient, jobs, type EnqueuedJob, type EnqueueGuard, type EnqueueOptions, type JobClient, type JobClientOptions, type TagCancellation, type TaskSend } from './jobs/enqueue.js';
export { JobStatus, NOT_FOUND, type JobError, type JobLookup, type JobRecord, type StopRequest } from './jobs/job-state.js';
export { PayloadTooLargeError } from './jobs/envelope.js';
export type { RetryOptions } from './jobs/retry-policy.js';
export {
  EnqueueBatchError,
  InvalidEnqueueOptionError,
  InvalidTaskInputError,
  JobIdInUseError,
  JobNotCancellableError,
  JobStoppedError,
  JobNotFoundError,
  NonRetryableError,
  ResultNotStorableError,
  RetryAfterError,
  TaskTimeoutError,
  UnknownTaskError,
} from './jobs/errors.js';
export { createOutboxRelay, createOutboxSweeper, OUTBOX_TABLE, OutboxTransactionRefusedError, sweepOutbox, type OutboxRelayOptions, type OutboxSweepOptions } from './jobs/outbox.js';
export { applied, cancellationCodes, isConditionRefusal, transactWrite, type TransactItem } from './aws/conditional-write.js';
export { periodic, periodicJobId, type OverlapPolicy, type Periodic, type PeriodicOptions, type PeriodicStatus, type TickOutcome } from './jobs/periodic.js';
export { createConsoleHandler, type ConsoleOptions } from './console/console-handler.js';
export {
  heartbeatHandler,
  heartbeatSettings,
  heartbeatState,
  oldestWaiting,
  recentHeartbeats,
  HEARTBEAT_TASK,
  type HeartbeatHandlerOptions,
  type HeartbeatSample,
  type HeartbeatTick,
} from './jobs/heartbeat.js';
export { redrive, redriveMessage, listDeadLetters, deadLetterReasonOf, type DeadLetter, type DeadLetterReason, type RedriveOptions, type RedriveResult } from './jobs/dead-letter.js';

// Coordination on DynamoDB conditional writes.
export { LeaseLostError, LockHeldError, withLock, type HeldLock, type WithLockOptions } from './coordination/lease.js';
export { DynamoDedupGuard, type DedupGuardOptions } from './coordination/dedup-guard.js';
export { IdempotencyInProgressError, once, onceWrite, type OnceOptions, type OnceResult } from './coordination/idempotency.js';
export { DynamoResultCache, type ResultCache } from './coordination/result-cache.js';
export { MemoryCache, type MemoryCacheOptions } from './coordination/memory-cache.js';
export {
  FLIGHT_DEFAULTS,
  FlightLostError,
  SingleFlight,
  type FlightAnswer,
  type FlightClaim,
  type FlightPolicy,
  type Phase,
} from './coordination/single-flight.js';
export { defineFlightTask, requestFlight, type FlightTask, type FlightTaskOptions } from './coordination/flight-task.js';

// Workflows: chain, group, chord, map, starmap, chunks.
export { chain, chord, chunks, group, map, s, si, starmap, type Canvas, type Signature } from './workflows/canvas.js';
export {
  WorkflowDeadlineError,
  WorkflowEngine,
  WorkflowNotFoundError,
  type EngineOptions,
  type StartOptions,
  type WorkflowStatusView,
  type WorkflowView,
} from './workflows/workflow-engine.js';
export { ResultsTooLargeError } from './workflows/workflow-store.js';
export { workflowTasks } from './workflows/builtin-tasks.js';
export { workflows } from './workflows/default-engine.js';

// The REST API: routes of API Gateway's proxy integration, JSON and HTML answers.
export { apiPath, createRestApi, HttpError, json, jsonBody, type RestApiOptions, type RouteHandler } from './http/rest-api.js';
export { errorPage, escapeHtml, headerOf, htmlPage, htmlResponse, wantsHtml } from './http/html.js';

// Small helpers apps need beside their tasks.
export { log, logContext, type LogLevel, type LogSink } from './util/log.js';
export { HEARTBEAT_METRIC, METRICS_NAMESPACE, publishMetrics, type MetricsSink, type MetricUnit, type MetricValue } from './util/metrics.js';
export { currentTraceId, runInTrace } from './util/trace.js';
export { mapLimit } from './util/map-limit.js';
export { sleep } from './util/sleep.js';
/** A seeded pseudo-random generator (mulberry32): the same seed gives the same numbers, for generated data and tests. */
export { mulberry32 } from './util/prng.js';

/** The zod Ferry validates task input with: define task schemas with it, so both agree on one copy. */
export { z } from 'zod';
