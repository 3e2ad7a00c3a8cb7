/**
 * One attempt of one job: claim it (tracked jobs), validate the input, run the
 * task under its timeout, record the outcome, and decide what happens next.
 * The SQS worker and eager mode both run jobs through this one function, so
 * they share validation, retry and error semantics.
 */
import type { Context } from 'aws-lambda';
import type { JobEnvelope } from './envelope.js';
import { NonRetryableError, TaskTimeoutError } from './errors.js';
import type { JobStatus, JobStore, NewJob } from './job-state.js';
import { decideRetry } from './retry-policy.js';
import { parseTaskInput, type AnyTask } from './task.js';
import { once } from '../coordination/idempotency.js';
import { millis } from '../app/duration.js';

/** DynamoDB's item limit is 400 KB; the rest of a job item needs room too. */
export const MAX_RESULT_BYTES = 350 * 1024;

/** A task's result too large to store with its job. */
export class ResultTooLargeError extends NonRetryableError {
  override readonly name = 'ResultTooLargeError';
  constructor(
    readonly task: string,
    readonly bytes: number,
  ) {
    super(`task "${task}" returned ${bytes} bytes of JSON; a stored result may be at most ${MAX_RESULT_BYTES} bytes (store it elsewhere and return its id)`);
  }
}

export type AttemptOutcome =
  | { readonly kind: 'succeeded'; readonly result: unknown }
  /** The job had ended (a duplicate delivery) or was cancelled: nothing ran. */
  | { readonly kind: 'skipped'; readonly status: JobStatus; readonly result?: unknown; readonly lastError?: { readonly name: string; readonly message: string } }
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

  if (tracked) {
    const claim = await store.claim(job, attempt, request.timeoutMs + 5_000);
    if (!claim.claimed) {
      if (claim.reason === 'finished') {
        return { kind: 'skipped', status: claim.record.status, result: claim.record.result, ...(claim.record.lastError && { lastError: claim.record.lastError }) };
      }
      const until = Date.parse(claim.record.leaseUntil ?? claim.record.nextAttemptAt ?? '') - Date.now();
      return { kind: 'busy', retryInMs: Number.isFinite(until) ? Math.max(1_000, until) : 1_000 };
    }
  }

  try {
    const input: unknown = parseTaskInput(task, envelope.input);
    const idempotencyKey = task.idempotencyKey?.(input);
    const result = await withTimeout(task, request.timeoutMs, (signal) => {
      const run = () => task.run(input, {
        jobId: envelope.jobId,
        attempt,
        maxAttempts: task.retry.maxAttempts,
        traceId: envelope.traceId,
        enqueuedAt: envelope.enqueuedAt,
        signal,
        eager: request.eager,
        willRetry: (error) => decideRetry(task.retry, error, attempt, () => 0).retry,
        ...(request.lambda && { lambda: request.lambda }),
      });
      if (idempotencyKey === undefined) return run();
      return once(`${task.name}:${idempotencyKey}`, run, { inProgressFor: millis(request.timeoutMs + 5_000) }).then((o) => o.result);
    });
    if (tracked) {
      const bytes = Buffer.byteLength(JSON.stringify(result ?? null), 'utf8');
      if (bytes > MAX_RESULT_BYTES) throw new ResultTooLargeError(task.name, bytes);
      await store.succeed(envelope.jobId, attempt, result, task.resultTtlMs);
    }
    return { kind: 'succeeded', result };
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const decision = decideRetry(task.retry, error, attempt, request.random);
    const summary = { name: error.name, message: error.message };
    if (decision.retry) {
      if (tracked) await store.fail(envelope.jobId, attempt, summary, false, new Date(Date.now() + decision.delayMs));
      return { kind: 'retry', delayMs: decision.delayMs, error };
    }
    if (tracked) await store.fail(envelope.jobId, attempt, summary, true);
    return { kind: 'failed', error, cause: decision.reason };
  }
}

/** Runs `fn`, rejecting with {@link TaskTimeoutError} after `timeoutMs` and aborting its signal. */
async function withTimeout<T>(task: AnyTask, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new TaskTimeoutError(task.name, timeoutMs);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
