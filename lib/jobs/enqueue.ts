/**
 * Sending jobs: `enqueue` (one), `enqueueMany` (SendMessageBatch), `sendTask`
 * (by name, without importing the task), and eager mode.
 *
 * Order of effects for a tracked job: the QUEUED status record is written
 * first, then the message is sent; if the send fails the record is removed,
 * so a status never describes a job that does not exist. Call these after
 * your own database transaction commits, never inside it: a worker may pick
 * the job up before a rolled-back transaction would have been visible.
 */
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { currentTraceId, traceAttributes } from '../util/trace.js';
import { sqsClient } from '../aws/clients.js';
import { queueUrl } from '../app/resource-env.js';
import type { Duration } from '../app/duration.js';
import { mapLimit } from '../util/map-limit.js';
import { sleep } from '../util/sleep.js';
import { encodeEnvelope, MAX_SQS_DELAY_SECONDS, newEnvelope, SQS_MAX_MESSAGE_BYTES, type JobEnvelope, type WorkflowMembership } from './envelope.js';
import { EnqueueBatchError, InvalidEnqueueOptionError } from './errors.js';
import type { CompletionWrite, JobError, JobLookup, JobRecord, JobStore, NewJob } from './job-state.js';
import { DynamoJobStore } from './dynamo-job-store.js';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../aws/clients.js';
import { tableName } from '../app/resource-env.js';
import { cancellationCodes, transactWrite } from '../aws/conditional-write.js';
import { OUTBOX_ITEM, OUTBOX_TABLE_ID, OutboxTransactionRefusedError, outboxRequestToken, type OutboxIntent } from './outbox.js';
import { runAttempt } from './run-attempt.js';
import { parseTaskInput, TASK_DEFAULTS, type AnyTask, type Task } from './task.js';
import type { TaskRegistry } from './task-registry.js';

export interface EnqueueOptions {
  /**
   * Run no earlier than this from now. Up to 15 minutes uses SQS's
   * `DelaySeconds`; longer delays are carried in the envelope and the worker
   * sends the message on until it is due.
   * @default no delay
   */
  readonly delay?: Duration;
  /** Send to this declared queue instead of the task's own (routing). @default the task's queue */
  readonly queue?: string;
  /** Keep a status record; `false` is Celery's ignore_result. @default the task's `trackStatus` */
  readonly trackStatus?: boolean;
  /**
   * The trace the job joins (its log lines and record carry it; an X-Ray
   * trace id also travels as the message's `AWSTraceHeader`).
   * @default the trace of the work enqueuing it (the request's, or the running job's; lib/util/trace.ts), else a new random id
   */
  readonly traceId?: string;
  /**
   * The job's id, when the caller has already recorded it somewhere. Enqueuing
   * again under an id whose job exists sends the message again and keeps the
   * job's record as it is (a re-drive: the worker runs the job once, and a
   * delivery of a finished job only reports its outcome again).
   * @default a new random id
   */
  readonly jobId?: string;
  /** The workflow node this job runs (set by the workflow engine). @default none */
  readonly workflow?: WorkflowMembership;
  /**
   * Deduplication key, handled by the client's {@link EnqueueGuard}: while an
   * earlier job with the same key is inside `dedupWindow`, or still queued or
   * running, nothing is sent and that job's id is returned.
   * @default none
   */
  readonly dedupKey?: string;
  /**
   * An entity tag (`note:42`): the job is filed under it, and
   * {@link JobClient.cancelByTag} cancels it while it is queued, or asks it to
   * stop while it runs. Only for a tracked job. Up to 200 characters.
   * @default none
   */
  readonly tag?: string;
  /** With `dedupKey`: how long after an enqueue an equal one is deduplicated even if the first finished. @default 0 (only while it is queued or running) */
  readonly dedupWindow?: Duration;
}

export interface EnqueuedJob {
  readonly jobId: string;
  readonly queue: string;
  readonly tracked: boolean;
  /** True when a guard found an equal job already queued or running and nothing was sent. */
  readonly deduplicated: boolean;
  /** Eager mode only: how the inline run ended. */
  readonly eager?: EagerOutcome;
}

