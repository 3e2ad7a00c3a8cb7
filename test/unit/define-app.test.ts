import { afterEach, describe, expect, it, vi } from 'vitest';
import { documentedDefaults } from '../helpers/documented-defaults.js';
import type { AppDeclaration, EventDeclaration, FunctionDeclaration, HttpMethod, QueueDeclaration } from '../../lib/app/declaration.js';
import {
  DEFAULTS,
  InvalidDeclarationError,
  defineApp,
  environmentOf,
  type App,
  type LambdaFunction,
  type Queue,
  type Table,
} from '../../lib/app/define-app.js';
import { days, hours, millis, minutes, seconds, toWholeSeconds, type Duration } from '../../lib/app/duration.js';
import {
  MissingResourceEnvError,
  deadLetterQueueUrl,
  deadLetterQueueUrlEnvName,
  queueUrl,
  queueUrlEnvName,
  tableEnvName,
  tableName,
} from '../../lib/app/resource-env.js';
import { resources } from '../../app/resources.js';

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** A function with only what is required, plus `overrides`. */
function fn(overrides: Partial<FunctionDeclaration> = {}): FunctionDeclaration {
  return { entry: 'functions/test.ts', timeout: seconds(10), ...overrides };
}

/** A valid app: a streamed table, a plain table, a queue `jobs` fed to `worker`, and an `api` function. */
function app(overrides: Partial<AppDeclaration> = {}): AppDeclaration {
  return {
    name: 'test-app',
    tables: {
      events: { partitionKey: { name: 'pk' }, stream: 'NEW_IMAGE' },
      plain: { partitionKey: { name: 'pk' } },
    },
    queues: { jobs: {} },
    functions: {
      api: fn({ events: [{ type: 'http', method: 'GET', path: '/pings' }] }),
      worker: fn({ timeout: seconds(30), events: [{ type: 'sqs', queue: 'jobs' }] }),
    },
    ...overrides,
  };
}

/** Ferry's sample app with one more function, `extra`, declared with `events` and `overrides`. */
function withExtra(events: readonly EventDeclaration[], overrides: Partial<FunctionDeclaration> = {}): AppDeclaration {
  const base = app();
  return { ...base, functions: { ...base.functions, extra: fn({ events, ...overrides }) } };
}

/** The problems `defineApp(declaration)` reports; fails the test when it does not throw InvalidDeclarationError. */
function problemsOf(declaration: AppDeclaration): readonly string[] {
  try {
    defineApp(declaration);
  } catch (error) {
    if (error instanceof InvalidDeclarationError) return error.problems;
    throw error;
  }
  throw new Error('expected defineApp to throw InvalidDeclarationError, but it accepted the declaration');
}

function expectOneProblem(declaration: AppDeclaration, pattern: RegExp): void {
  const problems = problemsOf(declaration);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(pattern);
}

function only<T>(items: readonly T[], what: string): T {
  expect(items, what).toHaveLength(1);
  return items[0] as T;
}

function functionOf(built: App, id: string): LambdaFunction {
  const found = built.functions.find((f) => f.id === id);
  if (found === undefined) throw new Error(`no function "${id}"`);
  return found;
}

function queueOf(built: App, id: string): Queue {
  const found = built.queues.find((q) => q.id === id);
  if (found === undefined) throw new Error(`no queue "${id}"`);
  return found;
}

function tableOf(built: App, id: string): Table {
  const found = built.tables.find((t) => t.id === id);
  if (found === undefined) throw new Error(`no table "${id}"`);
  return found;
}

function queueWith(declaration: QueueDeclaration, consumerTimeouts: readonly Duration[] = []): Queue {
  const functions: Record<string, FunctionDeclaration> = {};
  consumerTimeouts.forEach((timeout, i) => {
    functions[`consumer${i}`] = fn({ timeout, events: [{ type: 'sqs', queue: 'jobs' }] });
  });
  functions.sender = fn({ uses: { queues: { jobs: 'send' } } });
  return queueOf(defineApp({ name: 'test-app', queues: { jobs: declaration }, functions }), 'jobs');
}

// ---------------------------------------------------------------------------
// The defaults documented in declaration.ts
// ---------------------------------------------------------------------------

const docs = documentedDefaults('lib/app/declaration.ts');
const documentedDefault = docs.text;
const documentedMilliseconds = docs.milliseconds;
const documentedNumber = docs.number;

