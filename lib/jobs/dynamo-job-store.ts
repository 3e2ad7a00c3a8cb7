/**
 * {@link JobStore} on DynamoDB: one item per tracked job in the state table,
 * moved between statuses only by conditional writes, so concurrent or
 * duplicate deliveries cannot run an attempt twice or overwrite a later state.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { applied, transactWrite } from '../aws/conditional-write.js';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import { randomUUID } from 'node:crypto';
import { mapLimit } from '../util/map-limit.js';
import { JobIdInUseError, JobNotCancellableError, JobNotFoundError } from './errors.js';
import {
  JobStatus,
  NOT_FOUND,
  type ClaimResult,
  type CompletionWrite,
  type CompletionWrites,
  type JobError,
  type JobLookup,
  type JobRecord,
  type JobStore,
  type NewJob,
  type StopRequest,
  type SuccessRecorded,
} from './job-state.js';

/** Items of one TransactWriteItems: DynamoDB's limit. */
const TRANSACTION_ITEMS = 100;
/** Transactions of `createMany` in flight at once. */
const CREATE_CHUNKS_IN_FLIGHT = 4;

/** Key and attribute names of job items, in one place. */
export const JOB_ITEM = {
  pk: 'pk',
  sk: 'sk',
  skValue: 'JOB',
  ttl: 'expiresAt',
  pkOf: (jobId: string) => `JOB#${jobId}`,
} as const;

/** A tagged job's entry under its tag: one partition per tag, one item per job (the same item however often it is filed), so `jobsTagged` is one query. */
export const TAG_ITEM = {
  pkOf: (tag: string) => `TAG#${tag}`,
  skOf: (jobId: string) => `JOB#${jobId}`,
} as const;

/** Puts of tag entries in flight at once (createMany). */
const TAG_PUTS_IN_FLIGHT = 8;
/** Rounds of `requestStop` when the job moves between QUEUED and RUNNING under it. */
const STOP_ROUNDS = 4;

export class DynamoJobStore implements JobStore {
  private readonly state: StateTable;

  constructor(options: StateTableOptions = {}) {
    this.state = new StateTable(options);
  }

  private key(jobId: string) {
    return { [JOB_ITEM.pk]: JOB_ITEM.pkOf(jobId), [JOB_ITEM.sk]: JOB_ITEM.skValue };
  }

  private expiresAt(ttlMs: number): number {
    return Math.ceil((this.state.now() + ttlMs) / 1000);
  }

  private newItem(job: NewJob): Record<string, unknown> {
    return {
      ...this.key(job.jobId),
      jobId: job.jobId,
      task: job.task,
      queue: job.queue,
      status: JobStatus.QUEUED,
      attempts: 0,
      maxAttempts: job.maxAttempts,
      enqueuedAt: job.enqueuedAt,
      traceId: job.traceId,
      ...(job.tag !== undefined && { tag: job.tag }),
      [JOB_ITEM.ttl]: this.expiresAt(job.ttlMs),
    };
  }

  tagWrite(job: NewJob & { readonly tag: string }): CompletionWrite {
    // Unconditional: writing the same entry again (a retry, a re-drive) changes nothing.
    return {
      Put: {
        TableName: this.state.name,
        Item: { pk: TAG_ITEM.pkOf(job.tag), sk: TAG_ITEM.skOf(job.jobId), jobId: job.jobId, [JOB_ITEM.ttl]: this.expiresAt(job.ttlMs) },
      },
    };
  }

  /** Files tagged jobs under their tags, before their records: a tag never misses a recorded job. */
  private async fileTags(jobs: readonly NewJob[]): Promise<void> {
    const tagged = jobs.filter((j): j is NewJob & { tag: string } => j.tag !== undefined);
    await mapLimit(tagged, TAG_PUTS_IN_FLIGHT, (job) => this.state.db.send(new PutCommand(this.tagWrite(job).Put as ConstructorParameters<typeof PutCommand>[0])));
  }

  async jobsTagged(tag: string): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.state.db.send(
        new QueryCommand({
          TableName: this.state.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': TAG_ITEM.pkOf(tag) },
          ProjectionExpression: 'jobId',
          // Strongly consistent: a job tagged before this call is always seen.
          ConsistentRead: true,
          ...(start !== undefined && { ExclusiveStartKey: start }),
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.jobId));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return ids;
  }