export type EagerOutcome =
  | { readonly status: 'SUCCEEDED'; readonly result: unknown; readonly attempts: number }
  | { readonly status: 'FAILED'; readonly error: JobError; readonly attempts: number; readonly cause: 'non-retryable' | 'attempts-exhausted' }
  | { readonly status: 'SKIPPED'; readonly attempts: number }
  /** The task stopped on request (`cancelByTag` while it ran). */
  | { readonly status: 'CANCELLED'; readonly attempts: number };

/**
 * A hook consulted before a job is sent (the coordination layer's dedup
 * markers plug in here): it either admits the job or names the existing job
 * that makes it redundant.
 */
export interface EnqueueGuard {
  admit(job: { readonly jobId: string; readonly task: string; readonly queue: string; readonly dedupKey: string; readonly windowMs: number }): Promise<
    { readonly admitted: true } | { readonly admitted: false; readonly existingJobId: string }
  >;
  /** Undoes an admission whose job could not be sent. */
  release(dedupKey: string, jobId: string): Promise<void>;
}

export interface JobClientOptions {
  /** @default a DynamoJobStore on the `state` table */
  readonly store?: JobStore;
  /** Tasks `sendTask` can validate against and eager mode can run. @default none */
  readonly registry?: TaskRegistry;
  /**
   * Run tasks inline at enqueue, with the same validation, retries and
   * timeouts, instead of sending them (Celery's task_always_eager).
   * @default `FERRY_EAGER=true` in the environment
   */
  readonly eager?: boolean;
  /** Eager mode sleeps through retry backoffs unless this is false. @default true */
  readonly eagerWaitsForBackoff?: boolean;
  readonly guard?: EnqueueGuard;
}

export interface JobClient {
  enqueue<I, R, P>(task: Task<I, R, P>, input: I, options?: EnqueueOptions): Promise<EnqueuedJob>;
  enqueueMany<I, R, P>(task: Task<I, R, P>, inputs: readonly I[], options?: Omit<EnqueueOptions, 'dedupKey'>): Promise<EnqueuedJob[]>;
  /** Sends by task name. Validates input when the client's registry knows the task; otherwise the worker does. */
  sendTask(name: string, input: unknown, options?: EnqueueOptions): Promise<EnqueuedJob>;
  /**
   * Sends many jobs by task name, each with its own options (queue, job id,
   * workflow), as `enqueueMany` does: the records in as few writes as the
   * store allows, the messages by SendMessageBatch, per queue.
   */
  sendTasks(entries: readonly TaskSend[]): Promise<EnqueuedJob[]>;
  /**
   * Enqueue after commit, durably (the transactional outbox, outbox.ts):
   * `items` (your writes, with their conditions), the job's QUEUED record and
   * its intent commit in one transaction, and the outbox relay sends the
   * message once the transaction has committed. Refused by a condition of
   * `items`: {@link OutboxTransactionRefusedError}, nothing written or sent.
   * Needs the `outbox` table (OUTBOX_TABLE) with its relay; the job is always
   * tracked (its record is how a message sent twice runs once). At most 98 items.
   */
  enqueueWith<I, R, P>(items: readonly CompletionWrite[], task: Task<I, R, P>, input: I, options?: Omit<EnqueueOptions, 'dedupKey' | 'dedupWindow' | 'trackStatus'> & { readonly outboxTable?: string }): Promise<EnqueuedJob>;
  /** The job's status record, or `{ status: 'NOT_FOUND' }`: an unknown id is never reported as pending. */
  getJob(jobId: string): Promise<JobLookup>;
  /** Cancels a job that has not started running; its worker will skip it. */
  cancel(jobId: string): Promise<JobRecord>;
  /**
   * Cancels the jobs enqueued with `tag` that have not started, and asks the
   * running ones to stop (a task sees it through `context.stopIfRequested()`;
   * one that never checks finishes). Jobs enqueued after this call are not
   * touched: make the entity refuse new jobs first (mark it deleted), then
   * cancel by its tag.
   */
  cancelByTag(tag: string): Promise<TagCancellation>;
}