describe('declaration.ts documentation', () => {
  it('documents the same key type, handler and memory defaults as DEFAULTS', () => {
    expect(documentedDefault('KeyDeclaration', 'type')).toBe(`'${DEFAULTS.keyType}'`);
    expect(documentedDefault('FunctionDeclaration', 'handler')).toBe(`'${DEFAULTS.handler}'`);
    expect(documentedNumber('FunctionDeclaration', 'memoryMb')).toBe(DEFAULTS.memoryMb);
  });

  it('documents the same queue defaults as DEFAULTS', () => {
    expect(documentedNumber('QueueDeclaration', 'maxReceiveCount')).toBe(DEFAULTS.maxReceiveCount);
    expect(documentedMilliseconds('QueueDeclaration', 'retention')).toBe(DEFAULTS.retention.milliseconds);
    expect(documentedMilliseconds('QueueDeclaration', 'deadLetterRetention')).toBe(DEFAULTS.deadLetterRetention.milliseconds);
  });

  it('documents the same visibility timeout factor and consumer-less fallback as DEFAULTS', () => {
    const text = documentedDefault('QueueDeclaration', 'visibilityTimeout');
    const match = /^(\d+) x the longest timeout of the functions this queue feeds, plus their longest batching window \((\d+) s if none\)$/.exec(text);
    expect(match, `unexpected @default "${text}"`).not.toBeNull();
    expect(Number(match?.[1])).toBe(DEFAULTS.visibilityTimeoutFactor);
    expect(Number(match?.[2]) * 1000).toBe(DEFAULTS.visibilityTimeoutWithoutConsumer.milliseconds);
  });

  it('documents the same sqs event defaults as DEFAULTS', () => {
    expect(documentedNumber('SqsEventDeclaration', 'batchSize')).toBe(DEFAULTS.sqsBatchSize);
    expect(documentedMilliseconds('SqsEventDeclaration', 'maxBatchingWindow')).toBe(DEFAULTS.sqsMaxBatchingWindow.milliseconds);
    expect(documentedNumber('SqsEventDeclaration', 'maxConcurrency')).toBe(DEFAULTS.sqsMaxConcurrency);
  });

  it('documents the same dynamodb-stream event defaults as DEFAULTS', () => {
    expect(documentedNumber('DynamoStreamEventDeclaration', 'batchSize')).toBe(DEFAULTS.streamBatchSize);
    expect(documentedDefault('DynamoStreamEventDeclaration', 'startingPosition')).toBe(`'${DEFAULTS.streamStartingPosition}'`);
    expect(documentedNumber('DynamoStreamEventDeclaration', 'retryAttempts')).toBe(DEFAULTS.streamRetryAttempts);
  });
});

// ---------------------------------------------------------------------------
// defineApp
// ---------------------------------------------------------------------------

