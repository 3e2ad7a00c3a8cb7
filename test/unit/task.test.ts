import { describe, expect, expectTypeOf, it } from 'vitest';
import { documentedDefaults } from '../helpers/documented-defaults.js';
import { z } from 'zod';
import { defineApp, type App } from '../../lib/app/define-app.js';
import { days, millis, minutes, seconds } from '../../lib/app/duration.js';
import { InvalidTaskInputError, NonRetryableError } from '../../lib/jobs/errors.js';
import { decideRetry, resolveRetryPolicy } from '../../lib/jobs/retry-policy.js';
import { createTaskRegistry, InvalidTaskRegistryError } from '../../lib/jobs/task-registry.js';
import { defineTask, parseTaskInput, TASK_DEFAULTS, type Task, type TaskContext } from '../../lib/jobs/task.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const idInput = z.object({ id: z.string() });

/** A task on `queue` (default 'io') that returns the length of its input's id. */
function task(name: string, options: { queue?: string; maxAttempts?: number } = {}): Task<{ id: string }, number, { id: string }> {
  return defineTask({
    name,
    input: idInput,
    run: async (input) => input.id.length,
    ...(options.queue !== undefined && { queue: options.queue }),
    ...(options.maxAttempts !== undefined && { retry: { maxAttempts: options.maxAttempts } }),
  });
}

/** An app declaring queue `io` (maxReceiveCount 5, the default) and queue `cpu` (maxReceiveCount 3). */
function app(): App {
  return defineApp({ name: 'test-app', queues: { io: {}, cpu: { maxReceiveCount: 3 } }, functions: {} });
}