/** What {@link JobClient.cancelByTag} did, job by job. */
export interface TagCancellation {
  readonly tag: string;
  /** Were queued: will not run. */
  readonly cancelled: readonly string[];
  /** Were running: told to stop. */
  readonly stopping: readonly string[];
  /** Had ended already, or their record has expired. */
  readonly finished: readonly string[];
}

/** One job of {@link JobClient.sendTasks}. */
export interface TaskSend {
  readonly name: string;
  readonly input: unknown;
  readonly options?: Omit<EnqueueOptions, 'dedupKey' | 'dedupWindow'>;
}

interface Prepared {
  readonly envelope: JobEnvelope;
  readonly body: string;
  readonly queue: string;
  readonly delaySeconds: number;
  readonly job: NewJob | undefined;
}

export function createJobClient(options: JobClientOptions = {}): JobClient {
  const store = options.store ?? new DynamoJobStore();
  const eager = () => options.eager ?? process.env.FERRY_EAGER === 'true';

  function prepare(task: AnyTask | undefined, name: string, input: unknown, o: EnqueueOptions): Prepared {
    const queue = o.queue ?? task?.queue ?? TASK_DEFAULTS.queue;
    const tracked = o.trackStatus ?? task?.trackStatus ?? true;
    const delayMs = o.delay?.milliseconds ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new InvalidEnqueueOptionError(`delay must be a non-negative duration (got ${delayMs} ms)`);
    // Validated here so bad input is refused before anything is written or sent;
    // the raw input travels, and the worker parses it again (applying defaults).
    if (task !== undefined) parseTaskInput(task, input);
    if (o.tag !== undefined) {
      if (!tracked) throw new InvalidEnqueueOptionError(`tag "${o.tag}" needs a tracked job: cancelByTag cancels through the job's record`);
      if (typeof o.tag !== 'string' || o.tag.length === 0 || o.tag.length > MAX_TAG_LENGTH) {
        throw new InvalidEnqueueOptionError(`tag must be 1-${MAX_TAG_LENGTH} characters (got ${JSON.stringify(o.tag)})`);
      }
    }
    const longDelay = delayMs > MAX_SQS_DELAY_SECONDS * 1000;
    const traceId = o.traceId ?? currentTraceId();
    const envelope = newEnvelope(name, input, {
      tracked,
      ...(traceId !== undefined && { traceId }),
      ...(o.jobId !== undefined && { jobId: o.jobId }),
      ...(o.workflow !== undefined && { workflow: o.workflow }),
      ...(longDelay && { notBefore: new Date(Date.now() + delayMs) }),
    });
    const body = encodeEnvelope(envelope);
    const job: NewJob | undefined = tracked
      ? {
          jobId: envelope.jobId,
          task: name,
          queue,
          maxAttempts: task?.retry.maxAttempts ?? 1,
          enqueuedAt: envelope.enqueuedAt,
          traceId: envelope.traceId,
          ttlMs: (task?.resultTtlMs ?? TASK_DEFAULTS.resultTtl.milliseconds) + delayMs,
          ...(o.tag !== undefined && { tag: o.tag }),
        }
      : undefined;
    return { envelope, body, queue, delaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.ceil(delayMs / 1000)), job };
  }

  async function admit(p: Prepared, dedupKey: string | undefined, dedupWindowMs: number): Promise<EnqueuedJob | undefined> {
    if (dedupKey === undefined) return undefined;
    if (options.guard === undefined) {
      throw new InvalidEnqueueOptionError('dedupKey needs an EnqueueGuard (createJobClient({ guard })); none is configured, so the job was not sent');
    }
    const verdict = await options.guard.admit({ jobId: p.envelope.jobId, task: p.envelope.task, queue: p.queue, dedupKey, windowMs: dedupWindowMs });
    return verdict.admitted ? undefined : { jobId: verdict.existingJobId, queue: p.queue, tracked: p.job !== undefined, deduplicated: true };
  }

  async function sendOne(task: AnyTask | undefined, name: string, input: unknown, o: EnqueueOptions): Promise<EnqueuedJob> {
    const p = prepare(task, name, input, o);
    const existing = await admit(p, o.dedupKey, o.dedupWindow?.milliseconds ?? 0);
    if (existing) return existing;
    if (eager()) return runEagerly(task, p);
    // False when the record exists already: the job is enqueued again under its
    // id (a re-drive, which must send again), and a failed send keeps the record.
    let created = false;
    try {
      if (p.job) created = await store.create(p.job);
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl(p.queue), MessageBody: p.body, DelaySeconds: p.delaySeconds, MessageSystemAttributes: traceAttributes(p.envelope.traceId) }));
    } catch (error) {
      if (p.job && created) await store.discard(p.job.jobId);
      if (o.dedupKey !== undefined) await options.guard?.release(o.dedupKey, p.envelope.jobId);
      throw error;
    }
    return { jobId: p.envelope.jobId, queue: p.queue, tracked: p.job !== undefined, deduplicated: false };
  }

  async function runEagerly(task: AnyTask | undefined, p: Prepared): Promise<EnqueuedJob> {
    const known = task ?? options.registry?.get(p.envelope.task);
    if (known === undefined) throw new InvalidEnqueueOptionError(`eager mode cannot run task "${p.envelope.task}": it is not in the client's registry`);
    if (p.job) await store.create(p.job);
    if (p.delaySeconds > 0 && options.eagerWaitsForBackoff !== false) await sleep(p.delaySeconds * 1000);
    const base = { jobId: p.envelope.jobId, queue: p.queue, tracked: p.job !== undefined, deduplicated: false };
    for (let attempt = 1; ; attempt++) {
      const outcome = await runAttempt({ task: known, envelope: p.envelope, queue: p.queue, attempt, timeoutMs: known.timeoutMs, store, eager: true });
      switch (outcome.kind) {
        case 'succeeded':
          return { ...base, eager: { status: 'SUCCEEDED', result: outcome.result, attempts: attempt } };
        case 'skipped':
        case 'busy':
          return { ...base, eager: { status: 'SKIPPED', attempts: attempt } };
        case 'stopped':
          return { ...base, eager: { status: 'CANCELLED', attempts: attempt } };
        case 'failed':
          return { ...base, eager: { status: 'FAILED', error: { name: outcome.error.name, message: outcome.error.message }, attempts: attempt, cause: outcome.cause } };
        case 'retry':
          if (options.eagerWaitsForBackoff !== false) await sleep(outcome.delayMs);
      }
    }
  }

  /**
   * Records every job (`createMany`: many to a write request), then sends the
   * messages by SendMessageBatch, several calls in flight. What this call
   * created for a message that was not sent is discarded again.
   */
  async function sendPrepared(prepared: readonly Prepared[]): Promise<EnqueuedJob[]> {
    const sent: { index: number; job: EnqueuedJob }[] = [];
    const failed: { index: number; jobId: string; code: string; message: string }[] = [];
    const toCreate = prepared.flatMap((p) => (p.job ? [p.job] : []));
    // Records first, many to a write request; nothing is sent before they stand (createMany keeps none if it fails).
    const isNew = await store.createMany(toCreate);
    const created = new Set(toCreate.filter((_, i) => isNew[i]).map((j) => j.jobId));
    const unsent = new Set(created);
    await mapLimit(batches(prepared), BATCHES_IN_FLIGHT, async (batch) => {
      const result = await sqsClient().send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl(batch[0]?.p.queue ?? ''),
          Entries: batch.map(({ p, index }) => ({ Id: String(index), MessageBody: p.body, DelaySeconds: p.delaySeconds, MessageSystemAttributes: traceAttributes(p.envelope.traceId) })),
        }),
      );
      const refused = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
      for (const { p, index } of batch) {
        const f = refused.get(String(index));
        if (f === undefined) {
          unsent.delete(p.envelope.jobId);
          sent.push({ index, job: { jobId: p.envelope.jobId, queue: p.queue, tracked: p.job !== undefined, deduplicated: false } });
        } else {
          failed.push({ index, jobId: p.envelope.jobId, code: f.Code ?? 'Unknown', message: f.Message ?? '' });
        }
      }
      // After a failed call mapLimit starts no further batch and lets those in flight finish: `unsent` is final here.
    }).finally(() => Promise.all([...unsent].map((jobId) => store.discard(jobId))));
    // In the order given, whichever batch went first.
    const inOrder = sent.sort((a, b) => a.index - b.index).map((s) => s.job);
    if (failed.length > 0) throw new EnqueueBatchError(failed.sort((a, b) => a.index - b.index), inOrder.map((j) => j.jobId));
    return inOrder;
  }

  /** Whether the job `jobId` of `task` was recorded before: an earlier outbox call under this id committed. */
  async function committedBefore(jobId: string, task: string): Promise<boolean> {
    const found = await store.get(jobId);
    return found.status !== 'NOT_FOUND' && found.task === task;
  }

  async function enqueueWith(items: readonly CompletionWrite[], task: AnyTask, input: unknown, o: EnqueueOptions & { readonly outboxTable?: string }): Promise<EnqueuedJob> {
    const room = MAX_OUTBOX_ITEMS - (o.tag !== undefined ? 1 : 0);
    if (items.length > room) {
      throw new InvalidEnqueueOptionError(
        `enqueueWith takes at most ${room} items (a transaction holds 100: the job's record, its intent${o.tag !== undefined ? ' and its tag entry' : ''} are the others); got ${items.length}`,
      );
    }
    const p = prepare(task, task.name, input, { ...o, trackStatus: true });
    const job = p.job;
    if (job === undefined) throw new Error('unreachable: an outbox job is always tracked');
    // The intent carries the message in a DynamoDB item (at most 400 KB), not SQS's 1 MiB.
    const bodyBytes = Buffer.byteLength(p.body, 'utf8');
    if (bodyBytes > MAX_OUTBOX_BODY_BYTES) {
      throw new InvalidEnqueueOptionError(`the job's message is ${bodyBytes} bytes; an outbox intent holds at most ${MAX_OUTBOX_BODY_BYTES} (a DynamoDB item is 400 KB): pass ids, not data`);
    }
    const base = { jobId: job.jobId, queue: p.queue, tracked: true, deduplicated: false };
    const now = Date.now();
    const intent: OutboxIntent = {
      pk: OUTBOX_ITEM.pkOf(job.jobId),
      jobId: job.jobId,
      task: task.name,
      queue: p.queue,
      body: p.body,
      delaySeconds: p.delaySeconds,
      createdAt: now,
    };
    const writes = [
      ...items,
      store.createWrite(job),
      // Eager mode runs the job here, after the commit, so it writes no intent for a relay to send again.
      ...(eager() ? [] : [{ Put: { TableName: tableName(o.outboxTable ?? OUTBOX_TABLE_ID), Item: { ...intent }, ConditionExpression: 'attribute_not_exists(pk)' } }]),
      // Last: the refusal codes of the record and the intent keep their places after the caller's items.
      ...(job.tag !== undefined ? [store.tagWrite({ ...job, tag: job.tag })] : []),
    ];
    // The token makes the SDK's retry of a transaction whose response was lost a no-op that succeeds (for 10 minutes).
    const command = new TransactWriteCommand({ TransactItems: writes, ClientRequestToken: outboxRequestToken(job.jobId) });
    // Sent again if it collided with another transaction; a refusal by a condition comes back, not thrown.
    let refusal;
    try {
      refusal = await transactWrite(documentClient(), command);
    } catch (error) {
      // The same job id sent again with other parameters within 10 minutes (a caller's own retry builds a new
      // envelope): if that earlier call committed this job, this one is done.
      if ((error as { name?: string }).name !== 'IdempotentParameterMismatchException') throw error;
      if (await committedBefore(job.jobId, task.name)) return { ...base, deduplicated: true };
      throw error;
    }
    if (refusal !== undefined) {
      const codes = cancellationCodes(refusal);
      // The job's record or its intent exists: an earlier call under this job id committed (the caller's retry
      // after a lost answer) when the record is this task's. Then the whole transaction applied then.
      if (codes[items.length] === 'ConditionalCheckFailed' || codes[items.length + 1] === 'ConditionalCheckFailed') {
        if (await committedBefore(job.jobId, task.name)) return { ...base, deduplicated: true };
        throw new InvalidEnqueueOptionError(`job id ${job.jobId} is another task's, or was enqueued outside the outbox; nothing was written`);
      }
      throw new OutboxTransactionRefusedError(codes.slice(0, items.length), refusal);
    }
    if (eager()) return runEagerly(task, { ...p, job: undefined });
    return base;
  }

  return {
    enqueue: (task, input, o = {}) => sendOne(task as AnyTask, task.name, input, o),
    enqueueWith: (items, task, input, o = {}) => enqueueWith(items, task as AnyTask, input, o),
    getJob: (jobId) => store.get(jobId),
    cancel: (jobId) => store.cancel(jobId),
    cancelByTag: async (tag) => {
      const ids = [...new Set(await store.jobsTagged(tag))];
      const done = await mapLimit(ids, STOPS_IN_FLIGHT, (jobId) => store.requestStop(jobId));
      const of = (wanted: readonly string[]) => ids.filter((_, i) => wanted.includes(done[i] ?? ''));
      return { tag, cancelled: of(['cancelled']), stopping: of(['stopping']), finished: of(['finished', 'not-found']) };
    },
    sendTask: (name, input, o = {}) => sendOne(options.registry?.get(name), name, input, o),
    enqueueMany: async (task, inputs, o = {}) => {
      const prepared = inputs.map((input) => prepare(task as AnyTask, task.name, input, o));
      if (eager()) return Promise.all(prepared.map((p) => runEagerly(task as AnyTask, p)));
      return sendPrepared(prepared);
    },
    sendTasks: async (entries) => {
      const prepared = entries.map((e) => prepare(options.registry?.get(e.name), e.name, e.input, e.options ?? {}));
      if (eager()) return Promise.all(prepared.map((p) => runEagerly(options.registry?.get(p.envelope.task), p)));
      return sendPrepared(prepared);
    },
  };
}

