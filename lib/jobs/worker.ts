/**
 * The handler of an SQS-fed worker function.
 *
 * For each record of a batch (several at once, up to `concurrency`): decode
 * the envelope, find the task, run one attempt (`run-attempt.ts`), and act on
 * the outcome:
 *
 * | outcome                          | message                                                    |
 * |----------------------------------|------------------------------------------------------------|
 * | succeeded, or skipped (finished) | deleted (left out of `batchItemFailures`)                  |
 * | retry                            | visibility set to the backoff, reported failed             |
 * | busy (another delivery runs it)  | visibility set to when that run's lease ends, reported failed |
 * | failed, poison, unknown task     | sent to the DLQ with its reason, then deleted              |
 * | due later than SQS can delay     | sent on with the remaining delay, then deleted             |
 *
 * A record whose handling itself fails (DynamoDB or SQS unreachable) is
 * reported failed and comes back after the visibility timeout. Powertools'
 * batch processor is not used: each record needs its own follow-up SQS call
 * (visibility, DLQ with reason, resend) and concurrency must be bounded, which
 * its processors do not offer; what it would add, mapping failures to
 * `batchItemFailures`, is a few lines here.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { runInTrace, traceAttributes } from '../util/trace.js';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { sqsClient } from '../aws/clients.js';
import { queueUrl, queueUrlEnvName } from '../app/resource-env.js';
import { decodeEnvelope, encodeEnvelope, EnvelopeDecodeError, MAX_SQS_DELAY_SECONDS, type JobEnvelope, type WorkflowMembership } from './envelope.js';
import { sendToDeadLetterQueue, type DeadLetterReason } from './dead-letter.js';
import { UnknownTaskError } from './errors.js';
import { BadHeartbeatError, HEARTBEAT_TASK, physicalQueueName, recordHeartbeatStart } from './heartbeat.js';
import type { CompletionWrite, JobStore } from './job-state.js';
import { DynamoJobStore } from './dynamo-job-store.js';
import { runAttempt, type AttemptOutcome } from './run-attempt.js';
import { defineTask, type AnyTask } from './task.js';
import type { TaskRegistry } from './task-registry.js';
import { log as defaultLog, logContext, type LogSink } from '../util/log.js';
import { mapLimit } from '../util/map-limit.js';
import { inSubsegment, type RecordMetadata } from '../util/tracer.js';
import { JOB_OUTCOME_METRICS, publishMetrics, type MetricsSink } from '../util/metrics.js';

/**
 * Time kept back from the invocation's deadline for what the worker does after
 * an attempt: the status write, the workflow hook (a few writes and a send),
 * a dead-letter send or a visibility change, each a round trip that the SDK
 * may retry. An attempt that overran it would have its sandbox stopped before
 * its outcome is recorded.
 */
const INVOCATION_MARGIN_MS = 3_000;
/** SQS: a message stays invisible at most 12 hours from when it was received. */
const MAX_VISIBILITY_SECONDS = 43_200;
/**
 * How long a message can wait between its receive and the invocation, at
 * least: the event source's longest batching window (5 minutes). When the
 * function is throttled, Lambda keeps retrying the batch until the message's
 * visibility timeout runs out, so the queue's visibility timeout bounds it
 * too; the worker takes the larger of the two.
 */
const MAX_BATCHING_WINDOW_SECONDS = 300;

export interface WorkerOptions {
  readonly registry: TaskRegistry;
  /** Records of one batch run at once. @default 10 */
  readonly concurrency?: number;
  /** @default a DynamoJobStore on the `state` table */
  readonly store?: JobStore;
  /** Ids of queues this worker consumes besides its tasks' queues (to route poison messages). @default none */
  readonly queues?: readonly string[];
  /** Where one structured entry per job outcome goes. @default Powertools Logger's JSON lines (see lib/util/log.ts) */
  readonly log?: LogSink;
  /** Where the job outcome metrics go. @default Powertools Metrics' EMF lines on stdout (see lib/util/metrics.ts) */
  readonly metrics?: MetricsSink;
  /** Told of the final outcome of jobs that belong to a workflow (see lib/workflows/). @default none */
  readonly workflowHook?: WorkflowHook;
}

