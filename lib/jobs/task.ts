/**
 * Task definitions: a name, the queue (worker pool) that runs it, a schema for
 * its input (checked when enqueued and again in the worker), the function that
 * does the work, and its retry, timeout and result policies.
 *
 * A long task can be stopped while it runs: `cancelByTag` asks, and the task
 * learns it through `context.stopIfRequested()` between its steps.
 *
 * Inputs should be ids, not data: the data may change between the enqueue and
 * the run, and the task must act on what is true when it runs (and SQS caps a
 * message at 1 MiB).
 */
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { type Duration, days, seconds } from '../app/duration.js';
import { InvalidTaskInputError } from './errors.js';
import { resolveRetryPolicy, type RetryOptions, type RetryPolicy } from './retry-policy.js';

export interface TaskContext {
  readonly jobId: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly traceId: string;
  readonly enqueuedAt: string;
  /** Aborted when the task's timeout passes: long tasks should watch it and stop. */
  readonly signal: AbortSignal;
  /** True when run inline by eager mode rather than by a worker. */
  readonly eager: boolean;
  /** Whether `error`, thrown by this attempt, would earn another attempt under the task's retry policy. */
  readonly willRetry: (error: unknown) => boolean;
  /**
   * Whether a stop was asked of this job while it runs (`cancelByTag`): one
   * strongly consistent read of its record. Always false for an untracked job.
   * Check it between steps of a long task.
   */
  readonly stopRequested: () => Promise<boolean>;
  /**
   * Throws {@link JobStoppedError} when {@link stopRequested}: the job then
   * ends CANCELLED (no retry, no dead letter), keeping what it did so far.
   */
  readonly stopIfRequested: () => Promise<void>;
  /** The Lambda context of the worker invocation; absent in eager mode. */
  readonly lambda?: Context;
}

export interface TaskOptions<Schema extends z.ZodType, Result> {
  /** Unique name; messages carry it, so renaming a task strands its queued jobs. */
  readonly name: string;
  /** Id of the declared queue (worker pool) that runs it. @default 'io' */
  readonly queue?: string;
  /** Schema of the input (zod). */
  readonly input: Schema;
  readonly run: (input: z.output<Schema>, context: TaskContext) => Promise<Result>;
  readonly retry?: RetryOptions;
  /**
   * Longest a single attempt may run. The worker also stops an attempt 1 s
   * before its Lambda invocation would time out.
   * @default 30 seconds
   */
  readonly timeout?: Duration;
  /**
   * Keep a job status record (QUEUED → RUNNING → SUCCEEDED / FAILED / CANCELLED)
   * in DynamoDB. Untracked jobs cost no DynamoDB write, cannot be cancelled or
   * looked up, and a duplicate delivery may run them twice.
   * @default true
   */
  readonly trackStatus?: boolean;
  /** How long a tracked job's record and result are kept. @default 1 day */
  readonly resultTtl?: Duration;
  /**
   * Makes the task's effect happen at most once per key (see
   * `lib/coordination/idempotency.ts`), across jobs, duplicate deliveries and
   * concurrent workers: a repeat returns the first run's result without running.
   * @default none: every job runs
   */
  readonly idempotencyKey?: (input: z.output<Schema>) => string;
}

export interface Task<Input = unknown, Result = unknown, Parsed = Input> {
  readonly name: string;
  readonly queue: string;
  readonly schema: z.ZodType<Parsed, Input>;
  readonly run: (input: Parsed, context: TaskContext) => Promise<Result>;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;
  readonly trackStatus: boolean;
  readonly resultTtlMs: number;
  readonly idempotencyKey?: (input: Parsed) => string;
}

/** Any task, whatever its types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- variance: a registry holds tasks of every input type
export type AnyTask = Task<any, unknown, any>;

export const TASK_DEFAULTS = {
  queue: 'io',
  timeout: seconds(30),
  trackStatus: true,
  resultTtl: days(1),
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function defineTask<Schema extends z.ZodType, Result>(
  options: TaskOptions<Schema, Result>,
): Task<z.input<Schema>, Result, z.output<Schema>> {
  if (!NAME.test(options.name)) {
    throw new RangeError(`task name "${options.name}" must be 1-128 letters, digits and ".:_-", starting with a letter or digit`);
  }
  const timeoutMs = (options.timeout ?? TASK_DEFAULTS.timeout).milliseconds;
  if (timeoutMs < 1 || timeoutMs > 900_000) throw new RangeError(`task "${options.name}": timeout must be 1 ms to 15 minutes`);
  return Object.freeze({
    name: options.name,
    queue: options.queue ?? TASK_DEFAULTS.queue,
    schema: options.input as unknown as z.ZodType<z.output<Schema>, z.input<Schema>>,
    run: options.run,
    retry: resolveRetryPolicy(options.name, options.retry),
    timeoutMs,
    trackStatus: options.trackStatus ?? TASK_DEFAULTS.trackStatus,
    resultTtlMs: (options.resultTtl ?? TASK_DEFAULTS.resultTtl).milliseconds,
    ...(options.idempotencyKey !== undefined && { idempotencyKey: options.idempotencyKey }),
  });
}

/** Validates `input` against `task`'s schema; throws {@link InvalidTaskInputError} listing each issue. */
export function parseTaskInput<Parsed>(task: Task<unknown, unknown, Parsed> | AnyTask, input: unknown): Parsed {
  const parsed = task.schema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidTaskInputError(
      task.name,
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    );
  }
  return parsed.data as Parsed;
}
