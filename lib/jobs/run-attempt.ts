/**
 * One attempt of one job: claim it (tracked jobs), validate the input, run the
 * task under its timeout, record the outcome, and decide what happens next.
 * The SQS worker and eager mode both run jobs through this one function, so
 * they share validation, retry and error semantics.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { JobEnvelope } from './envelope.js';
import { JobStoppedError, ResultNotStorableError, TaskTimeoutError } from './errors.js';
import type { CompletionWrite, JobStatus, JobStore, NewJob } from './job-state.js';
import { decideRetry } from './retry-policy.js';
import { parseTaskInput, type AnyTask } from './task.js';
import { once } from '../coordination/idempotency.js';
import { millis } from '../app/duration.js';
import { DYNAMODB_MAX_ITEM_BYTES, storability } from '../aws/item-size.js';
import { retrying } from '../util/retrying.js';

/** Room a stored result leaves in its item for the record's other attributes (a job's, a workflow node's). */
const RECORD_RESERVE_BYTES = 16 * 1024;

/** The most a result may take as a DynamoDB attribute, stored with its job or workflow node. */
export const MAX_RESULT_BYTES = DYNAMODB_MAX_ITEM_BYTES - RECORD_RESERVE_BYTES;

/**
 * How long a task that timed out gets to settle after its signal is aborted,
 * so that one which heeds it can record what it must (a single-flight claim
 * given up) before the attempt ends. Within the worker's invocation margin.
 */
export const TIMEOUT_GRACE_MS = 1_000;

/**
 * Writes of a finished attempt's outcome tried again (beyond the SDK's own
 * retries) before the error goes up: a task that ran must not run again
 * because its record could not be written for a moment.
 */
const OUTCOME_WRITE_TRIES = 4;

/** Throws {@link ResultNotStorableError} when `result` cannot be stored with its record. */
export function assertStorableResult(task: string, result: unknown): void {
  const verdict = storability(result, 'result', MAX_RESULT_BYTES);
  if (!verdict.storable) throw new ResultNotStorableError(task, verdict.reason);
}

export type AttemptOutcome =
  /** `completed`: the request's completion writes were committed with the success. */
  | { readonly kind: 'succeeded'; readonly result: unknown; readonly completed: boolean }
  /** The job had ended (a duplicate delivery) or was cancelled: nothing ran. */
  | {
      readonly kind: 'skipped';
      readonly status: JobStatus;
      readonly result?: unknown;
      readonly lastError?: { readonly name: string; readonly message: string };
      /** For a FAILED job: why, and whether its dead letter is known sent (else the worker sends it again). */
      readonly failCause?: 'non-retryable' | 'attempts-exhausted';
      readonly deadLettered?: boolean;
      readonly attempts?: number;
    }
  /** The task stopped on request (`cancelByTag`): the job is CANCELLED, its message done with. */
  | { readonly kind: 'stopped'; readonly error: JobStoppedError }
  /** Another delivery is running this job: look again after `retryInMs`. */
  | { readonly kind: 'busy'; readonly retryInMs: number }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly error: Error }
  | { readonly kind: 'failed'; readonly error: Error; readonly cause: 'non-retryable' | 'attempts-exhausted' };

export interface AttemptRequest {
  readonly task: AnyTask;
  readonly envelope: JobEnvelope;
  readonly queue: string;
  /** 1-based attempt number. */
  readonly attempt: number;
  /** Longest this attempt may run (the task's timeout, shortened to fit the invocation). */
  readonly timeoutMs: number;
  /** The job status store; used only when the envelope says the job is tracked. */
  readonly store: JobStore;
  readonly eager: boolean;
  /**
   * Writes to commit in one transaction with a tracked job's success (a
   * workflow member's node and its group's counter); none for an empty list.
   * @default none
   */
  readonly completion?: (result: unknown) => readonly CompletionWrite[];
  readonly lambda?: Context;
  readonly random?: () => number;
}