describe('defineApp', () => {
  describe('defaults', () => {
    it('holds the documented values in DEFAULTS', () => {
      expect(DEFAULTS).toMatchObject({
        keyType: 'S',
        handler: 'handler',
        memoryMb: 512,
        maxReceiveCount: 5,
        visibilityTimeoutFactor: 6,
        sqsBatchSize: 10,
        sqsMaxConcurrency: 5,
        streamBatchSize: 100,
        streamStartingPosition: 'LATEST',
        streamRetryAttempts: 3,
      });
      expect(DEFAULTS.visibilityTimeoutWithoutConsumer).toEqual(seconds(30));
      expect(DEFAULTS.retention).toEqual(days(4));
      expect(DEFAULTS.deadLetterRetention).toEqual(days(14));
      expect(DEFAULTS.sqsMaxBatchingWindow).toEqual(seconds(0));
    });

    it('gives a function the default handler and memory and an empty environment', () => {
      const built = defineApp({ name: 'test-app', functions: { solo: fn() } });
      const solo = functionOf(built, 'solo');
      expect(solo).toEqual({
        id: 'solo',
        entry: 'functions/test.ts',
        handler: DEFAULTS.handler,
        timeout: seconds(10),
        memoryMb: DEFAULTS.memoryMb,
        tables: {},
        queues: {},
        environment: {},
      });
      expect(solo.handler).toBe('handler');
      expect(solo.memoryMb).toBe(512);
    });

    it('keeps an explicit handler and memory', () => {
      const built = defineApp({ name: 'test-app', functions: { solo: fn({ handler: 'main', memoryMb: 1024 }) } });
      expect(functionOf(built, 'solo')).toMatchObject({ handler: 'main', memoryMb: 1024 });
    });

    it('gives a queue the default receive count, retention and dead-letter retention', () => {
      const queue = queueWith({});
      expect(queue.maxReceiveCount).toBe(5);
      expect(queue.retention).toEqual(days(4));
      expect(queue.deadLetterRetention).toEqual(days(14));
    });

    it('keeps explicit queue settings', () => {
      const queue = queueWith({ visibilityTimeout: minutes(2), maxReceiveCount: 3, retention: hours(1), deadLetterRetention: days(7) });
      expect(queue).toEqual({
        id: 'jobs',
        visibilityTimeout: minutes(2),
        maxReceiveCount: 3,
        retention: hours(1),
        deadLetterRetention: days(7),
      });
    });

    it('gives an sqs event the default batch size, batching window and concurrency', () => {
      const source = only(defineApp(app()).sqsSources, 'sqs sources');
      expect(source).toEqual({ functionId: 'worker', queue: 'jobs', batchSize: 10, maxBatchingWindow: seconds(0), maxConcurrency: 5 });
    });

    it('gives a dynamodb-stream event the default batch size, starting position and retry attempts', () => {
      const built = defineApp(withExtra([{ type: 'dynamodb-stream', table: 'events' }]));
      const source = only(built.streamSources, 'stream sources');
      expect(source).toEqual({ functionId: 'extra', table: 'events', batchSize: 100, startingPosition: 'LATEST', retryAttempts: 3 });
    });

    it('keeps explicit dynamodb-stream settings', () => {
      const built = defineApp(
        withExtra([{ type: 'dynamodb-stream', table: 'events', batchSize: 5, startingPosition: 'TRIM_HORIZON', retryAttempts: 0 }]),
      );
      expect(only(built.streamSources, 'stream sources')).toMatchObject({ batchSize: 5, startingPosition: 'TRIM_HORIZON', retryAttempts: 0 });
    });

    it('gives table keys the string type unless declared otherwise', () => {
      const built = defineApp({
        name: 'test-app',
        tables: {
          counters: { partitionKey: { name: 'pk' }, sortKey: { name: 'at', type: 'N' }, timeToLiveAttribute: 'expiresAt' },
          plain: { partitionKey: { name: 'id', type: 'B' } },
        },
        functions: { solo: fn() },
      });
      expect(tableOf(built, 'counters')).toEqual({
        id: 'counters',
        partitionKey: { name: 'pk', type: 'S' },
        sortKey: { name: 'at', type: 'N' },
        timeToLiveAttribute: 'expiresAt',
      });
      expect(tableOf(built, 'plain')).toEqual({ id: 'plain', partitionKey: { name: 'id', type: 'B' } });
    });

    it('treats absent tables and queues as none', () => {
      const built = defineApp({ name: 'test-app', functions: { solo: fn() } });
      expect(built).toMatchObject({ name: 'test-app', tables: [], queues: [], sqsSources: [], streamSources: [], schedules: [], routes: [] });
    });
  });

  describe('visibility timeout', () => {
    it('defaults to six times the timeout of the only consuming function', () => {
      expect(queueWith({}, [seconds(30)]).visibilityTimeout).toEqual(seconds(180));
    });

    it('adds the longest batching window to the default', () => {
      const declaration: AppDeclaration = {
        name: 'windowed',
        queues: { jobs: {} },
        functions: {
          worker: { entry: 'w.ts', timeout: seconds(10), events: [{ type: 'sqs', queue: 'jobs', maxBatchingWindow: seconds(5), batchSize: 50 }] },
        },
      };
      expect(defineApp(declaration).queues[0]?.visibilityTimeout).toEqual(seconds(65));
    });

    it('refuses a visibility timeout shorter than a consumer timeout plus its batching window', () => {
      const declaration: AppDeclaration = {
        name: 'windowed',
        queues: { jobs: { visibilityTimeout: seconds(12) } },
        functions: {
          worker: { entry: 'w.ts', timeout: seconds(10), events: [{ type: 'sqs', queue: 'jobs', maxBatchingWindow: seconds(5), batchSize: 50 }] },
        },
      };
      expect(() => defineApp(declaration)).toThrow(
        /queue "jobs": visibilityTimeout \(12 s\) is shorter than a consumer's timeout plus its batching window \(15 s\): messages would reappear/,
      );
    });

    it('defaults to six times the longest timeout when several functions consume the queue', () => {
      expect(queueWith({}, [seconds(10), minutes(15), seconds(45)]).visibilityTimeout).toEqual(seconds(5400));
    });

    it('defaults to 30 seconds for a queue that nothing consumes', () => {
      expect(queueWith({}).visibilityTimeout).toEqual(seconds(30));
    });

    it('accepts an explicit visibility timeout equal to the longest consumer timeout', () => {
      expect(queueWith({ visibilityTimeout: seconds(30) }, [seconds(30)]).visibilityTimeout).toEqual(seconds(30));
    });

    it('rejects an explicit visibility timeout shorter than a consumer timeout, naming the queue', () => {
      const declaration = app({ queues: { jobs: { visibilityTimeout: seconds(20) } } });
      expectOneProblem(
        declaration,
        /^queue "jobs": visibilityTimeout \(20 s\) is shorter than the timeout of a function it feeds \(30 s\); AWS refuses that event source mapping$/,
      );
    });

    it('rejects a visibility timeout longer than 12 hours', () => {
      expectOneProblem(app({ queues: { jobs: { visibilityTimeout: hours(13) } } }), /^queue "jobs": visibilityTimeout must be at most 12 hours$/);
    });
  });

  describe('validation', () => {
    it.each<[string, AppDeclaration, RegExp]>([
      [
        'a uses.tables entry naming an unknown table',
        withExtra([], { uses: { tables: { missing: 'read' } } }),
        /^function "extra": uses\.tables names unknown table "missing"$/,
      ],
      [
        'a uses.queues entry naming an unknown queue',
        withExtra([], { uses: { queues: { missing: 'send' } } }),
        /^function "extra": uses\.queues names unknown queue "missing"$/,
      ],
      [
        'a uses.tables entry naming an Object.prototype member',
        withExtra([], { uses: { tables: { toString: 'read' as const } } }),
        /^function "extra": uses\.tables names unknown table "toString"$/,
      ],
      [
        'an sqs event naming an unknown queue',
        withExtra([{ type: 'sqs', queue: 'missing' }]),
        /^function "extra": sqs event names unknown queue "missing"$/,
      ],
      [
        'an sqs event naming an Object.prototype member',
        withExtra([{ type: 'sqs', queue: 'constructor' }]),
        /^function "extra": sqs event names unknown queue "constructor"$/,
      ],
      [
        'a dynamodb-stream event naming an unknown table',
        withExtra([{ type: 'dynamodb-stream', table: 'missing' }]),
        /^function "extra": dynamodb-stream event names unknown table "missing"$/,
      ],
      [
        'a dynamodb-stream event naming an Object.prototype member',
        withExtra([{ type: 'dynamodb-stream', table: 'hasOwnProperty' }]),
        /^function "extra": dynamodb-stream event names unknown table "hasOwnProperty"$/,
      ],
      [
        'a dynamodb-stream event on a table without a stream',
        withExtra([{ type: 'dynamodb-stream', table: 'plain' }]),
        /^function "extra": table "plain" has no stream; declare its "stream" view type$/,
      ],
      [
        'an sqs batchSize over 10 without a batching window',
        withExtra([{ type: 'sqs', queue: 'jobs', batchSize: 11 }]),
        /^function "extra": batchSize must be 1-10 \(up to 10000 with a maxBatchingWindow\) \(got 11\)$/,
      ],
      [
        'an sqs batchSize over 10000 with a batching window',
        withExtra([{ type: 'sqs', queue: 'jobs', batchSize: 10_001, maxBatchingWindow: seconds(1) }]),
        /^function "extra": batchSize must be 1-10000 \(got 10001\)$/,
      ],
      [
        'an sqs batchSize of 0',
        withExtra([{ type: 'sqs', queue: 'jobs', batchSize: 0 }]),
        /^function "extra": batchSize must be 1-10 .*\(got 0\)$/,
      ],
      [
        'an sqs batching window over 5 minutes',
        withExtra([{ type: 'sqs', queue: 'jobs', maxBatchingWindow: seconds(301) }]),
        /^function "extra": maxBatchingWindow must be at most 5 minutes$/,
      ],
      [
        'an sqs maxConcurrency of 1',
        withExtra([{ type: 'sqs', queue: 'jobs', maxConcurrency: 1 }]),
        /^function "extra": maxConcurrency must be 2-1000 \(got 1\)$/,
      ],
      [
        'an sqs maxConcurrency of 1001',
        withExtra([{ type: 'sqs', queue: 'jobs', maxConcurrency: 1001 }]),
        /^function "extra": maxConcurrency must be 2-1000 \(got 1001\)$/,
      ],
      [
        'a dynamodb-stream batchSize over 10000',
        withExtra([{ type: 'dynamodb-stream', table: 'events', batchSize: 10_001 }]),
        /^function "extra": stream batchSize must be 1-10000 \(got 10001\)$/,
      ],
      [
        'negative dynamodb-stream retry attempts',
        withExtra([{ type: 'dynamodb-stream', table: 'events', retryAttempts: -1 }]),
        /^function "extra": retryAttempts must be 0-10000 \(got -1\)$/,
      ],
      [
        'a function timeout that is not whole seconds',
        withExtra([], { timeout: millis(1500) }),
        /^function "extra": timeout must be a whole number of seconds \(got 1500 ms\)$/,
      ],
      [
        'a batching window that is not whole seconds',
        withExtra([{ type: 'sqs', queue: 'jobs', maxBatchingWindow: millis(500) }]),
        /^function "extra": maxBatchingWindow must be a whole number of seconds$/,
      ],
      [
        'a visibility timeout that is not whole seconds',
        app({ queues: { jobs: { visibilityTimeout: millis(200_500) } } }),
        /^queue "jobs": visibilityTimeout must be a whole number of seconds \(got 200500 ms\)$/,
      ],
      [
        'a retention that is not whole seconds',
        app({ queues: { jobs: { retention: millis(90_250) } } }),
        /^queue "jobs": retention must be a whole number of seconds \(got 90250 ms\)$/,
      ],
      [
        'a dead-letter retention that is not whole seconds',
        app({ queues: { jobs: { deadLetterRetention: millis(90_250) } } }),
        /^queue "jobs": deadLetterRetention must be a whole number of seconds \(got 90250 ms\)$/,
      ],
      [
        'a retention under a minute',
        app({ queues: { jobs: { retention: seconds(59) } } }),
        /^queue "jobs": retention must be 1 minute to 14 days$/,
      ],
      [
        'a dead-letter retention over 14 days',
        app({ queues: { jobs: { deadLetterRetention: days(15) } } }),
        /^queue "jobs": deadLetterRetention must be 1 minute to 14 days$/,
      ],
      [
        'a maxReceiveCount of 0',
        app({ queues: { jobs: { maxReceiveCount: 0 } } }),
        /^queue "jobs": maxReceiveCount must be 1-1000 \(got 0\)$/,
      ],
      [
        'a maxReceiveCount of 1001',
        app({ queues: { jobs: { maxReceiveCount: 1001 } } }),
        /^queue "jobs": maxReceiveCount must be 1-1000 \(got 1001\)$/,
      ],
      ['a memory size under 128 MB', withExtra([], { memoryMb: 127 }), /^function "extra": memoryMb must be a whole number 128-10240 \(got 127\)$/],
      ['a memory size over 10240 MB', withExtra([], { memoryMb: 10_241 }), /^function "extra": memoryMb must be a whole number 128-10240 \(got 10241\)$/],
      ['a fractional memory size', withExtra([], { memoryMb: 512.5 }), /^function "extra": memoryMb must be a whole number 128-10240 \(got 512\.5\)$/],
      ['a timeout of 0 seconds', withExtra([], { timeout: seconds(0) }), /^function "extra": timeout must be 1-900 seconds \(got 0\)$/],
      ['a timeout over 15 minutes', withExtra([], { timeout: seconds(901) }), /^function "extra": timeout must be 1-900 seconds \(got 901\)$/],
      [
        'a greedy parameter that is not the last segment',
        withExtra([{ type: 'http', method: 'GET', path: '/files/{proxy+}/meta' }]),
        /^function "extra": a greedy \{param\+\} must be the last segment of "\/files\/\{proxy\+\}\/meta"$/,
      ],
      [
        'two schedules with the same name',
        withExtra([
          { type: 'schedule', name: 'nightly', expression: 'cron(0 2 * * ? *)' },
          { type: 'schedule', name: 'nightly', expression: 'rate(1 day)' },
        ]),
        /^function "extra": schedule name "nightly" is used twice$/,
      ],
      [
        'an unrecognisable schedule expression',
        withExtra([{ type: 'schedule', name: 'often', expression: 'every 5 minutes' }]),
        /^function "extra": Invalid schedule expression "every 5 minutes": /,
      ],
      [
        'a rate expression with the wrong unit number',
        withExtra([{ type: 'schedule', name: 'often', expression: 'rate(1 minutes)' }]),
        /^function "extra": Invalid schedule expression "rate\(1 minutes\)": a rate value of 1 takes the singular unit "minute"/,
      ],
    ])('reports %s', (_what, declaration, pattern) => {
      expectOneProblem(declaration, pattern);
    });

    it('reports a schedule name used twice across different functions', () => {
      const base = app();
      const declaration: AppDeclaration = {
        ...base,
        functions: {
          ...base.functions,
          first: fn({ events: [{ type: 'schedule', name: 'nightly', expression: 'rate(1 day)' }] }),
          second: fn({ events: [{ type: 'schedule', name: 'nightly', expression: 'rate(2 days)' }] }),
        },
      };
      expectOneProblem(declaration, /^function "second": schedule name "nightly" is used twice$/);
    });

    it.each(['pings', '/pings/', '/a//b', '/a b', '/{id', '/{1id}', '/{}', '/a/{id}x', '', '/ü'])(
      'reports %j as not a REST API resource path',
      (path) => {
        const declaration = withExtra([{ type: 'http', method: 'GET', path }]);
        const problems = problemsOf(declaration);
        expect(problems.some((p) => p.startsWith(`function "extra": ${JSON.stringify(path)} is not a REST API resource path`))).toBe(true);
      },
    );

    it.each(['/', '/health', '/pings/{id}', '/files/{proxy+}', '/a.b/c_d/e~f/g-h', '/{proxy+}', '/v1/{tenant}/{path+}'])(
      'accepts %j as a REST API resource path',
      (path) => {
        expect(() => defineApp(withExtra([{ type: 'http', method: 'GET', path }]))).not.toThrow();
      },
    );

    it.each<[string, HttpMethod, HttpMethod]>([
      ['the same method twice', 'GET', 'GET'],
      ['ANY after an exact method', 'GET', 'ANY'],
      ['an exact method after ANY', 'ANY', 'POST'],
      ['ANY twice', 'ANY', 'ANY'],
    ])('reports a duplicate route declaring %s on one path', (_what, first, second) => {
      const declaration: AppDeclaration = {
        name: 'test-app',
        functions: {
          one: fn({ events: [{ type: 'http', method: first, path: '/pings' }] }),
          two: fn({ events: [{ type: 'http', method: second, path: '/pings' }] }),
        },
      };
      expectOneProblem(declaration, new RegExp(`^function "two": route ${second} /pings is already declared by function "one"$`));
    });

    it('reports a route declared twice by the same function', () => {
      const declaration = withExtra([
        { type: 'http', method: 'POST', path: '/jobs' },
        { type: 'http', method: 'POST', path: '/jobs' },
      ]);
      expectOneProblem(declaration, /^function "extra": route POST \/jobs is already declared by function "extra"$/);
    });

    it('accepts different methods on one path and one method on different paths', () => {
      const built = defineApp(
        withExtra([
          { type: 'http', method: 'POST', path: '/pings' },
          { type: 'http', method: 'DELETE', path: '/pings' },
          { type: 'http', method: 'GET', path: '/pings/{id}' },
        ]),
      );
      expect(built.routes.map((r) => `${r.functionId} ${r.method} ${r.path}`)).toEqual([
        'api GET /pings',
        'extra POST /pings',
        'extra DELETE /pings',
        'extra GET /pings/{id}',
      ]);
    });

    it.each(['Events', 'page-views', 'page_views', '1table', 'tàble'])('reports the table id %j', (id) => {
      const declaration = app({ tables: { [id]: { partitionKey: { name: 'pk' } } } });
      expectOneProblem(declaration, new RegExp(`^id "${id}" must be camelCase letters and digits, starting with a lower-case letter$`));
    });

    it('reports bad queue and function ids', () => {
      const declaration: AppDeclaration = {
        name: 'test-app',
        queues: { 'io-jobs': {} },
        functions: { My_Fn: fn() },
      };
      const problems = problemsOf(declaration);
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^id "io-jobs" must be camelCase/);
      expect(problems[1]).toMatch(/^id "My_Fn" must be camelCase/);
    });

    it.each(['Ferry', 'ferry_app', '1ferry', '-ferry', '', 'a'.repeat(32)])('reports the app name %j', (name) => {
      expectOneProblem(app({ name }), /^app name ".*" must be lower-case letters, digits and dashes \(at most 31\)$/);
    });

    it.each(['f', 'ferry', 'ferry-2', 'a'.repeat(31)])('accepts the app name %j', (name) => {
      expect(defineApp(app({ name })).name).toBe(name);
    });

    it.each<[string, Partial<FunctionDeclaration>]>([
      ['128 MB', { memoryMb: 128 }],
      ['10240 MB', { memoryMb: 10_240 }],
      ['a 1 second timeout', { timeout: seconds(1) }],
      ['a 900 second timeout', { timeout: minutes(15) }],
    ])('accepts a function with %s', (_what, overrides) => {
      expect(() => defineApp(withExtra([], overrides))).not.toThrow();
    });

    it.each<[string, EventDeclaration]>([
      ['maxConcurrency 2', { type: 'sqs', queue: 'jobs', maxConcurrency: 2 }],
      ['maxConcurrency 1000', { type: 'sqs', queue: 'jobs', maxConcurrency: 1000 }],
      ['batchSize 10 without a window', { type: 'sqs', queue: 'jobs', batchSize: 10 }],
      ['batchSize 10000 with a window', { type: 'sqs', queue: 'jobs', batchSize: 10_000, maxBatchingWindow: minutes(5) }],
    ])('accepts an sqs event with %s', (_what, event) => {
      expect(() => defineApp(withExtra([event]))).not.toThrow();
    });

    it('lists every problem in one InvalidDeclarationError', () => {
      const declaration: AppDeclaration = {
        name: 'Bad Name',
        tables: { plain: { partitionKey: { name: 'pk' } } },
        queues: { jobs: { maxReceiveCount: 0 } },
        functions: {
          worker: fn({
            memoryMb: 64,
            uses: { tables: { missing: 'read' } },
            events: [
              { type: 'sqs', queue: 'jobs', maxConcurrency: 1 },
              { type: 'dynamodb-stream', table: 'plain' },
              { type: 'http', method: 'GET', path: 'no-slash' },
            ],
          }),
        },
      };
      let thrown: unknown;
      try {
        defineApp(declaration);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidDeclarationError);
      const error = thrown as InvalidDeclarationError;
      expect(error.name).toBe('InvalidDeclarationError');
      expect(error.problems).toHaveLength(7);
      const expected = [
        /^app name "Bad Name"/,
        /^function "worker": memoryMb must be a whole number 128-10240 \(got 64\)$/,
        /^function "worker": uses\.tables names unknown table "missing"$/,
        /^function "worker": maxConcurrency must be 2-1000 \(got 1\)$/,
        /^function "worker": table "plain" has no stream/,
        /^function "worker": "no-slash" is not a REST API resource path/,
        /^queue "jobs": maxReceiveCount must be 1-1000 \(got 0\)$/,
      ];
      expected.forEach((pattern, i) => expect(error.problems[i]).toMatch(pattern));
      expect(error.message).toMatch(/^the app declaration has 7 problem\(s\):\n- /);
      for (const problem of error.problems) expect(error.message).toContain(`\n- ${problem}`);
    });
  });

  describe('access merging', () => {
    it.each<[string, string, 'send' | 'consume' | 'sendConsume' | undefined]>([
      ['no declared access', 'consume', undefined],
      ['send access', 'sendConsume', 'send'],
      ['consume access', 'consume', 'consume'],
      ['sendConsume access', 'sendConsume', 'sendConsume'],
    ])('gives a function with %s to the queue its sqs event reads %s access to it', (_what, merged, declared) => {
      const declaration = withExtra([{ type: 'sqs', queue: 'jobs' }], declared === undefined ? {} : { uses: { queues: { jobs: declared } } });
      expect(functionOf(defineApp(declaration), 'extra').queues).toEqual({ jobs: merged });
    });

    it.each<[string, string, 'read' | 'write' | 'readWrite' | undefined]>([
      ['no declared access', 'read', undefined],
      ['read access', 'read', 'read'],
      ['write access', 'readWrite', 'write'],
      ['readWrite access', 'readWrite', 'readWrite'],
    ])('gives a function with %s to the table its stream event reads %s access to it', (_what, merged, declared) => {
      const declaration = withExtra(
        [{ type: 'dynamodb-stream', table: 'events' }],
        declared === undefined ? {} : { uses: { tables: { events: declared } } },
      );
      expect(functionOf(defineApp(declaration), 'extra').tables).toEqual({ events: merged });
    });

    it('does not change the access the declaration object holds', () => {
      const uses = { queues: { jobs: 'send' as const } };
      defineApp(withExtra([{ type: 'sqs', queue: 'jobs' }], { uses }));
      expect(uses.queues.jobs).toBe('send');
    });
  });

  describe('schedules', () => {
    it('parses schedule expressions and keeps their input', () => {
      const built = defineApp(
        withExtra([
          { type: 'schedule', name: 'often', expression: 'rate(5 minutes)', input: { kind: 'sweep' } },
          { type: 'schedule', name: 'nightly', expression: 'cron(0 2 * * ? *)' },
        ]),
      );
      expect(built.schedules).toHaveLength(2);
      expect(built.schedules[0]).toMatchObject({ functionId: 'extra', name: 'often', expression: { kind: 'rate' }, input: { kind: 'sweep' } });
      expect(built.schedules[1]).toMatchObject({ functionId: 'extra', name: 'nightly', expression: { kind: 'cron' } });
      expect(built.schedules[1]).not.toHaveProperty('input');
    });
  });
});

