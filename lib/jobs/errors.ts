/**
 * One error class per failure mode of the job system, each carrying its facts.
 * Task authors steer the worker with two of them: {@link NonRetryableError}
 * (straight to FAILED and the dead-letter queue) and {@link RetryAfterError}
 * (retry after a delay the task chooses).
 */

/** Thrown by a task for a failure no retry can fix (bad data, a permanent refusal). */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
}

/** Thrown by a task to be retried after `delayMs` (e.g. a rate limit's Retry-After), within its max attempts. */
export class RetryAfterError extends Error {
  override readonly name = 'RetryAfterError';
  constructor(
    readonly delayMs: number,
    message = `retry requested in ${delayMs} ms`,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError(`RetryAfterError delay must be a non-negative number of ms (got ${delayMs})`);
  }
}

/** Input that does not match the task's schema: refused at enqueue, dead-lettered in the worker. */
export class InvalidTaskInputError extends NonRetryableError {
  override readonly name = 'InvalidTaskInputError';
  constructor(
    readonly task: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(`invalid input for task "${task}": ${issues.map((i) => `${i.path || '(input)'}: ${i.message}`).join('; ')}`);
  }
}

/** A message naming a task the worker does not have. */
export class UnknownTaskError extends NonRetryableError {
  override readonly name = 'UnknownTaskError';
  constructor(
    readonly task: string,
    known: readonly string[],
  ) {
    super(`no task "${task}" is registered on this worker (known: ${known.join(', ') || 'none'})`);
  }
}

/** A task that ran past its timeout. Retryable: the next attempt may be faster. */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';
  constructor(
    readonly task: string,
    readonly timeoutMs: number,
  ) {
    super(`task "${task}" timed out after ${timeoutMs} ms`);
  }
}

/** `getJob`-style lookups return NOT_FOUND; operations that need the job throw this. */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  constructor(readonly jobId: string) {
    super(`no job ${jobId} is known (untracked jobs, and jobs whose record expired, are not stored)`);
  }
}

/** `cancel` on a job that already started or ended. */
export class JobNotCancellableError extends Error {
  override readonly name = 'JobNotCancellableError';
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`job ${jobId} is ${status}; only a QUEUED job can be cancelled`);
  }
}

/**
 * Thrown by a task that was asked to stop (`cancelByTag` reached it while it
 * ran; see `TaskContext.stopIfRequested`). The job ends CANCELLED, with no
 * retry and no dead letter; what the task did before it stopped stands.
 */
export class JobStoppedError extends Error {
  override readonly name = 'JobStoppedError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} stopped: a stop was requested while it ran`);
  }
}

/** Some messages of an `enqueueMany` were refused by SQS; the others were sent. */
export class EnqueueBatchError extends Error {
  override readonly name = 'EnqueueBatchError';
  constructor(
    readonly failed: readonly { index: number; jobId: string; code: string; message: string }[],
    readonly sentJobIds: readonly string[],
  ) {
    super(
      `${failed.length} of ${failed.length + sentJobIds.length} jobs were not enqueued: ` +
        failed.map((f) => `#${f.index} ${f.code} ${f.message}`).join('; '),
    );
  }
}

/** An enqueue option that the configuration cannot honour. */
export class InvalidEnqueueOptionError extends Error {
  override readonly name = 'InvalidEnqueueOptionError';
}

/**
 * A task finished, but its result cannot be stored (not marshallable for
 * DynamoDB, or too large once marshalled). Its effect has happened, so the
 * job is not run again: it fails for good, with this reason.
 */
export class ResultNotStorableError extends NonRetryableError {
  override readonly name = 'ResultNotStorableError';
  constructor(
    readonly task: string,
    readonly reason: string,
  ) {
    super(`task "${task}" finished, but its result cannot be stored: ${reason}. The task is not run again (its effect happened); return plain JSON (strings, finite numbers, booleans, null, arrays, objects) small enough to store, or store the data elsewhere and return its id`);
  }
}

/** A job id already names a job of another task: ids are reused only to enqueue the same job again. */
export class JobIdInUseError extends Error {
  override readonly name = 'JobIdInUseError';
  constructor(
    readonly jobId: string,
    readonly existingTask: string,
  ) {
    super(`job id ${jobId} already names a job of task "${existingTask}"; pass a new id (or none)`);
  }
}