/**
 * Receives the outcome of each workflow member job. Called again with the
 * stored result if a delivery finds the job already done (the hook may have
 * failed the first time), so it must be idempotent.
 */
export interface WorkflowHook {
  /**
   * Writes that record the member's completion in its workflow, committed in
   * one transaction with the job's success (so a member costs no write of its
   * own to report); an empty list when they cannot be (the result does not
   * fit the member's node), and the hook is told of the success after it.
   */
  completionWrites?(membership: WorkflowMembership, result: unknown): readonly CompletionWrite[];
  /**
   * `again`: the outcome was reported before (a delivery found the job already
   * done), and what follows it must be re-driven. `completed`: the
   * completion writes were committed with the job's success, by this delivery.
   */
  succeeded(membership: WorkflowMembership, result: unknown, reported: { readonly again: boolean; readonly completed?: boolean }): Promise<void>;
  failed(membership: WorkflowMembership, error: Error): Promise<void>;
}

export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createWorker(options: WorkerOptions): WorkerHandler {
  const concurrency = options.concurrency ?? 10;
  const store = options.store ?? new DynamoJobStore();
  const log = options.log ?? defaultLog;
  const metrics = options.metrics ?? publishMetrics;
  const queueIds = [...new Set([...options.registry.queues, ...(options.queues ?? [])])];

  return async (event, context) => {
    if (options.log === undefined) logContext(context);
    const failed: string[] = [];
    const invokedAt = Date.now();
    await mapLimit(event.Records, concurrency, async (record) => {
      try {
        const keep = await handleRecord(record, context, { registry: options.registry, store, queueIds, log, metrics, hook: options.workflowHook, invokedAt });
        if (keep) failed.push(record.messageId);
      } catch (error) {
        failed.push(record.messageId);
        log({ level: 'error', msg: 'record not handled; SQS will deliver it again', messageId: record.messageId, error: describe(error) });
      }
    });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

interface RecordDeps {
  readonly registry: TaskRegistry;
  readonly store: JobStore;
  readonly queueIds: readonly string[];
  readonly log: LogSink;
  readonly metrics: MetricsSink;
  readonly hook: WorkflowHook | undefined;
  /** Epoch ms the invocation began: a record was received at most its queue's visibility timeout (or the batching window) before. */
  readonly invokedAt: number;
}

/** Handles one record; returns true when the message must stay on the queue. */
async function handleRecord(record: SQSRecord, lambda: Context, deps: RecordDeps): Promise<boolean> {
  const queue = queueIdOf(record.eventSourceARN, deps.queueIds);
  const receiveCount = Number(record.attributes.ApproximateReceiveCount) || 1;

  let envelope: JobEnvelope;
  try {
    envelope = decodeEnvelope(record.body);
  } catch (error) {
    if (!(error instanceof EnvelopeDecodeError)) throw error;
    await deadLetter(deps, queue, record.body, { cause: 'poison', errorName: error.name, errorMessage: error.message, attempts: receiveCount });
    return false;
  }
  // The job runs in its envelope's trace: what it enqueues (a workflow's next members) joins it.
  // In X-Ray, it is a subsegment of this invocation annotated with that trace (lib/util/tracer.ts).
  const annotations = { ferry_job_id: envelope.jobId, ferry_trace_id: envelope.traceId };
  const metadata = { task: envelope.task, queue, attempt: envelope.attempt + receiveCount - 1 };
  return runInTrace(envelope.traceId, () =>
    inSubsegment(`## ${envelope.task}`, annotations, metadata, (recordMetadata) => handleEnvelope(record, envelope, queue, receiveCount, lambda, deps, recordMetadata)),
  );
}

async function handleEnvelope(
  record: SQSRecord,
  envelope: JobEnvelope,
  queue: string,
  receiveCount: number,
  lambda: Context,
  deps: RecordDeps,
  recordMetadata: RecordMetadata,
): Promise<boolean> {
  if (envelope.task === HEARTBEAT_TASK) {
    // A queue heartbeat's canary (heartbeat.ts): record its start; no task runs.
    try {
      await recordHeartbeatStart(envelope.input, deps.log, deps.metrics);
    } catch (error) {
      if (!(error instanceof BadHeartbeatError)) throw error;
      await deadLetter(deps, queue, record.body, { cause: 'poison', errorName: error.name, errorMessage: error.message, attempts: receiveCount });
    }
    return false;
  }

  const dueInMs = envelope.notBefore === undefined ? 0 : Date.parse(envelope.notBefore) - Date.now();
  if (dueInMs > 1_000) {
    // Not due yet: send it on rather than hold it. A new message restarts the
    // receive count, so the envelope keeps counting attempts from where it was.
    const resent: JobEnvelope = { ...envelope, attempt: envelope.attempt + receiveCount - 1 };
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: queueUrl(queue),
        MessageBody: encodeEnvelope(resent),
        DelaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(dueInMs / 1000)),
        MessageSystemAttributes: traceAttributes(envelope.traceId),
      }),
    );
    return false;
  }

  const task = deps.registry.get(envelope.task) ?? unknownTask(envelope.task, deps.registry.names);
  const attempt = envelope.attempt + receiveCount - 1;
  const timeoutMs = Math.max(1, Math.min(task.timeoutMs, lambda.getRemainingTimeInMillis() - INVOCATION_MARGIN_MS));
  const started = Date.now();
  const member = envelope.workflow;
  const hook = deps.hook;
  const completion = member !== undefined && hook?.completionWrites !== undefined ? (result: unknown) => hook.completionWrites?.(member, result) ?? [] : undefined;
  const outcome = await runAttempt({ task, envelope, queue, attempt, timeoutMs, store: deps.store, eager: false, lambda, ...(completion && { completion }) });
  const durationMs = Date.now() - started;
  recordMetadata('outcome', outcome.kind);
  deps.log(outcomeEntry(envelope, queue, attempt, outcome, durationMs));
  const metric = OUTCOME_METRIC[outcome.kind];
  // Per queue (its physical name, as the heartbeat metric has it) and task, and per queue for the dashboard.
  if (metric !== undefined) deps.metrics({ Queue: physicalQueueName(queue), Task: envelope.task }, { [metric]: { value: 1, unit: 'Count' }, JobDurationMs: { value: durationMs, unit: 'Milliseconds' } }, [['Queue']]);

  if (member !== undefined && deps.hook !== undefined) {
    if (outcome.kind === 'succeeded') await deps.hook.succeeded(member, outcome.result, { again: false, completed: outcome.completed });
    // Reported again: the first report may have died halfway, so the engine re-drives what follows.
    if (outcome.kind === 'skipped' && outcome.status === 'SUCCEEDED') await deps.hook.succeeded(member, outcome.result, { again: true });
    if (outcome.kind === 'failed' || outcome.kind === 'stopped') await deps.hook.failed(member, outcome.error);
    if (outcome.kind === 'skipped' && outcome.status === 'FAILED') {
      await deps.hook.failed(member, Object.assign(new Error(outcome.lastError?.message ?? 'the job failed'), { name: outcome.lastError?.name ?? 'Error' }));
    }
  }
  switch (outcome.kind) {
    case 'succeeded':
    case 'stopped':
      return false;
    case 'skipped':
      // A job that failed for good on an earlier delivery whose dead letter may
      // not have gone out (the send failed, or the environment died after the
      // FAILED write): send it now. Re-driven until the record says it was sent.
      if (outcome.status === 'FAILED' && outcome.deadLettered === false) {
        await deadLetter(deps, queue, record.body, {
          cause: outcome.failCause ?? 'attempts-exhausted',
          errorName: outcome.lastError?.name ?? 'Error',
          errorMessage: outcome.lastError?.message ?? 'the job failed',
          attempts: outcome.attempts ?? attempt,
          task: envelope.task,
          jobId: envelope.jobId,
        });
        await deps.store.markDeadLettered(envelope.jobId);
      }
      return false;
    case 'retry':
      await setVisibility(queue, record, outcome.delayMs, deps.invokedAt, deps.registry.visibilitySeconds[queue]);
      return true;
    case 'busy':
      await setVisibility(queue, record, outcome.retryInMs, deps.invokedAt, deps.registry.visibilitySeconds[queue]);
      return true;
    case 'failed':
      await deadLetter(deps, queue, record.body, {
        cause: outcome.cause,
        errorName: outcome.error.name,
        errorMessage: outcome.error.message,
        attempts: attempt,
        task: envelope.task,
        jobId: envelope.jobId,
      });
      if (envelope.tracked) await deps.store.markDeadLettered(envelope.jobId);
      return false;
  }
}