// ---------------------------------------------------------------------------
// environmentOf
// ---------------------------------------------------------------------------

describe('environmentOf', () => {
  const physical = {
    tableName: (id: string) => `table-${id}`,
    queueUrl: (id: string) => `https://sqs/${id}`,
    deadLetterQueueUrl: (id: string) => `https://sqs/${id}-dlq`,
  };

  it('names one variable per table and two per queue, and the app as the log service, besides the literal environment', () => {
    const built = defineApp({
      name: 'test-app',
      tables: { pageViews: { partitionKey: { name: 'pk' } } },
      queues: { io: {} },
      functions: {
        web: fn({ uses: { tables: { pageViews: 'readWrite' }, queues: { io: 'send' } }, environment: { LOG_LEVEL: 'debug' } }),
      },
    });
    expect(environmentOf(built, functionOf(built, 'web'), physical)).toEqual({
      POWERTOOLS_SERVICE_NAME: 'test-app',
      LOG_LEVEL: 'debug',
      FERRY_TABLE_PAGE_VIEWS: 'table-pageViews',
      FERRY_QUEUE_IO_URL: 'https://sqs/io',
      FERRY_QUEUE_IO_DLQ_URL: 'https://sqs/io-dlq',
    });
  });

  it('includes the resources a function reaches only through its events', () => {
    const built = defineApp(
      withExtra([
        { type: 'sqs', queue: 'jobs' },
        { type: 'dynamodb-stream', table: 'events' },
      ]),
    );
    expect(environmentOf(built, functionOf(built, 'extra'), physical)).toEqual({
      POWERTOOLS_SERVICE_NAME: built.name,
      FERRY_TABLE_EVENTS: 'table-events',
      FERRY_QUEUE_JOBS_URL: 'https://sqs/jobs',
      FERRY_QUEUE_JOBS_DLQ_URL: 'https://sqs/jobs-dlq',
    });
  });

  it('holds only the service and the literal environment for a function that uses nothing; a function may name its own service', () => {
    const built = defineApp({ name: 'test-app', functions: { solo: fn({ environment: { A: '1', B: '' } }), own: fn({ environment: { POWERTOOLS_SERVICE_NAME: 'billing' } }) } });
    expect(environmentOf(built, functionOf(built, 'solo'), physical)).toEqual({ POWERTOOLS_SERVICE_NAME: 'test-app', A: '1', B: '' });
    expect(environmentOf(built, functionOf(built, 'own'), physical)).toEqual({ POWERTOOLS_SERVICE_NAME: 'billing' });
  });
});

