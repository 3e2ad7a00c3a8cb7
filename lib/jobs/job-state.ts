/**
 * Job status: the record a tracked job keeps, its statuses, and the store
 * contract. `dynamo-job-store.ts` implements it on DynamoDB.
 */
import type { TransactItem } from '../aws/conditional-write.js';

/**
 * A write committed together with a job's success, in one transaction (a
 * workflow member's node and its group's counter): both happen or neither.
 * DynamoDB transaction items, in the document client's form.
 */
export type CompletionWrite = TransactItem;

export const JobStatus = {
  QUEUED: 'QUEUED',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type JobStatus = (typeof JobStatus)[keyof typeof JobStatus];

/** What `getJob` answers for an id no record exists for: never "pending". */
export const NOT_FOUND = 'NOT_FOUND' as const;

export interface JobError {
  readonly name: string;
  readonly message: string;
}

export interface JobRecord {
  readonly jobId: string;
  readonly task: string;
  readonly queue: string;
  readonly status: JobStatus;
  /** Attempts started so far. */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly enqueuedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** While RUNNING: when the running attempt's claim lapses (a crashed worker's job can then be claimed again). */
  readonly leaseUntil?: string;
  /** When a retry is due, after a failed attempt. */
  readonly nextAttemptAt?: string;
  readonly lastError?: JobError;
  /** Why a FAILED job failed for good. */
  readonly failCause?: 'non-retryable' | 'attempts-exhausted';
  /** When its dead letter was sent (the worker sends it again on a redelivery until this is set). */
  readonly deadLetteredAt?: string;
  readonly result?: unknown;
  readonly traceId: string;
  /** The entity tag it was enqueued with (`cancelByTag` finds it by this). */
  readonly tag?: string;
  /** When a stop was asked of its running attempt (`cancelByTag`); the task sees it through `stopRequested`. */
  readonly stopRequestedAt?: string;
}

/** What `requestStop` did to one job. */
export type StopRequest =
  /** It was QUEUED (or waiting for a retry), or CANCELLED already: it will not run. */
  | 'cancelled'
  /** It was RUNNING: its attempt is told to stop (it stops where it checks, or finishes). */
  | 'stopping'
  /** It had already ended: nothing to do. */
  | 'finished'
  /** No record of it (expired, or a tag entry whose job was never recorded). */
  | 'not-found';

/** Writes committed with a job's success, and the id that tells this attempt's write from another's (the same on every try of it). */
export interface CompletionWrites {
  readonly writes: readonly CompletionWrite[];
  readonly writeId: string;
}

/** What {@link JobStore.succeed} wrote. */
export type SuccessRecorded = 'together' | 'alone' | 'refused';

export type JobLookup = JobRecord | { readonly jobId: string; readonly status: typeof NOT_FOUND };

/** What a worker's claim of an attempt found. */
export type ClaimResult =
  | { readonly claimed: true; readonly record: JobRecord }
  /** The job ended or was cancelled: the message is done with. */
  | { readonly claimed: false; readonly reason: 'finished'; readonly record: JobRecord }
  /** Another delivery holds a live claim on it: try again when that lapses. */
  | { readonly claimed: false; readonly reason: 'busy'; readonly record: JobRecord };

export interface NewJob {
  readonly jobId: string;
  readonly task: string;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly enqueuedAt: string;
  readonly traceId: string;
  readonly ttlMs: number;
  /** An entity tag (`note:42`): `cancelByTag` finds the job by it. @default none */
  readonly tag?: string;
}

export interface JobStore {
  /**
   * Records a job as QUEUED before its message is sent. Returns false when a
   * record of this job already exists (an earlier write of this very create,
   * retried by the SDK, or the job enqueued again under its id: a re-drive);
   * throws JobIdInUseError when the id names a job of another task.
   */
  create(job: NewJob): Promise<boolean>;
  /**
   * {@link create} for many jobs, in as few write requests as the store allows
   * (DynamoDB: one transaction per 100); per job, whether this call created it.
   */
  createMany(jobs: readonly NewJob[]): Promise<boolean[]>;
  /**
   * {@link create} as one write of a caller's transaction (the outbox's
   * `enqueueWith`): refused, with the transaction, if the job's record exists.
   */
  createWrite(job: NewJob): CompletionWrite;
  /** Removes a record whose message could not be sent, so no QUEUED record outlives a job that never existed. */
  discard(jobId: string): Promise<void>;
  /** Claims attempt `attempt` for a run of at most `leaseMs`; creates the record if it is missing. */
  claim(job: NewJob, attempt: number, leaseMs: number): Promise<ClaimResult>;
  /**
   * Records attempt `attempt`'s success, with `together.writes` in the same
   * transaction. `together`: the success and those writes were recorded (now,
   * or by an earlier call with the same `writeId`, its response lost); `alone`:
   * the writes were refused by their own conditions (or could not be stored),
   * and the success was recorded without them; `refused`: a later attempt owns
   * the record, or the job had ended, and nothing was written.
   */
  succeed(jobId: string, attempt: number, result: unknown, ttlMs: number, together?: CompletionWrites): Promise<SuccessRecorded>;
  /**
   * Records a failed attempt: FAILED (for `cause`) when `final`, else QUEUED
   * again until `nextAttemptAt`; but a job a stop was asked of is not queued
   * again: it ends CANCELLED (`stopped`), atomically with the check.
   */
  fail(jobId: string, attempt: number, error: JobError, final: boolean, nextAttemptAt?: Date, cause?: 'non-retryable' | 'attempts-exhausted'): Promise<'recorded' | 'stopped'>;
  /** Records that a FAILED job's dead letter was sent. */
  markDeadLettered(jobId: string): Promise<void>;
  /** FAILED → QUEUED with no attempts made, for a dead letter sent back to its queue; false if the job is not FAILED. */
  requeue(jobId: string): Promise<boolean>;
  /** QUEUED → CANCELLED (a job already CANCELLED is returned as it is); throws JobNotFoundError or JobNotCancellableError otherwise. */
  cancel(jobId: string): Promise<JobRecord>;
  get(jobId: string): Promise<JobLookup>;
  /**
   * The write that files a tagged job under its tag, for a caller's
   * transaction (`enqueueWith`). `create` and `createMany` write it themselves,
   * before the job's record: an entry whose job was never recorded is skipped.
   */
  tagWrite(job: NewJob & { readonly tag: string }): CompletionWrite;
  /** Ids of the jobs filed under `tag` (a strongly consistent read), oldest first. */
  jobsTagged(tag: string): Promise<string[]>;
  /** Cancels the job if it has not started; asks its running attempt to stop if it has. */
  requestStop(jobId: string): Promise<StopRequest>;
  /** Ends attempt `attempt` as CANCELLED: it stopped on request. False if the attempt no longer owns the record. */
  stopAttempt(jobId: string, attempt: number): Promise<boolean>;
}
