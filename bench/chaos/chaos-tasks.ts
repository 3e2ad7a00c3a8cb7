/**
 * The chaos suite's tasks. What they do is counted by a witness: in memory
 * (on `globalThis`, shared by the suite and the in-process worker) for
 * effects outside AWS, which a killed environment cannot record; in DynamoDB
 * (`EFFECT#<key>` counters) for exactly-once effects, which commit with their
 * idempotency record (`onceWrite`).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { millis, seconds } from '../../lib/app/duration.js';
import { tableName } from '../../lib/app/resource-env.js';
import { documentClient } from '../../lib/aws/clients.js';
import { onceWrite } from '../../lib/coordination/idempotency.js';
import { jobs } from '../../lib/jobs/enqueue.js';
import { NonRetryableError } from '../../lib/jobs/errors.js';
import { defineTask } from '../../lib/jobs/task.js';
import { invocationAlive } from '../../lib/local/invocation-scope.js';
import { derivedId } from '../../lib/util/derived-id.js';
import { sleep } from '../../lib/util/sleep.js';
import { onboard, onboardAgain, signUp } from '../../notes/onboarding.js';

const WITNESS = Symbol.for('ferry.bench.chaos-witness');

/** Effects outside AWS, by key: how many times each happened. */
export function witness(): Map<string, number> {
  const g = globalThis as unknown as Record<symbol, Map<string, number> | undefined>;
  g[WITNESS] ??= new Map();
  return g[WITNESS];
}

/** An effect outside AWS (an email, a webhook): counted, unless the environment is dead (then it never returns). */
async function outsideEffect(key: string): Promise<void> {
  if (!invocationAlive()) await new Promise<never>(() => undefined);
  witness().set(key, (witness().get(key) ?? 0) + 1);
}

const EFFECT = (key: string) => ({ pk: `EFFECT#${key}`, sk: 'EFFECT' });

/** An exactly-once effect: a counter item credited in the same transaction as the key's idempotency record. */
async function exactlyOnceEffect(key: string): Promise<void> {
  await onceWrite(`effect:${key}`, [
    {
      Update: {
        TableName: tableName('state'),
        Key: EFFECT(key),
        UpdateExpression: 'ADD applied :one',
        ExpressionAttributeValues: { ':one': 1 },
      },
    },
  ]);
}

/** How many times the exactly-once effect of `key` was applied. */
export async function exactlyOnceCount(key: string): Promise<number> {
  const { Item } = await documentClient().send(new GetCommand({ TableName: tableName('state'), Key: EFFECT(key), ConsistentRead: true }));
  return Number(Item?.applied ?? 0);
}

const keyed = z.object({ key: z.string().min(1) });
const retry = { maxAttempts: 4, baseDelay: millis(200), maxDelay: seconds(2) };

/** Tracked, at least once: a duplicate run is possible only when an environment dies after the effect and before the record. */
export const trackedEffect = defineTask({ name: 'chaos.tracked', queue: 'io', input: keyed, retry, run: async ({ key }) => (await outsideEffect(key), { key }) });

/** Untracked (no record), at least once. */
export const untrackedEffect = defineTask({ name: 'chaos.untracked', queue: 'cpu', input: keyed, retry, trackStatus: false, run: async ({ key }) => void (await outsideEffect(key)) });

/** Exactly once, through `onceWrite`. */
export const exactlyOnce = defineTask({ name: 'chaos.exactly-once', queue: 'io', input: keyed, retry, run: async ({ key }) => (await exactlyOnceEffect(key), { key }) });

/** Fails for good: the DLQ, with its reason. */
export const failing = defineTask({
  name: 'chaos.failing',
  queue: 'io',
  input: keyed,
  retry,
  run: async ({ key }) => {
    throw new NonRetryableError(`job ${key} cannot succeed`);
  },
});

/** Fails its first attempt, then succeeds. */
export const flaky = defineTask({
  name: 'chaos.flaky',
  queue: 'cpu',
  input: keyed,
  retry,
  run: async ({ key }, job) => {
    if (job.attempt === 1) throw new Error(`first attempt of ${key} fails`);
    await outsideEffect(key);
    return { key, attempt: job.attempt };
  },
});

/** How many children a spawner enqueues. */
export const CHILDREN = 4;

/** The key of a spawner's `i`-th child. */
export const childKey = (parentKey: string, i: number) => `${parentKey}/${i}`;