// ---------------------------------------------------------------------------
// duration.ts
// ---------------------------------------------------------------------------

describe('duration', () => {
  it.each<[string, Duration, number]>([
    ['millis(250)', millis(250), 250],
    ['seconds(1.5)', seconds(1.5), 1500],
    ['minutes(2)', minutes(2), 120_000],
    ['hours(1)', hours(1), 3_600_000],
    ['days(14)', days(14), 1_209_600_000],
  ])('measures %s in milliseconds', (_what, d, ms) => {
    expect(d.milliseconds).toBe(ms);
  });

  it('returns frozen values', () => {
    expect(Object.isFrozen(seconds(1))).toBe(true);
  });

  it.each<[string, () => Duration]>([
    ['a negative length', () => seconds(-1)],
    ['NaN', () => millis(Number.NaN)],
    ['Infinity', () => days(Number.POSITIVE_INFINITY)],
  ])('rejects %s with a RangeError naming the constructor', (_what, make) => {
    expect(make).toThrow(RangeError);
    expect(make).toThrow(/^\w+\(\) must be a finite, non-negative length of time/);
  });

  describe('toWholeSeconds', () => {
    it('converts a whole number of seconds', () => {
      expect(toWholeSeconds(minutes(2), 'x')).toBe(120);
      expect(toWholeSeconds(seconds(0), 'x')).toBe(0);
    });

    it('rejects a fraction of a second, naming the label', () => {
      expect(() => toWholeSeconds(millis(1500), 'queue "q": retention')).toThrow(
        /^queue "q": retention must be a whole number of seconds \(got 1500 ms\)$/,
      );
    });
  });
});

