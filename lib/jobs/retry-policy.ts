/**
 * Retry policy of a task: how many attempts, how long between them
 * (exponential backoff with full jitter), and which errors are worth a retry.
 */
import { type Duration, minutes, seconds } from '../app/duration.js';
import { NonRetryableError, RetryAfterError } from './errors.js';

/** A class of errors, matched with `instanceof`. */
export type ErrorClass = abstract new (...args: never[]) => Error;

export interface RetryOptions {
  /**
   * Attempts in all, the first included. Must not exceed the queue's
   * `maxReceiveCount`, so that the task gives up (and records why) before
   * SQS's redrive policy would.
   * @default 3
   */
  readonly maxAttempts?: number;
  /** Backoff before the second attempt; doubles for each one after. @default 1 second */
  readonly baseDelay?: Duration;
  /** Longest backoff. At most 12 hours (the SQS visibility limit). @default 5 minutes */
  readonly maxDelay?: Duration;
  /**
   * `full`: a uniformly random delay in [0, backoff] (AWS's "full jitter"),
   * which spreads retries of many failed jobs; `none`: exactly the backoff.
   * @default 'full'
   */
  readonly jitter?: 'full' | 'none';
  /** Only these errors are retried; others fail at once. @default every error not listed in `nonRetryable` */
  readonly retryOn?: readonly ErrorClass[];
  /** These errors fail at once, besides {@link NonRetryableError}. @default none */
  readonly nonRetryable?: readonly ErrorClass[];
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: 'full' | 'none';
  readonly retryOn: readonly ErrorClass[] | undefined;
  readonly nonRetryable: readonly ErrorClass[];
}

export const RETRY_DEFAULTS = {
  maxAttempts: 3,
  baseDelay: seconds(1),
  maxDelay: minutes(5),
  jitter: 'full',
} as const;

const MAX_VISIBILITY_MS = 12 * 3_600_000;

/** Applies defaults and validates; throws a RangeError naming the task and the option. */
export function resolveRetryPolicy(task: string, options: RetryOptions = {}): RetryPolicy {
  const maxAttempts = options.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
  const baseDelayMs = (options.baseDelay ?? RETRY_DEFAULTS.baseDelay).milliseconds;
  const maxDelayMs = (options.maxDelay ?? RETRY_DEFAULTS.maxDelay).milliseconds;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1000) {
    throw new RangeError(`task "${task}": retry.maxAttempts must be a whole number 1-1000 (got ${maxAttempts})`);
  }
  if (maxDelayMs > MAX_VISIBILITY_MS) throw new RangeError(`task "${task}": retry.maxDelay must be at most 12 hours (the SQS visibility limit)`);
  if (baseDelayMs > maxDelayMs) throw new RangeError(`task "${task}": retry.baseDelay (${baseDelayMs} ms) exceeds retry.maxDelay (${maxDelayMs} ms)`);
  return {
    maxAttempts,
    baseDelayMs,
    maxDelayMs,
    jitter: options.jitter ?? RETRY_DEFAULTS.jitter,
    retryOn: options.retryOn,
    nonRetryable: options.nonRetryable ?? [],
  };
}

/**
 * Backoff after failed attempt `attempt` (1-based): `min(max, base * 2^(attempt-1))`,
 * or a uniform random share of it with full jitter.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return policy.jitter === 'full' ? Math.floor(random() * ceiling) : ceiling;
}

export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false; readonly reason: 'non-retryable' | 'attempts-exhausted' };

/** Whether `error`, thrown by attempt `attempt`, earns another attempt, and after how long. */
export function decideRetry(policy: RetryPolicy, error: unknown, attempt: number, random?: () => number): RetryDecision {
  const nonRetryable =
    error instanceof NonRetryableError ||
    policy.nonRetryable.some((c) => error instanceof c) ||
    (policy.retryOn !== undefined && !(error instanceof RetryAfterError) && !policy.retryOn.some((c) => error instanceof c));
  if (nonRetryable) return { retry: false, reason: 'non-retryable' };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };
  const delayMs = error instanceof RetryAfterError ? Math.min(error.delayMs, MAX_VISIBILITY_MS) : backoffMs(policy, attempt, random);
  return { retry: true, delayMs };
}
