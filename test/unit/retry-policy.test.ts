import { afterEach, describe, expect, it, vi } from 'vitest';
import { documentedDefaults } from '../helpers/documented-defaults.js';
import { hours, millis, minutes, seconds } from '../../lib/app/duration.js';
import { InvalidTaskInputError, NonRetryableError, RetryAfterError, UnknownTaskError } from '../../lib/jobs/errors.js';
import { RETRY_DEFAULTS, backoffMs, decideRetry, resolveRetryPolicy, type RetryPolicy } from '../../lib/jobs/retry-policy.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const TWELVE_HOURS_MS = 12 * 3_600_000;

/** The error `action` throws; fails the test when it throws nothing or a non-Error. */
function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** A policy without jitter, so that delays are exact. */
function exactPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...resolveRetryPolicy('test-task', { jitter: 'none' }), ...overrides };
}

class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
}

class UpstreamDownError extends Error {
  override readonly name = 'UpstreamDownError';
}

class PaymentDeclinedError extends Error {
  override readonly name = 'PaymentDeclinedError';
}

class CardExpiredError extends PaymentDeclinedError {}

class ValidationFailedError extends NonRetryableError {
  override readonly name = 'ValidationFailedError';
}

// ---------------------------------------------------------------------------
// The defaults documented on RetryOptions
// ---------------------------------------------------------------------------

const docs = documentedDefaults('lib/jobs/retry-policy.ts');
const documentedDefault = docs.text;
const documentedMilliseconds = docs.milliseconds;