// ---------------------------------------------------------------------------
// resource-env.ts
// ---------------------------------------------------------------------------

describe('resource-env', () => {
  describe('variable names', () => {
    it.each([
      ['state', 'FERRY_TABLE_STATE'],
      ['pageViews', 'FERRY_TABLE_PAGE_VIEWS'],
      ['s3Objects', 'FERRY_TABLE_S3_OBJECTS'],
    ])('names the variable of table %s %s', (id, variable) => {
      expect(tableEnvName(id)).toBe(variable);
    });

    it.each([
      ['io', 'FERRY_QUEUE_IO_URL', 'FERRY_QUEUE_IO_DLQ_URL'],
      ['cpuJobs', 'FERRY_QUEUE_CPU_JOBS_URL', 'FERRY_QUEUE_CPU_JOBS_DLQ_URL'],
    ])('names the variables of queue %s %s and %s', (id, url, dlq) => {
      expect(queueUrlEnvName(id)).toBe(url);
      expect(deadLetterQueueUrlEnvName(id)).toBe(dlq);
    });
  });

  describe('lookups', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    function thrownBy(read: () => string): MissingResourceEnvError {
      try {
        read();
      } catch (error) {
        if (error instanceof MissingResourceEnvError) return error;
        throw error;
      }
      throw new Error('expected a MissingResourceEnvError');
    }

    it('throws MissingResourceEnvError naming the variable and uses.tables entry when a table variable is unset', () => {
      vi.stubEnv('FERRY_TABLE_X', undefined);
      const error = thrownBy(() => tableName('x'));
      expect(error.name).toBe('MissingResourceEnvError');
      expect(error.variable).toBe('FERRY_TABLE_X');
      expect(error.resource).toBe('uses.tables.x');
      expect(error.message).toMatch(/^FERRY_TABLE_X is not set: /);
      expect(error.message).toMatch(/declare uses\.tables\.x under "uses"/);
    });

    it('treats an empty variable as unset', () => {
      vi.stubEnv('FERRY_TABLE_X', '');
      expect(() => tableName('x')).toThrow(MissingResourceEnvError);
    });

    it('throws naming uses.queues when a queue variable is unset', () => {
      vi.stubEnv('FERRY_QUEUE_CPU_JOBS_URL', undefined);
      vi.stubEnv('FERRY_QUEUE_CPU_JOBS_DLQ_URL', undefined);
      expect(() => queueUrl('cpuJobs')).toThrow(/^FERRY_QUEUE_CPU_JOBS_URL is not set: .*uses\.queues\.cpuJobs/);
      expect(() => deadLetterQueueUrl('cpuJobs')).toThrow(/^FERRY_QUEUE_CPU_JOBS_DLQ_URL is not set: .*uses\.queues\.cpuJobs/);
    });

    it('returns the value of a set variable', () => {
      vi.stubEnv('FERRY_TABLE_X', 'test-app-x');
      vi.stubEnv('FERRY_QUEUE_IO_URL', 'http://localhost:9324/queue/io');
      vi.stubEnv('FERRY_QUEUE_IO_DLQ_URL', 'http://localhost:9324/queue/io-dlq');
      expect(tableName('x')).toBe('test-app-x');
      expect(queueUrl('io')).toBe('http://localhost:9324/queue/io');
      expect(deadLetterQueueUrl('io')).toBe('http://localhost:9324/queue/io-dlq');
    });

    it('reads the environment at call time, not at import', () => {
      vi.stubEnv('FERRY_TABLE_X', 'first');
      expect(tableName('x')).toBe('first');
      vi.stubEnv('FERRY_TABLE_X', 'second');
      expect(tableName('x')).toBe('second');
    });
  });
});