/** A stand-in for a task this worker does not know: one attempt, which fails as non-retryable. */
function unknownTask(name: string, known: readonly string[]): AnyTask {
  return defineTask({
    name,
    input: z.unknown(),
    retry: { maxAttempts: 1 },
    run: () => Promise.reject(new UnknownTaskError(name, known)),
  });
}

async function deadLetter(deps: RecordDeps, queue: string, body: string, reason: Omit<DeadLetterReason, 'queue' | 'deadAt'>): Promise<void> {
  await sendToDeadLetterQueue(queue, body, { ...reason, queue, deadAt: new Date().toISOString() });
  deps.log({ level: 'warn', msg: 'dead-lettered', queue, ...reason });
}

/**
 * Hides the message for `delayMs` (the retry's backoff), within SQS's 12 hours
 * from its receive: a longer delay is cut to what is left of them, and the
 * message comes back sooner than asked (its next attempt runs then).
 */
async function setVisibility(queue: string, record: SQSRecord, delayMs: number, invokedAt: number, queueVisibilityS = 0): Promise<void> {
  const beforeInvokeS = Math.max(MAX_BATCHING_WINDOW_SECONDS, queueVisibilityS);
  const sinceReceiveS = beforeInvokeS + Math.ceil((Date.now() - invokedAt) / 1000);
  await sqsClient().send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: queueUrl(queue),
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: Math.max(0, Math.min(MAX_VISIBILITY_SECONDS - sinceReceiveS, Math.ceil(delayMs / 1000))),
    }),
  );
}