/** Items of a caller's in `enqueueWith`: a transaction's 100, less the job's record and its intent. */
const MAX_OUTBOX_ITEMS = 98;
/** The largest message an outbox intent carries: a DynamoDB item's 400 KB, less room for its other attributes. */
const MAX_OUTBOX_BODY_BYTES = 350 * 1024;

/** The longest entity tag. */
const MAX_TAG_LENGTH = 200;
/** Jobs of one `cancelByTag` stopped at once. */
const STOPS_IN_FLIGHT = 8;

/** SendMessageBatch calls of one `enqueueMany` or `sendTasks` in flight at once. */
const BATCHES_IN_FLIGHT = 8;

/** Groups messages for SendMessageBatch: one queue, at most 10 entries and 1 MiB of bodies per call. */
function batches(prepared: readonly Prepared[]): { p: Prepared; index: number }[][] {
  const out: { p: Prepared; index: number }[][] = [];
  const open = new Map<string, { entries: { p: Prepared; index: number }[]; bytes: number }>();
  prepared.forEach((p, index) => {
    const size = Buffer.byteLength(p.body, 'utf8');
    let current = open.get(p.queue);
    if (current !== undefined && (current.entries.length === 10 || current.bytes + size > SQS_MAX_MESSAGE_BYTES)) {
      out.push(current.entries);
      current = undefined;
    }
    if (current === undefined) {
      current = { entries: [], bytes: 0 };
      open.set(p.queue, current);
    }
    current.entries.push({ p, index });
    current.bytes += size;
  });
  for (const { entries } of open.values()) if (entries.length > 0) out.push(entries);
  return out;
}

/** The client handlers use by default: DynamoDB job store on the `state` table, no registry. */
export const jobs: JobClient = createJobClient();