// ---------------------------------------------------------------------------
// app/resources.ts
// ---------------------------------------------------------------------------

describe("Ferry's resources", () => {
  it('declares the api routes: health, the ping slice and the report endpoint', () => {
    expect(resources.routes.filter((r) => r.functionId === 'api').map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /health',
      'POST /pings',
      'GET /pings/{id}',
      'GET /reports',
      'GET /reports/{name}',
      'POST /reports/{name}/retry',
    ]);
  });

  it('feeds queue io to ioWorker and queue cpu to cpuWorker, lets each worker and api send to both', () => {
    expect(resources.sqsSources).toEqual([
      { functionId: 'ioWorker', queue: 'io', batchSize: 10, maxBatchingWindow: seconds(0), maxConcurrency: 5 },
      { functionId: 'cpuWorker', queue: 'cpu', batchSize: 1, maxBatchingWindow: seconds(0), maxConcurrency: 2 },
    ]);
    expect(functionOf(resources, 'cpuWorker')).toMatchObject({ memoryMb: 1769, queues: { cpu: 'sendConsume', io: 'send' } });
    expect(functionOf(resources, 'ioWorker').queues).toEqual({ io: 'sendConsume', cpu: 'send' });
    expect(functionOf(resources, 'api').queues).toEqual({ io: 'send', cpu: 'send' });
  });

  it('gives queue io six times ioWorker timeout as its visibility timeout', () => {
    expect(queueOf(resources, 'io').visibilityTimeout).toEqual(seconds(6 * 30));
  });
});

describe('defineApp route siblings', () => {
  it('rejects two routes naming the same path level with different variables, as API Gateway does', () => {
    expect(() =>
      defineApp({
        name: 'siblings',
        functions: {
          api: {
            entry: 'functions/api.ts',
            timeout: seconds(3),
            events: [
              { type: 'http', method: 'GET', path: '/pings/{id}' },
              { type: 'http', method: 'DELETE', path: '/pings/{name}/x' },
            ],
          },
        },
      }),
    ).toThrow(/"\/pings\/\{name\}\/x" and "\/pings\/\{id\}" name the same path part differently/);
  });

  it('accepts the same variable under the same parent on several routes', () => {
    const app = defineApp({
      name: 'siblings',
      functions: {
        api: {
          entry: 'functions/api.ts',
          timeout: seconds(3),
          events: [
            { type: 'http', method: 'GET', path: '/pings/{id}' },
            { type: 'http', method: 'DELETE', path: '/pings/{id}/x' },
          ],
        },
      },
    });
    expect(app.routes).toHaveLength(2);
  });
});