/** Runs one attempt. Throws only for infrastructure failures (the store unreachable); task errors become outcomes. */
export async function runAttempt(request: AttemptRequest): Promise<AttemptOutcome> {
  const { task, envelope, attempt, store } = request;
  const tracked = envelope.tracked;
  const job: NewJob = {
    jobId: envelope.jobId,
    task: envelope.task,
    queue: request.queue,
    maxAttempts: task.retry.maxAttempts,
    enqueuedAt: envelope.enqueuedAt,
    traceId: envelope.traceId,
    ttlMs: task.resultTtlMs,
  };

  // Only a tagged job can be asked to stop (cancelByTag finds jobs by their tag); others never read their record for it.
  let stoppable = false;
  if (tracked) {
    const claim = await store.claim(job, attempt, request.timeoutMs + 5_000);
    if (!claim.claimed) {
      if (claim.reason === 'finished') {
        const r = claim.record;
        return {
          kind: 'skipped',
          status: r.status,
          result: r.result,
          attempts: r.attempts,
          deadLettered: r.deadLetteredAt !== undefined,
          ...(r.lastError && { lastError: r.lastError }),
          ...(r.failCause && { failCause: r.failCause }),
        };
      }
      const until = Date.parse(claim.record.leaseUntil ?? claim.record.nextAttemptAt ?? '') - Date.now();
      return { kind: 'busy', retryInMs: Number.isFinite(until) ? Math.max(1_000, until) : 1_000 };
    }
    stoppable = claim.record.tag !== undefined;
  }
  const stopRequested = async (): Promise<boolean> => {
    if (!stoppable) return false;
    const record = await store.get(envelope.jobId);
    return record.status !== 'NOT_FOUND' && record.stopRequestedAt !== undefined;
  };

  let result: unknown;
  try {
    const input: unknown = parseTaskInput(task, envelope.input);
    const idempotencyKey = task.idempotencyKey?.(input);
    result = await withTimeout(task, request.timeoutMs, (signal) => {
      const run = () => task.run(input, {
        jobId: envelope.jobId,
        attempt,
        maxAttempts: task.retry.maxAttempts,
        traceId: envelope.traceId,
        enqueuedAt: envelope.enqueuedAt,
        signal,
        eager: request.eager,
        willRetry: (error) => decideRetry(task.retry, error, attempt, () => 0).retry,
        stopRequested,
        stopIfRequested: async () => {
          if (await stopRequested()) throw new JobStoppedError(envelope.jobId);
        },
        ...(request.lambda && { lambda: request.lambda }),
      });
      if (idempotencyKey === undefined) return run();
      return once(`${task.name}:${idempotencyKey}`, run, { inProgressFor: millis(request.timeoutMs + TIMEOUT_GRACE_MS + 5_000), resultName: task.name }).then((o) => o.result);
    });
    // The task ran: from here on nothing may make it run again. A result that
    // cannot be stored fails the job for good (checked before any write), and
    // the success is written with retries of its own.
    assertStorableResult(task.name, result);
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const decision = decideRetry(task.retry, error, attempt, request.random);
    // Stopped on request: ended, not retried.
    if (thrown instanceof JobStoppedError) {
      if (tracked) await persistOutcome(() => store.stopAttempt(envelope.jobId, attempt));
      return { kind: 'stopped', error: thrown };
    }
    const summary = { name: error.name, message: error.message };
    if (decision.retry) {
      // Not queued again if a stop was asked of it meanwhile (the store checks that in the same write).
      const recorded = tracked ? await persistOutcome(() => store.fail(envelope.jobId, attempt, summary, false, new Date(Date.now() + decision.delayMs))) : 'recorded';
      if (recorded === 'stopped') return { kind: 'stopped', error: new JobStoppedError(envelope.jobId) };
      return { kind: 'retry', delayMs: decision.delayMs, error };
    }
    if (tracked) await persistOutcome(() => store.fail(envelope.jobId, attempt, summary, true, undefined, decision.reason));
    return { kind: 'failed', error, cause: decision.reason };
  }
  if (!tracked) return { kind: 'succeeded', result, completed: false };
  const writes = request.completion?.(result) ?? [];
  // One id for every try of this attempt's success: a try refused by an earlier one's write (its response lost) knows it.
  const together = { writes, writeId: randomUUID() };
  const recorded = await persistOutcome(() => store.succeed(envelope.jobId, attempt, result, task.resultTtlMs, together));
  return { kind: 'succeeded', result, completed: writes.length > 0 && recorded === 'together' };
}

/** Writes an attempt's outcome, beyond the SDK's own retries; if it still fails the error goes up and SQS delivers the message again. */
const persistOutcome = <T>(write: () => Promise<T>) => retrying(write, { tries: OUTCOME_WRITE_TRIES });

/**
 * Runs `fn`; after `timeoutMs` aborts its signal and, once `fn` settles or
 * {@link TIMEOUT_GRACE_MS} passes (whichever is first), rejects with
 * {@link TaskTimeoutError}, whatever `fn` settled with. A task that heeds its
 * signal thus ends (and cleans up: stops its timers, gives up its claims)
 * inside its own attempt; a result that comes after the timeout is dropped.
 */
async function withTimeout<T>(task: AnyTask, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let grace: NodeJS.Timeout | undefined;
  let timedOut = false;
  const run = fn(controller.signal);
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      const error = new TaskTimeoutError(task.name, timeoutMs);
      controller.abort(error);
      grace = setTimeout(() => reject(error), TIMEOUT_GRACE_MS);
      run.then(
        () => reject(error),
        () => reject(error),
      );
    }, timeoutMs);
  });
  try {
    // Before the timeout, the task's own outcome; after it, the timeout, once the task settled or its grace ran out.
    return await Promise.race([run.then((value) => (timedOut ? expired : value), (error: unknown) => (timedOut ? expired : Promise.reject(error as Error))), expired]);
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
  }
}