  async requestStop(jobId: string): Promise<StopRequest> {
    for (let round = 0; round < STOP_ROUNDS; round++) {
      let status: string;
      try {
        await this.cancel(jobId);
        return 'cancelled';
      } catch (error) {
        if (error instanceof JobNotFoundError) return 'not-found';
        if (!(error instanceof JobNotCancellableError)) throw error;
        status = error.status;
      }
      if (status !== JobStatus.RUNNING) return 'finished';
      const asked = await applied(
        this.state.db.send(
          new UpdateCommand({
            TableName: this.state.name,
            Key: this.key(jobId),
            // Keeps the first request's time when asked again (a retry of this very write, or a second cancelByTag).
            UpdateExpression: 'SET stopRequestedAt = if_not_exists(stopRequestedAt, :now)',
            // Admits a RUNNING job; refused, it moved on (finished, or back to QUEUED for a retry): look again.
            ConditionExpression: '#status = :running',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':running': JobStatus.RUNNING, ':now': new Date(this.state.now()).toISOString() },
          }),
        ),
      );
      if (asked) return 'stopping';
    }
    throw new Error(`job ${jobId} kept moving between QUEUED and RUNNING; its stop was not recorded (try again)`);
  }

  /** Ends as CANCELLED a job a stop was asked of whose attempt is over (its worker died, or it failed), so it is not run again. */
  private async endStopped(jobId: string, now: number): Promise<JobRecord> {
    try {
      const { Attributes } = await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(jobId),
          UpdateExpression: 'SET #status = :cancelled, finishedAt = :now REMOVE leaseUntil',
          // Admits a job asked to stop that is not running now (queued, or its running attempt's lease lapsed).
          ConditionExpression: 'attribute_exists(stopRequestedAt) AND (#status = :queued OR (#status = :running AND leaseUntil < :now))',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': JobStatus.CANCELLED, ':queued': JobStatus.QUEUED, ':running': JobStatus.RUNNING, ':now': new Date(now).toISOString() },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || error.Item === undefined) throw error;
      // Ended meanwhile (by this write's own earlier try, or otherwise): as it stands.
      return toRecord(unmarshall(error.Item));
    }
  }

  async stopAttempt(jobId: string, attempt: number): Promise<boolean> {
    return this.finishAttempt(jobId, attempt, {
      UpdateExpression: 'SET #status = :cancelled, finishedAt = :now REMOVE leaseUntil',
      ExpressionAttributeValues: { ':cancelled': JobStatus.CANCELLED },
    });
  }

  createWrite(job: NewJob): CompletionWrite {
    return { Put: { TableName: this.state.name, Item: this.newItem(job), ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } };
  }

  async create(job: NewJob): Promise<boolean> {
    await this.fileTags([job]);
    return this.createRecord(job);
  }

  private async createRecord(job: NewJob): Promise<boolean> {
    try {
      await this.state.db.send(
        new PutCommand({
          TableName: this.state.name,
          Item: this.newItem(job),
          // Admits only a new job id, never overwriting a record. Refused: the
          // record of this job exists (this create's first try, its response lost;
          // or the job enqueued again under its id), which is kept as it stands;
          // or the id names another task's job, a bug upstream.
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || error.Item === undefined) throw error;
      const existing = unmarshall(error.Item);
      if (existing.task !== job.task) throw new JobIdInUseError(job.jobId, String(existing.task));
      return false;
    }
  }

  /**
   * One transaction of conditional puts per 100 jobs: a chunk is written whole
   * or not at all. A chunk refused because some of its records exist (jobs
   * enqueued again under their ids: a re-drive), or naming a job twice, is
   * written again job by job, so each job learns whether this call created it.
   * If any chunk fails, the records this call created are discarded again and
   * the error goes up: none is left for a job that will not be sent.
   */
  async createMany(jobs: readonly NewJob[]): Promise<boolean[]> {
    const chunks: NewJob[][] = [];
    for (let i = 0; i < jobs.length; i += TRANSACTION_ITEMS) chunks.push(jobs.slice(i, i + TRANSACTION_ITEMS));
    const created = new Set<string>();
    await this.fileTags(jobs);
    try {
      const perChunk = await mapLimit(chunks, CREATE_CHUNKS_IN_FLIGHT, async (chunk) => {
        const isNew = await this.createChunk(chunk);
        chunk.forEach((job, i) => isNew[i] && created.add(job.jobId));
        return isNew;
      });
      return perChunk.flat();
    } catch (error) {
      // mapLimit lets the chunks in flight finish first: `created` holds every record this call made.
      await Promise.all([...created].map((jobId) => this.discard(jobId)));
      throw error;
    }
  }

  private async createChunk(chunk: readonly NewJob[]): Promise<boolean[]> {
    const one = async () => {
      const isNew: boolean[] = [];
      for (const job of chunk) isNew.push(await this.createRecord(job));
      return isNew;
    };
    // One item may appear in a transaction only once.
    if (chunk.length === 1 || new Set(chunk.map((j) => j.jobId)).size < chunk.length) return one();
    const refusal = await transactWrite(
      this.state.db,
      new TransactWriteCommand({
        TransactItems: chunk.map((job) => ({
          // Admits only a new job id, as create() does; refused, the chunk is written again job by job.
          Put: { TableName: this.state.name, Item: this.newItem(job), ConditionExpression: 'attribute_not_exists(pk)' },
        })),
      }),
    );
    return refusal === undefined ? chunk.map(() => true) : one();
  }

  async discard(jobId: string): Promise<void> {
    await applied(
      this.state.db.send(
        new DeleteCommand({
          TableName: this.state.name,
          Key: this.key(jobId),
          // Admits a record no worker has touched; a job some worker already claimed is kept.
          ConditionExpression: '#status = :queued AND attempts = :zero',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': JobStatus.QUEUED, ':zero': 0 },
        }),
      ),
    );
  }

  async claim(job: NewJob, attempt: number, leaseMs: number): Promise<ClaimResult> {
    const now = this.state.now();
    // Names this claim, so that a retry of it (its response lost) is told from another delivery's.
    const claimId = randomUUID();
    try {
      const { Attributes } = await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(job.jobId),
          UpdateExpression:
            'SET #status = :running, attempts = :attempt, leaseUntil = :lease, startedAt = :now, ' +
            'jobId = :jobId, task = if_not_exists(task, :task), queue = if_not_exists(queue, :queue), ' +
            'maxAttempts = :maxAttempts, enqueuedAt = if_not_exists(enqueuedAt, :enqueuedAt), ' +
            'traceId = if_not_exists(traceId, :traceId), #ttl = if_not_exists(#ttl, :ttl), claimId = :claimId REMOVE nextAttemptAt',
          // Admits: no record yet (its TTL passed, or it was enqueued untracked by
          // an older sender); QUEUED and not yet run at this attempt (first run,
          // or a retry after a failed attempt); RUNNING whose lease has lapsed
          // (the worker died) at a later attempt. Rejects: a finished job
          // (SUCCEEDED / FAILED / CANCELLED), a live RUNNING claim (a duplicate
          // delivery), and a stale copy of an attempt already made. The caller
          // reads the old item to tell "finished" from "busy".
          // A job a stop was asked of is not claimed again (after its worker died): it ends CANCELLED below.
          ConditionExpression:
            'attribute_not_exists(pk) OR (attempts < :attempt AND attribute_not_exists(stopRequestedAt) AND (#status = :queued OR (#status = :running AND leaseUntil < :now)))',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': JOB_ITEM.ttl },
          ExpressionAttributeValues: {
            ':running': JobStatus.RUNNING,
            ':queued': JobStatus.QUEUED,
            ':attempt': attempt,
            ':lease': new Date(now + leaseMs).toISOString(),
            ':now': new Date(now).toISOString(),
            ':jobId': job.jobId,
            ':task': job.task,
            ':queue': job.queue,
            ':maxAttempts': job.maxAttempts,
            ':enqueuedAt': job.enqueuedAt,
            ':traceId': job.traceId,
            ':ttl': this.expiresAt(job.ttlMs),
            ':claimId': claimId,
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claimed: true, record: toRecord(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) || error.Item === undefined) throw error;
      const old = unmarshall(error.Item);
      const record = toRecord(old);
      if (old.claimId === claimId) return { claimed: true, record }; // this very claim, retried by the SDK
      if (record.stopRequestedAt !== undefined && (record.status === JobStatus.QUEUED || (record.status === JobStatus.RUNNING && (record.leaseUntil ?? '') < new Date(now).toISOString()))) {
        return { claimed: false, reason: 'finished', record: await this.endStopped(job.jobId, now) };
      }
      const finished = record.status === JobStatus.SUCCEEDED || record.status === JobStatus.FAILED || record.status === JobStatus.CANCELLED;
      return { claimed: false, reason: finished ? 'finished' : 'busy', record };
    }
  }

  async succeed(jobId: string, attempt: number, result: unknown, ttlMs: number, together?: CompletionWrites): Promise<SuccessRecorded> {
    const set = 'SET #status = :succeeded, finishedAt = :now, #result = :result, #ttl = :ttl';
    const success = {
      UpdateExpression: `${set} REMOVE leaseUntil, lastError`,
      ExpressionAttributeNames: { '#result': 'result', '#ttl': JOB_ITEM.ttl },
      ExpressionAttributeValues: { ':succeeded': JobStatus.SUCCEEDED, ':result': result ?? null, ':ttl': this.expiresAt(ttlMs) },
    };
    if (together === undefined || together.writes.length === 0) return (await this.finishAttempt(jobId, attempt, success)) ? 'together' : 'refused';
    const update = this.attemptUpdate(jobId, attempt, {
      ...success,
      // `finishedBy` names this attempt's write, the same on every try of it, so a refusal by its own earlier try is told from another's.
      UpdateExpression: `${set}, finishedBy = :finishedBy REMOVE leaseUntil, lastError`,
      ExpressionAttributeValues: { ...success.ExpressionAttributeValues, ':finishedBy': together.writeId },
    });
    let refusal: TransactionCanceledException | undefined;
    try {
      refusal = await transactWrite(
        this.state.db,
        new TransactWriteCommand({ TransactItems: [{ Update: { ...update, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } }, ...together.writes] }),
      );
    } catch (error) {
      // A write of `together` DynamoDB cannot store (an item over 400 KB): the success stands alone, and the caller learns why from its own records.
      const reasons = error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
      if (!reasons.slice(1).some((r) => r.Code === 'ValidationError') || (reasons[0]?.Code ?? 'None') !== 'None') throw error;
      return (await this.finishAttempt(jobId, attempt, success)) ? 'alone' : 'refused';
    }
    if (refusal === undefined) return 'together';
    const job = refusal.CancellationReasons?.[0];
    if (job?.Code === 'ConditionalCheckFailed') {
      // The job's own condition: this attempt's write, applied before with its response lost, or superseded.
      return job.Item !== undefined && unmarshall(job.Item).finishedBy === together.writeId ? 'together' : 'refused';
    }
    // Only `together` was refused (the workflow moved on without this member: cancelled, failed): the success stands alone.
    return (await this.finishAttempt(jobId, attempt, success)) ? 'alone' : 'refused';
  }

  async fail(jobId: string, attempt: number, error: JobError, final: boolean, nextAttemptAt?: Date, cause: 'non-retryable' | 'attempts-exhausted' = 'attempts-exhausted'): Promise<'recorded' | 'stopped'> {
    const summary = { name: error.name, message: error.message };
    if (final) {
      await this.finishAttempt(jobId, attempt, {
        UpdateExpression: 'SET #status = :failed, finishedAt = :now, lastError = :error, failCause = :cause REMOVE leaseUntil',
        ExpressionAttributeValues: { ':failed': JobStatus.FAILED, ':error': summary, ':cause': cause },
      });
      return 'recorded';
    }
    try {
      await this.state.db.send(
        new UpdateCommand({
          ...this.attemptUpdate(jobId, attempt, {
            UpdateExpression: 'SET #status = :queued, lastError = :error, lastFailedAt = :now, nextAttemptAt = :next REMOVE leaseUntil',
            ExpressionAttributeValues: { ':queued': JobStatus.QUEUED, ':error': summary, ':next': (nextAttemptAt ?? new Date(this.state.now())).toISOString() },
          }),
          // Also refused when a stop was asked of this attempt: a job told to stop is not retried (it ends CANCELLED below).
          ConditionExpression: '#status = :running AND attempts = :attempt AND attribute_not_exists(stopRequestedAt)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'recorded';
    } catch (thrown) {
      if (!(thrown instanceof ConditionalCheckFailedException)) throw thrown;
      const old = thrown.Item === undefined ? undefined : unmarshall(thrown.Item);
      // This very write, applied and retried by the SDK (its answer lost): the retry is recorded.
      if (old?.status === JobStatus.QUEUED && old.attempts === attempt && old.stopRequestedAt === undefined) return 'recorded';
      if (old?.stopRequestedAt !== undefined && old.status === JobStatus.RUNNING && old.attempts === attempt) {
        await this.stopAttempt(jobId, attempt);
        return 'stopped';
      }
      // Superseded (a later attempt owns the record) or already ended: nothing to write.
      return old?.status === JobStatus.CANCELLED ? 'stopped' : 'recorded';
    }
  }

  /**
   * Ends attempt `attempt`. Fenced by the attempt number: only the delivery
   * that claimed this attempt may record its outcome. A delivery whose lease
   * lapsed and whose job was claimed again by a later attempt writes nothing.
   */
  private async finishAttempt(jobId: string, attempt: number, update: AttemptUpdate): Promise<boolean> {
    // Refused: superseded, a later attempt owns the record; nothing to write.
    return applied(this.state.db.send(new UpdateCommand(this.attemptUpdate(jobId, attempt, update))));
  }

  private attemptUpdate(jobId: string, attempt: number, update: AttemptUpdate) {
    return {
      TableName: this.state.name,
      Key: this.key(jobId),
      UpdateExpression: update.UpdateExpression,
      // Admits the RUNNING attempt this caller claimed; rejects a later
      // attempt's claim, a cancelled or finished job, and a missing record.
      ConditionExpression: '#status = :running AND attempts = :attempt',
      ExpressionAttributeNames: { '#status': 'status', ...update.ExpressionAttributeNames },
      ExpressionAttributeValues: {
        ':running': JobStatus.RUNNING,
        ':attempt': attempt,
        ':now': new Date(this.state.now()).toISOString(),
        ...update.ExpressionAttributeValues,
      },
    };
  }

  async markDeadLettered(jobId: string): Promise<void> {
    await applied(
      this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(jobId),
          UpdateExpression: 'SET deadLetteredAt = :now',
          // Admits a FAILED job (its dead letter was just sent); a job redriven meanwhile is left as it is.
          ConditionExpression: '#status = :failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': JobStatus.FAILED, ':now': new Date(this.state.now()).toISOString() },
        }),
      ),
    );
  }

  async requeue(jobId: string): Promise<boolean> {
    return applied(
      this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(jobId),
          UpdateExpression: 'SET #status = :queued, attempts = :zero REMOVE finishedAt, nextAttemptAt, deadLetteredAt, failCause, stopRequestedAt',
          // Admits a FAILED job (its dead letter is going back to the queue);
          // rejects every other state: a job that succeeded, was cancelled or is
          // still queued or running must not be run again by a redrive.
          ConditionExpression: '#status = :failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': JobStatus.QUEUED, ':failed': JobStatus.FAILED, ':zero': 0 },
        }),
      ),
    );
  }

  async cancel(jobId: string): Promise<JobRecord> {
    try {
      const { Attributes } = await this.state.db.send(
        new UpdateCommand({
          TableName: this.state.name,
          Key: this.key(jobId),
          UpdateExpression: 'SET #status = :cancelled, finishedAt = :now',
          // Admits only a QUEUED job (waiting for its first run or a retry);
          // rejects a missing record (NOT_FOUND) and a RUNNING or finished job.
          ConditionExpression: '#status = :queued',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':queued': JobStatus.QUEUED, ':cancelled': JobStatus.CANCELLED, ':now': new Date(this.state.now()).toISOString() },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return toRecord(Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      if (error.Item === undefined) throw new JobNotFoundError(jobId);
      const record = toRecord(unmarshall(error.Item));
      // Cancelled already: by this very cancel (the SDK retried it after its response was lost) or an earlier one.
      if (record.status === JobStatus.CANCELLED) return record;
      throw new JobNotCancellableError(jobId, record.status);
    }
  }

  async get(jobId: string): Promise<JobLookup> {
    const { Item } = await this.state.db.send(new GetCommand({ TableName: this.state.name, Key: this.key(jobId), ConsistentRead: true }));
    // TTL deletion is lazy: an expired record is treated as gone.
    if (Item === undefined || (typeof Item[JOB_ITEM.ttl] === 'number' && (Item[JOB_ITEM.ttl] as number) * 1000 < this.state.now())) {
      return { jobId, status: NOT_FOUND };
    }
    return toRecord(Item);
  }
}

interface AttemptUpdate {
  readonly UpdateExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues: Record<string, unknown>;
}

function toRecord(item: Record<string, unknown>): JobRecord {
  const { pk: _pk, sk: _sk, [JOB_ITEM.ttl]: _ttl, claimId: _claimId, finishedBy: _finishedBy, ...record } = item;
  return record as unknown as JobRecord;
}