describe('retry-policy.ts documentation', () => {
  it('documents the same max attempts as RETRY_DEFAULTS', () => {
    expect(Number(documentedDefault('RetryOptions', 'maxAttempts'))).toBe(RETRY_DEFAULTS.maxAttempts);
  });

  it('documents the same base and max delays as RETRY_DEFAULTS', () => {
    expect(documentedMilliseconds('RetryOptions', 'baseDelay')).toBe(RETRY_DEFAULTS.baseDelay.milliseconds);
    expect(documentedMilliseconds('RetryOptions', 'maxDelay')).toBe(RETRY_DEFAULTS.maxDelay.milliseconds);
  });

  it('documents the same jitter as RETRY_DEFAULTS', () => {
    expect(documentedDefault('RetryOptions', 'jitter')).toBe(`'${RETRY_DEFAULTS.jitter}'`);
  });

  it('documents that every error is retried and none is listed as non-retryable by default', () => {
    expect(documentedDefault('RetryOptions', 'retryOn')).toBe('every error not listed in `nonRetryable`');
    expect(documentedDefault('RetryOptions', 'nonRetryable')).toBe('none');
    const policy = resolveRetryPolicy('test-task');
    expect(policy.retryOn).toBeUndefined();
    expect(policy.nonRetryable).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// RETRY_DEFAULTS and resolveRetryPolicy
// ---------------------------------------------------------------------------

describe('RETRY_DEFAULTS', () => {
  it('holds 3 attempts, a 1 second base delay, a 5 minute max delay and full jitter', () => {
    expect(RETRY_DEFAULTS.maxAttempts).toBe(3);
    expect(RETRY_DEFAULTS.baseDelay).toEqual(seconds(1));
    expect(RETRY_DEFAULTS.maxDelay).toEqual(minutes(5));
    expect(RETRY_DEFAULTS.jitter).toBe('full');
  });
});

describe('resolveRetryPolicy', () => {
  it('applies every default when given no options', () => {
    expect(resolveRetryPolicy('send-mail')).toEqual({
      maxAttempts: 3,
      baseDelayMs: 1000,
      maxDelayMs: 300_000,
      jitter: 'full',
      retryOn: undefined,
      nonRetryable: [],
    });
  });

  it('applies the same defaults to an empty options object', () => {
    expect(resolveRetryPolicy('send-mail', {})).toEqual(resolveRetryPolicy('send-mail'));
  });

  it('keeps every explicit option', () => {
    const retryOn = [RateLimitedError];
    const nonRetryable = [PaymentDeclinedError];
    const policy = resolveRetryPolicy('send-mail', {
      maxAttempts: 7,
      baseDelay: millis(250),
      maxDelay: hours(1),
      jitter: 'none',
      retryOn,
      nonRetryable,
    });
    expect(policy).toEqual({ maxAttempts: 7, baseDelayMs: 250, maxDelayMs: 3_600_000, jitter: 'none', retryOn, nonRetryable });
    expect(policy.retryOn).toBe(retryOn);
    expect(policy.nonRetryable).toBe(nonRetryable);
  });

  it.each([1, 1000])('accepts %i attempts', (maxAttempts) => {
    expect(resolveRetryPolicy('send-mail', { maxAttempts }).maxAttempts).toBe(maxAttempts);
  });

  it.each([0, 1001, 1.5, -1, Number.NaN])('rejects %d attempts with a RangeError naming the task and the option', (maxAttempts) => {
    const error = thrownBy(() => resolveRetryPolicy('send-mail', { maxAttempts }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(`task "send-mail": retry.maxAttempts must be a whole number 1-1000 (got ${maxAttempts})`);
  });

  it('accepts a max delay of exactly 12 hours', () => {
    expect(resolveRetryPolicy('send-mail', { maxDelay: hours(12) }).maxDelayMs).toBe(TWELVE_HOURS_MS);
  });

  it('rejects a max delay over 12 hours with a RangeError naming the task, the option and the SQS limit', () => {
    const error = thrownBy(() => resolveRetryPolicy('send-mail', { maxDelay: millis(TWELVE_HOURS_MS + 1) }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('task "send-mail": retry.maxDelay must be at most 12 hours (the SQS visibility limit)');
  });

  it('accepts a base delay equal to the max delay', () => {
    expect(resolveRetryPolicy('send-mail', { baseDelay: seconds(5), maxDelay: seconds(5) })).toMatchObject({ baseDelayMs: 5000, maxDelayMs: 5000 });
  });

  it('rejects a base delay over the max delay with a RangeError naming the task, both options and both values', () => {
    const error = thrownBy(() => resolveRetryPolicy('send-mail', { baseDelay: seconds(10), maxDelay: seconds(5) }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('task "send-mail": retry.baseDelay (10000 ms) exceeds retry.maxDelay (5000 ms)');
  });

  it('checks an explicit base delay against the default max delay', () => {
    const error = thrownBy(() => resolveRetryPolicy('send-mail', { baseDelay: minutes(10) }));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe('task "send-mail": retry.baseDelay (600000 ms) exceeds retry.maxDelay (300000 ms)');
  });
});

// ---------------------------------------------------------------------------
// backoffMs
// ---------------------------------------------------------------------------

describe('backoffMs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('without jitter', () => {
    it.each([
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [4, 8000],
      [5, 16_000],
      [6, 32_000],
      [7, 64_000],
      [8, 128_000],
      [9, 256_000],
      [10, 300_000],
      [11, 300_000],
    ])('waits, after failed attempt %i, %i ms: doubling from 1 s and capped at the 5 minute max delay', (attempt, delayMs) => {
      expect(backoffMs(exactPolicy(), attempt)).toBe(delayMs);
    });

    it('stays at the max delay for the last of 1000 attempts', () => {
      expect(backoffMs(exactPolicy({ maxAttempts: 1000 }), 1000)).toBe(300_000);
    });

    it('starts from the base delay and caps at the max delay the policy holds', () => {
      const policy = resolveRetryPolicy('test-task', { jitter: 'none', baseDelay: millis(300), maxDelay: seconds(1) });
      expect([1, 2, 3, 4].map((attempt) => backoffMs(policy, attempt))).toEqual([300, 600, 1000, 1000]);
    });

    it('does not call random', () => {
      const random = vi.fn(() => 0.5);
      backoffMs(exactPolicy(), 3, random);
      expect(random).not.toHaveBeenCalled();
    });
  });

  describe('with full jitter', () => {
    const policy = resolveRetryPolicy('test-task');

    it.each([0, 0.5, 0.999999])('stays within [0, ceiling] for every attempt when random returns %d', (value) => {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const ceiling = Math.min(300_000, 1000 * 2 ** (attempt - 1));
        const delay = backoffMs(policy, attempt, () => value);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    });

    it('waits nothing when random returns 0', () => {
      expect(backoffMs(policy, 5, () => 0)).toBe(0);
    });

    it('waits the random share of the exponential ceiling, in whole milliseconds', () => {
      expect(backoffMs(policy, 3, () => 0.5)).toBe(2000);
      expect(backoffMs(policy, 3, () => 0.999999)).toBe(3999);
      expect(backoffMs(policy, 20, () => 0.5)).toBe(150_000);
    });

    it('uses Math.random when no random is given', () => {
      vi.spyOn(Math, 'random').mockReturnValue(0.25);
      expect(backoffMs(policy, 3)).toBe(1000);
      expect(Math.random).toHaveBeenCalledTimes(1);
    });
  });
});

// ---------------------------------------------------------------------------
// decideRetry
// ---------------------------------------------------------------------------

describe('decideRetry', () => {
  describe('plain errors', () => {
    it('retries an ordinary error after the backoff of the failed attempt', () => {
      expect(decideRetry(exactPolicy(), new Error('boom'), 1)).toEqual({ retry: true, delayMs: 1000 });
      expect(decideRetry(exactPolicy(), new Error('boom'), 2)).toEqual({ retry: true, delayMs: 2000 });
    });

    it('retries a thrown value that is not an Error', () => {
      expect(decideRetry(exactPolicy(), 'a string', 1)).toEqual({ retry: true, delayMs: 1000 });
    });

    it('passes the injected random to the jittered backoff', () => {
      expect(decideRetry(resolveRetryPolicy('test-task'), new Error('boom'), 2, () => 0.5)).toEqual({ retry: true, delayMs: 1000 });
    });
  });

  describe('NonRetryableError', () => {
    it.each<[string, Error]>([
      ['NonRetryableError', new NonRetryableError('bad data')],
      ['a subclass of it declared by a task', new ValidationFailedError('bad data')],
      ['InvalidTaskInputError', new InvalidTaskInputError('t', [{ path: 'id', message: 'required' }])],
      ['UnknownTaskError', new UnknownTaskError('t', [])],
    ])('fails %s at once, on the first attempt', (_what, error) => {
      expect(decideRetry(exactPolicy(), error, 1)).toEqual({ retry: false, reason: 'non-retryable' });
    });

    it('fails a NonRetryableError at once even when retryOn lists it', () => {
      const policy = exactPolicy({ retryOn: [NonRetryableError] });
      expect(decideRetry(policy, new NonRetryableError('bad data'), 1)).toEqual({ retry: false, reason: 'non-retryable' });
    });

    it('reports non-retryable rather than attempts-exhausted on the last attempt', () => {
      expect(decideRetry(exactPolicy(), new NonRetryableError('bad data'), 3)).toEqual({ retry: false, reason: 'non-retryable' });
    });
  });

  describe('nonRetryable classes', () => {
    const policy = exactPolicy({ nonRetryable: [PaymentDeclinedError] });

    it('fails a listed class at once', () => {
      expect(decideRetry(policy, new PaymentDeclinedError('declined'), 1)).toEqual({ retry: false, reason: 'non-retryable' });
    });

    it('fails a subclass of a listed class at once', () => {
      expect(decideRetry(policy, new CardExpiredError('expired'), 1)).toEqual({ retry: false, reason: 'non-retryable' });
    });

    it('still retries errors it does not list', () => {
      expect(decideRetry(policy, new UpstreamDownError('502'), 1)).toEqual({ retry: true, delayMs: 1000 });
    });

    it('wins over retryOn when both list a class', () => {
      const both = exactPolicy({ retryOn: [PaymentDeclinedError], nonRetryable: [PaymentDeclinedError] });
      expect(decideRetry(both, new PaymentDeclinedError('declined'), 1)).toEqual({ retry: false, reason: 'non-retryable' });
    });
  });

  describe('retryOn', () => {
    const policy = exactPolicy({ retryOn: [RateLimitedError, UpstreamDownError] });

    it('retries the listed classes', () => {
      expect(decideRetry(policy, new RateLimitedError('429'), 1)).toEqual({ retry: true, delayMs: 1000 });
      expect(decideRetry(policy, new UpstreamDownError('502'), 2)).toEqual({ retry: true, delayMs: 2000 });
    });

    it('retries subclasses of the listed classes', () => {
      class GatewayTimeoutError extends UpstreamDownError {}
      expect(decideRetry(policy, new GatewayTimeoutError('504'), 1)).toEqual({ retry: true, delayMs: 1000 });
    });

    it.each<[string, unknown]>([
      ['a plain Error', new Error('boom')],
      ['a TypeError', new TypeError('x is undefined')],
      ['a thrown string', 'a string'],
    ])('fails %s at once', (_what, error) => {
      expect(decideRetry(policy, error, 1)).toEqual({ retry: false, reason: 'non-retryable' });
    });

    it('still retries a RetryAfterError it does not list, after its delay', () => {
      expect(decideRetry(policy, new RetryAfterError(7000), 1)).toEqual({ retry: true, delayMs: 7000 });
    });
  });

  describe('RetryAfterError', () => {
    it('retries after the delay the error asks for, not the backoff', () => {
      const random = vi.fn(() => 0.5);
      expect(decideRetry(resolveRetryPolicy('test-task'), new RetryAfterError(45_000), 1, random)).toEqual({ retry: true, delayMs: 45_000 });
      expect(random).not.toHaveBeenCalled();
    });

    it('uses a delay longer than the max delay', () => {
      expect(decideRetry(exactPolicy(), new RetryAfterError(3_600_000), 1)).toEqual({ retry: true, delayMs: 3_600_000 });
    });

    it('retries at once when asked for a zero delay', () => {
      expect(decideRetry(exactPolicy(), new RetryAfterError(0), 1)).toEqual({ retry: true, delayMs: 0 });
    });

    it('caps the delay at 12 hours, the SQS visibility limit', () => {
      expect(decideRetry(exactPolicy(), new RetryAfterError(24 * 3_600_000), 1)).toEqual({ retry: true, delayMs: TWELVE_HOURS_MS });
    });

    it('does not retry past the last attempt', () => {
      expect(decideRetry(exactPolicy(), new RetryAfterError(1000), 3)).toEqual({ retry: false, reason: 'attempts-exhausted' });
    });
  });

  describe('attempts', () => {
    it('retries while the attempt is below maxAttempts', () => {
      expect(decideRetry(exactPolicy({ maxAttempts: 3 }), new Error('boom'), 2)).toEqual({ retry: true, delayMs: 2000 });
    });

    it.each([3, 4])('gives up with attempts-exhausted when attempt %i reaches maxAttempts 3', (attempt) => {
      expect(decideRetry(exactPolicy({ maxAttempts: 3 }), new Error('boom'), attempt)).toEqual({ retry: false, reason: 'attempts-exhausted' });
    });

    it('never retries a task allowed a single attempt', () => {
      expect(decideRetry(exactPolicy({ maxAttempts: 1 }), new Error('boom'), 1)).toEqual({ retry: false, reason: 'attempts-exhausted' });
    });
  });
});

// ---------------------------------------------------------------------------
// errors.ts: the two errors that steer retries
// ---------------------------------------------------------------------------

describe('NonRetryableError', () => {
  it('is an Error named NonRetryableError carrying its message', () => {
    const error = new NonRetryableError('bad data');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('NonRetryableError');
    expect(error.message).toBe('bad data');
  });

  it('lets subclasses carry their own name', () => {
    expect(new ValidationFailedError('x').name).toBe('ValidationFailedError');
    expect(new ValidationFailedError('x')).toBeInstanceOf(NonRetryableError);
  });
});

describe('RetryAfterError', () => {
  it('carries its delay, its name and a default message stating the delay', () => {
    const error = new RetryAfterError(2500);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RetryAfterError');
    expect(error.delayMs).toBe(2500);
    expect(error.message).toBe('retry requested in 2500 ms');
  });

  it('keeps a given message and cause', () => {
    const cause = new Error('429 Too Many Requests');
    const error = new RetryAfterError(1000, 'rate limited', { cause });
    expect(error.message).toBe('rate limited');
    expect(error.cause).toBe(cause);
  });

  it('accepts a zero delay', () => {
    expect(new RetryAfterError(0).delayMs).toBe(0);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects a delay of %d with a RangeError', (delayMs) => {
    const error = thrownBy(() => new RetryAfterError(delayMs));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(`RetryAfterError delay must be a non-negative number of ms (got ${delayMs})`);
  });
});