/** The error `action` throws, checked to be an instance of `type`; fails the test otherwise. */
function thrownBy<E extends Error>(type: abstract new (...args: never[]) => E, action: () => unknown): E {
  try {
    action();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the call returned`);
}

// ---------------------------------------------------------------------------
// The defaults documented on TaskOptions
// ---------------------------------------------------------------------------

const docs = documentedDefaults('lib/jobs/task.ts');
const documentedDefault = docs.text;
const documentedMilliseconds = docs.milliseconds;

describe('task.ts documentation', () => {
  it('documents the same queue and status tracking defaults as TASK_DEFAULTS', () => {
    expect(documentedDefault('TaskOptions', 'queue')).toBe(`'${TASK_DEFAULTS.queue}'`);
    expect(documentedDefault('TaskOptions', 'trackStatus')).toBe(String(TASK_DEFAULTS.trackStatus));
  });

  it('documents the same timeout and result TTL as TASK_DEFAULTS', () => {
    expect(documentedMilliseconds('TaskOptions', 'timeout')).toBe(TASK_DEFAULTS.timeout.milliseconds);
    expect(documentedMilliseconds('TaskOptions', 'resultTtl')).toBe(TASK_DEFAULTS.resultTtl.milliseconds);
  });
});

// ---------------------------------------------------------------------------
// defineTask
// ---------------------------------------------------------------------------

describe('defineTask', () => {
  describe('defaults', () => {
    it('holds queue io, a 30 second timeout, status tracking and a 1 day result TTL in TASK_DEFAULTS', () => {
      expect(TASK_DEFAULTS.queue).toBe('io');
      expect(TASK_DEFAULTS.timeout).toEqual(seconds(30));
      expect(TASK_DEFAULTS.trackStatus).toBe(true);
      expect(TASK_DEFAULTS.resultTtl).toEqual(days(1));
    });

    it('applies every default to a task given only a name, an input and a run', () => {
      const run = async (input: { id: string }): Promise<number> => input.id.length;
      const defined = defineTask({ name: 'count-chars', input: idInput, run });
      expect(defined).toEqual({
        name: 'count-chars',
        queue: 'io',
        schema: idInput,
        run,
        retry: resolveRetryPolicy('count-chars'),
        timeoutMs: 30_000,
        trackStatus: true,
        resultTtlMs: 86_400_000,
      });
      expect(defined.schema).toBe(idInput);
      expect(defined.run).toBe(run);
    });

    it('keeps every explicit option', () => {
      const defined = defineTask({
        name: 'render-pdf',
        queue: 'cpu',
        input: idInput,
        run: async () => 'done',
        retry: { maxAttempts: 2, jitter: 'none' },
        timeout: minutes(5),
        trackStatus: false,
        resultTtl: days(7),
      });
      expect(defined).toMatchObject({ name: 'render-pdf', queue: 'cpu', timeoutMs: 300_000, trackStatus: false, resultTtlMs: 604_800_000 });
      expect(defined.retry).toEqual(resolveRetryPolicy('render-pdf', { maxAttempts: 2, jitter: 'none' }));
    });

    it('returns a frozen task', () => {
      expect(Object.isFrozen(task('count-chars'))).toBe(true);
    });
  });

  describe('names', () => {
    it.each(['a', 'send-mail', 'billing.charge:v2', 'Report_2025', '9lives', 'x'.repeat(128)])('accepts the name %s', (name) => {
      expect(task(name).name).toBe(name);
    });

    it.each([
      ['an empty name', ''],
      ['a leading dash', '-send'],
      ['a leading dot', '.send'],
      ['a space', 'send mail'],
      ['a slash', 'send/mail'],
      ['a non-ASCII letter', 'envoyé'],
      ['129 characters', 'x'.repeat(129)],
    ])('rejects a name with %s, naming it and the rule', (_what, name) => {
      const error = thrownBy(RangeError, () => task(name));
      expect(error.message).toBe(`task name "${name}" must be 1-128 letters, digits and ".:_-", starting with a letter or digit`);
    });
  });

  describe('timeouts', () => {
    it.each([
      ['1 ms', millis(1), 1],
      ['15 minutes', minutes(15), 900_000],
    ])('accepts a timeout of %s', (_what, timeout, timeoutMs) => {
      expect(defineTask({ name: 't', input: idInput, run: async () => 0, timeout }).timeoutMs).toBe(timeoutMs);
    });

    it.each([
      ['zero', millis(0)],
      ['half a millisecond', millis(0.5)],
      ['15 minutes and 1 ms', millis(900_001)],
      ['an hour', minutes(60)],
    ])('rejects a timeout of %s, naming the task and the range', (_what, timeout) => {
      const error = thrownBy(RangeError, () => defineTask({ name: 'slow-task', input: idInput, run: async () => 0, timeout }));
      expect(error.message).toBe('task "slow-task": timeout must be 1 ms to 15 minutes');
    });
  });

  it('rejects an invalid retry policy with the message of resolveRetryPolicy', () => {
    const error = thrownBy(RangeError, () => defineTask({ name: 'flaky', input: idInput, run: async () => 0, retry: { maxAttempts: 0 } }));
    expect(error.message).toBe('task "flaky": retry.maxAttempts must be a whole number 1-1000 (got 0)');
  });

  describe('types', () => {
    it('gives run the input type of the schema and the task the result type of run', () => {
      const defined = defineTask({
        name: 't',
        input: z.object({ id: z.string() }),
        run: async (input, context) => {
          expectTypeOf(input).toEqualTypeOf<{ id: string }>();
          expectTypeOf(context).toEqualTypeOf<TaskContext>();
          return input.id.length;
        },
      });
      expectTypeOf(defined.run).parameter(0).toEqualTypeOf<{ id: string }>();
      expectTypeOf(defined.run).parameter(0).not.toHaveProperty('nope');
      expectTypeOf(defined.run).returns.resolves.toEqualTypeOf<number>();
      expectTypeOf(defined).toEqualTypeOf<Task<{ id: string }, number, { id: string }>>();
    });

    it('gives run the parsed output and the task the raw input of a schema with defaults', () => {
      const defined = defineTask({
        name: 't',
        input: z.object({ count: z.number().default(1) }),
        run: async (input) => input.count * 2,
      });
      expectTypeOf(defined.run).parameter(0).toEqualTypeOf<{ count: number }>();
      expectTypeOf(defined.schema).toEqualTypeOf<z.ZodType<{ count: number }, { count?: number | undefined }>>();
      expectTypeOf(parseTaskInput(defined, {})).toEqualTypeOf<{ count: number }>();
    });
  });
});

// ---------------------------------------------------------------------------
// parseTaskInput
// ---------------------------------------------------------------------------

describe('parseTaskInput', () => {
  const order = defineTask({
    name: 'place-order',
    input: z.object(
      {
        id: z.string({ error: 'id must be a string' }),
        priority: z.enum(['low', 'high']).default('low'),
        items: z.array(z.object({ sku: z.string(), qty: z.number().int().min(1, { error: 'qty must be at least 1' }) })),
      },
      { error: 'input must be an object' },
    ),
    run: async () => undefined,
  });

  it('returns the parsed output, with schema defaults applied and unknown keys stripped', () => {
    expect(parseTaskInput(order, { id: 'o-1', items: [{ sku: 'a', qty: 2 }], extra: true })).toEqual({
      id: 'o-1',
      priority: 'low',
      items: [{ sku: 'a', qty: 2 }],
    });
  });

  it('throws InvalidTaskInputError listing each issue, with nested paths joined by "."', () => {
    const error = thrownBy(InvalidTaskInputError, () => parseTaskInput(order, { items: [{ sku: 'a', qty: 0 }, { sku: 'b', qty: 1 }, { sku: 'c', qty: -2 }] }));
    expect(error.name).toBe('InvalidTaskInputError');
    expect(error.task).toBe('place-order');
    expect(error.issues).toEqual([
      { path: 'id', message: 'id must be a string' },
      { path: 'items.0.qty', message: 'qty must be at least 1' },
      { path: 'items.2.qty', message: 'qty must be at least 1' },
    ]);
    expect(error.message).toBe(
      'invalid input for task "place-order": id: id must be a string; items.0.qty: qty must be at least 1; items.2.qty: qty must be at least 1',
    );
  });

  it('names an issue with the whole input "(input)"', () => {
    const error = thrownBy(InvalidTaskInputError, () => parseTaskInput(order, 'o-1'));
    expect(error.issues).toEqual([{ path: '', message: 'input must be an object' }]);
    expect(error.message).toBe('invalid input for task "place-order": (input): input must be an object');
  });

  it("reports zod's own message when the schema sets none", () => {
    const error = thrownBy(InvalidTaskInputError, () => parseTaskInput(task('count-chars'), { id: 42 }));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe('id');
    expect(error.message).toBe(`invalid input for task "count-chars": id: ${error.issues[0]?.message}`);
    expect(error.issues[0]?.message).toMatch(/expected string/);
  });

  it('throws an error the retry policy never retries', () => {
    const error = thrownBy(InvalidTaskInputError, () => parseTaskInput(order, null));
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(decideRetry(order.retry, error, 1)).toEqual({ retry: false, reason: 'non-retryable' });
  });
});

// ---------------------------------------------------------------------------
// createTaskRegistry
// ---------------------------------------------------------------------------

describe('createTaskRegistry', () => {
  describe('lookups', () => {
    const sendMail = task('send-mail');
    const renderPdf = task('render-pdf', { queue: 'cpu', maxAttempts: 2 });
    const resize = task('resize-image', { queue: 'cpu', maxAttempts: 3 });
    const registry = createTaskRegistry([sendMail, renderPdf, resize], app());

    it('lists the task names in registration order', () => {
      expect(registry.names).toEqual(['send-mail', 'render-pdf', 'resize-image']);
    });

    it('lists each queue the tasks run on once', () => {
      expect(registry.queues).toEqual(['io', 'cpu']);
    });

    it('gets a task by name', () => {
      expect(registry.get('render-pdf')).toBe(renderPdf);
      expect(registry.get('send-mail')).toBe(sendMail);
    });

    it('gets undefined for an unknown name', () => {
      expect(registry.get('no-such-task')).toBeUndefined();
      expect(registry.get('')).toBeUndefined();
    });

    it('holds no task when given none, and still receives from every declared queue (a job can be routed to any pool)', () => {
      const empty = createTaskRegistry([], app());
      expect(empty.names).toEqual([]);
      expect(empty.queues).toEqual(app().queues.map((q) => q.id));
      expect(empty.queues.length).toBeGreaterThan(0);
      expect(createTaskRegistry([]).queues).toEqual([]);
      // Each queue's visibility timeout bounds how long a record can wait before its invocation (the worker's 12-hour budget).
      expect(empty.visibilitySeconds).toEqual(Object.fromEntries(app().queues.map((q) => [q.id, q.visibilityTimeout.milliseconds / 1000])));
    });
  });

  it('rejects a task registered twice, naming it', () => {
    const error = thrownBy(InvalidTaskRegistryError, () => createTaskRegistry([task('send-mail'), task('other'), task('send-mail')]));
    expect(error.name).toBe('InvalidTaskRegistryError');
    expect(error.message).toBe('task "send-mail" is registered twice');
  });

  it('rejects a task on an undeclared queue, listing the declared queues', () => {
    const error = thrownBy(InvalidTaskRegistryError, () => createTaskRegistry([task('train-model', { queue: 'gpu' })], app()));
    expect(error.name).toBe('InvalidTaskRegistryError');
    expect(error.message).toBe('task "train-model" runs on queue "gpu", which is not declared (declared: io, cpu)');
  });

  it("rejects a task allowing more attempts than its queue's maxReceiveCount, naming both numbers", () => {
    const error = thrownBy(InvalidTaskRegistryError, () => createTaskRegistry([task('render-pdf', { queue: 'cpu', maxAttempts: 4 })], app()));
    expect(error.name).toBe('InvalidTaskRegistryError');
    expect(error.message).toBe(
      'task "render-pdf" allows 4 attempts but queue "cpu" dead-letters after 3 receives; ' +
        "lower retry.maxAttempts or raise the queue's maxReceiveCount",
    );
  });

  it("accepts a task allowing exactly its queue's maxReceiveCount attempts", () => {
    expect(createTaskRegistry([task('render-pdf', { queue: 'cpu', maxAttempts: 3 }), task('send-mail', { maxAttempts: 5 })], app()).names).toEqual([
      'render-pdf',
      'send-mail',
    ]);
  });

  it('lists every problem in one error, joined by "; "', () => {
    const error = thrownBy(InvalidTaskRegistryError, () =>
      createTaskRegistry([task('a', { queue: 'gpu' }), task('a'), task('b', { queue: 'cpu', maxAttempts: 10 })], app()),
    );
    expect(error.message).toBe(
      [
        'task "a" runs on queue "gpu", which is not declared (declared: io, cpu)',
        'task "a" is registered twice',
        'task "b" allows 10 attempts but queue "cpu" dead-letters after 3 receives; lower retry.maxAttempts or raise the queue\'s maxReceiveCount',
      ].join('; '),
    );
  });

  it('checks no queues when given no app', () => {
    const registry = createTaskRegistry([task('train-model', { queue: 'gpu', maxAttempts: 100 })]);
    expect(registry.names).toEqual(['train-model']);
    expect(registry.queues).toEqual(['gpu']);
  });
});