/** A job id that is the same on every run of the spawner: its redelivery re-sends the same children. */
const childJobId = (parentKey: string, i: number) => derivedId('chaos-child', childKey(parentKey, i));

/** Enqueues its children (exactly-once jobs) from inside a worker: the enqueue path under faults. */
export const spawner = defineTask({
  name: 'chaos.spawner',
  queue: 'io',
  input: keyed,
  retry,
  run: async ({ key }) => {
    for (let i = 0; i < CHILDREN; i++) await jobs.enqueue(exactlyOnce, { key: childKey(key, i) }, { jobId: childJobId(key, i) });
    return { children: CHILDREN };
  },
});

export const add = defineTask({ name: 'chaos.add', queue: 'io', input: z.tuple([z.number(), z.number()]), retry, run: async ([a, b]) => a + b });
export const xsum = defineTask({ name: 'chaos.xsum', queue: 'cpu', input: z.array(z.number()), retry, run: async (v) => v.reduce((a, b) => a + b, 0) });
export const broken = defineTask({
  name: 'chaos.broken',
  queue: 'io',
  input: z.unknown(),
  retry,
  run: async () => {
    throw new NonRetryableError('this member always fails');
  },
});
/** Sleeps, heeding its signal. */
export const nap = defineTask({
  name: 'chaos.nap',
  queue: 'io',
  input: z.object({ ms: z.number().int().min(0) }),
  retry,
  timeout: seconds(6),
  run: async ({ ms }, job) => {
    await sleep(ms, job.signal);
    return ms;
  },
});
/** A workflow's error callback: its effect exactly once. */
export const onWorkflowError = defineTask({
  name: 'chaos.on-error',
  queue: 'io',
  input: z.object({ key: z.string(), workflowId: z.string(), error: z.object({ name: z.string() }).loose() }),
  retry,
  run: async ({ key }) => (await exactlyOnceEffect(key), { key }),
});

/** The entity row an outbox writer commits with its job. */
const ENTITY = (key: string) => ({ pk: `ENTITY#${key}`, sk: 'ENTITY' });

/**
 * The outbox's job: its exactly-once effect, after checking that the row
 * committed with it is readable (a job that ran before its row's commit would
 * find none, and fail for good: counted as a problem).
 */
export const outboxChild = defineTask({
  name: 'chaos.outbox-child',
  queue: 'io',
  input: keyed,
  retry,
  run: async ({ key }) => {
    const { Item } = await documentClient().send(new GetCommand({ TableName: tableName('state'), Key: ENTITY(key), ConsistentRead: true }));
    if (Item === undefined) throw new NonRetryableError(`the row of ${key} is not readable: the job ran before its commit`);
    await exactlyOnceEffect(key);
    return { key };
  },
});

/** The job id of an outbox writer's child: the same on every run, so a re-run finds its own earlier commit. */
export const outboxChildJobId = (key: string) => derivedId('chaos-outbox', key);

/** Writes an entity row and its job in one transaction (`enqueueWith`), from inside a worker: the outbox under faults. */
export const outboxWriter = defineTask({
  name: 'chaos.outbox-writer',
  queue: 'io',
  input: keyed,
  retry,
  run: async ({ key }) => {
    const row = { Put: { TableName: tableName('state'), Item: { ...ENTITY(key), key, at: new Date().toISOString() }, ConditionExpression: 'attribute_not_exists(pk)' } };
    const job = await jobs.enqueueWith([row], outboxChild, { key }, { jobId: outboxChildJobId(key) });
    return { key, deduplicated: job.deduplicated };
  },
});

/** Signs a user up (the notes service's signup: the user and the onboarding job in one transaction), then asks for onboarding once more. */
export const signupUser = defineTask({
  name: 'chaos.signup',
  queue: 'io',
  input: z.object({ id: z.string().min(1) }),
  retry,
  run: async ({ id }) => {
    await signUp({ id, name: `User ${id}`, email: `${id}@example.com`, phone: '+15550100', simulate: { smsFailures: 1 } });
    // A duplicate onboarding job (a second click); a re-run of this task adds another: each message still reaches the user once.
    await onboardAgain(id);
    return { id };
  },
});

export const chaosTasks = [trackedEffect, untrackedEffect, exactlyOnce, failing, flaky, spawner, add, xsum, broken, nap, onWorkflowError, outboxChild, outboxWriter, signupUser, onboard];