/** The declared queue id a record came from: the one whose URL ends with the ARN's queue name. */
function queueIdOf(arn: string, queueIds: readonly string[]): string {
  const name = arn.slice(arn.lastIndexOf(':') + 1);
  for (const id of queueIds) {
    const url = process.env[queueUrlEnvName(id)];
    if (url !== undefined && url.endsWith(`/${name}`)) return id;
  }
  throw new Error(`record from ${arn} matches none of this worker's queues (${queueIds.join(', ')})`);
}

/** Per outcome, the metric recorded with the duration: jobs succeeded, failed, retried, stopped, and their duration. */
const OUTCOME_METRIC: Record<AttemptOutcome['kind'], string | undefined> = {
  succeeded: JOB_OUTCOME_METRICS.succeeded,
  failed: JOB_OUTCOME_METRICS.failed,
  retry: JOB_OUTCOME_METRICS.retried,
  busy: undefined,
  skipped: undefined,
  stopped: JOB_OUTCOME_METRICS.stopped,
};

function outcomeEntry(envelope: JobEnvelope, queue: string, attempt: number, outcome: AttemptOutcome, durationMs: number): Parameters<LogSink>[0] {
  const base = { msg: 'job', jobId: envelope.jobId, traceId: envelope.traceId, attempt, outcome: outcome.kind, durationMs, queue, task: envelope.task };
  switch (outcome.kind) {
    case 'retry':
      return { level: 'warn' as const, ...base, retryInMs: outcome.delayMs, error: describe(outcome.error) };
    case 'failed':
      return { level: 'error' as const, ...base, cause: outcome.cause, error: describe(outcome.error) };
    case 'busy':
      return { level: 'info' as const, ...base, retryInMs: outcome.retryInMs };
    default:
      return { level: 'info' as const, ...base };
  }
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
}
