/**
 * The app `npm run bench:single-flight` runs: the seed tutorial's first view
 * (the report computed in the request) and its four ways to compute it in the
 * background, rebuilt faithfully on DynamoDB (its Django cache and cache.lock
 * become a TTL'd cache item and a lease), and Ferry's single-flight, each as a
 * view (the request side) and, but for the first, a task. The report is a
 * 500 ms wait (`BENCH_COMPUTE_MS`): it loads nothing, so the patterns differ
 * only in what they send, write and run.
 */
import { z } from 'zod';
import { defineApp } from '../lib/app/define-app.js';
import { millis, seconds } from '../lib/app/duration.js';
import { defineFlightTask, requestFlight } from '../lib/coordination/flight-task.js';
import { LockHeldError, withLock } from '../lib/coordination/lease.js';
import { DynamoResultCache } from '../lib/coordination/result-cache.js';
import { jobs } from '../lib/jobs/enqueue.js';
import { defineTask } from '../lib/jobs/task.js';

export const COMPUTE_MS = Number(process.env.BENCH_COMPUTE_MS ?? 500);
const TTL = seconds(60);

export const benchApp = defineApp({
  name: 'bench-flight',
  tables: { state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' } },
  queues: { reports: {} },
  functions: {
    worker: {
      entry: 'bench/single-flight-entry.ts',
      timeout: seconds(60),
      uses: { tables: { state: 'readWrite' }, queues: { reports: 'send' } },
      events: [{ type: 'sqs', queue: 'reports', batchSize: 10, maxConcurrency: 5 }],
    },
  },
});

/** Computations per pattern, counted where they run (the worker shares this process). */
export const computations: Record<string, number> = {};

async function slowReport(pattern: string): Promise<number> {
  computations[pattern] = (computations[pattern] ?? 0) + 1;
  await new Promise((r) => setTimeout(r, COMPUTE_MS));
  return 2289;
}

const cache = new DynamoResultCache();
const input = z.object({ key: z.string() });

/** Django's `with cache.lock(name, timeout=60, blocking_timeout=1)`: skip the run if the lock stays taken. */
async function underSeedLock(key: string, fn: () => Promise<void>): Promise<void> {
  try {
    await withLock(`${key}:lock`, { lease: TTL, wait: seconds(1), heartbeat: millis(20_000) }, fn);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
  }
}

// 1. Cache only: every request that misses sends a task.
export const seedCacheTask = defineTask({
  name: 'seed.cache', queue: 'reports', input, trackStatus: false,
  run: async ({ key }) => cache.set(key, await slowReport('seed-cache'), TTL),
});
// 2. Plus a lock in the task: tasks pile up, but only one computes at a time.
export const seedLockTask = defineTask({
  name: 'seed.lock', queue: 'reports', input, trackStatus: false,
  run: ({ key }) => underSeedLock(key, async () => cache.set(key, await slowReport('seed-lock'), TTL)),
});
// 3. Plus a "working" marker the view checks.
export const seedWorkingTask = defineTask({
  name: 'seed.working', queue: 'reports', input, trackStatus: false,
  run: ({ key }) =>
    underSeedLock(key, async () => {
      await cache.set(`${key}:working`, 1, TTL);
      await cache.set(key, await slowReport('seed-working-marker'), TTL);
      await cache.delete(`${key}:working`);
    }),
});
// 4. Plus a "task sent" marker the view sets before sending.
export const seedSentTask = defineTask({
  name: 'seed.sent', queue: 'reports', input, trackStatus: false,
  run: ({ key }) =>
    underSeedLock(key, async () => {
      await cache.delete(`${key}:sent`);
      await cache.set(`${key}:working`, 1, TTL);
      await cache.set(key, await slowReport('seed-sent-marker'), TTL);
      await cache.delete(`${key}:working`);
    }),
});
// 5. Ferry: one item, one conditional claim.
export const ferryReport = defineFlightTask({
  name: 'ferry.report', queue: 'reports', params: z.object({}),
  policy: { freshFor: TTL },
  compute: () => slowReport('ferry'),
});

export const benchTasks = [seedCacheTask.name, seedLockTask.name, seedWorkingTask.name, seedSentTask.name, ferryReport.task.name];

/** What each pattern is, for the figures' labels. */
export const baselines: Record<string, string> = {
  'seed-in-request': 'seed view 1: computes the report in the request, every request',
  'seed-cache': 'seed view 2: cache; a miss sends a task',
  'seed-lock': 'seed view 3: cache; a miss sends a task, which computes under cache.lock (1 s blocking wait)',
  'seed-working-marker': 'seed view 4: as 3, and no task while the task has set a "working" marker',
  'seed-sent-marker': 'seed view 5: as 4, and no task while the view has set a "task sent" marker',
  ferry: "Ferry's single-flight: one item, one conditional claim, one job",
};

/** Whether the report can be read now, without the side effects of a view (nothing is sent or claimed). */
export const readable: Record<string, (key: string) => Promise<boolean>> = {
  'seed-in-request': async () => false,
  'seed-cache': async (key) => (await cache.get<number>(key)) !== undefined,
  'seed-lock': async (key) => (await cache.get<number>(key)) !== undefined,
  'seed-working-marker': async (key) => (await cache.get<number>(key)) !== undefined,
  'seed-sent-marker': async (key) => (await cache.get<number>(key)) !== undefined,
  ferry: async (key) => (await ferryReport.flight.read(key))?.phase === 'ready',
};

/** The request side of each pattern: returns the report, or undefined while it is being computed. */
export const views: Record<string, (key: string) => Promise<number | undefined>> = {
  'seed-in-request': () => slowReport('seed-in-request'),
  'seed-cache': async (key) => {
    const value = await cache.get<number>(key);
    if (value === undefined) await jobs.enqueue(seedCacheTask, { key }, { trackStatus: false });
    return value;
  },
  'seed-lock': async (key) => {
    const value = await cache.get<number>(key);
    if (value === undefined) await jobs.enqueue(seedLockTask, { key }, { trackStatus: false });
    return value;
  },
  'seed-working-marker': async (key) => {
    const value = await cache.get<number>(key);
    const working = await cache.get(`${key}:working`);
    if (value === undefined && working === undefined) await jobs.enqueue(seedWorkingTask, { key }, { trackStatus: false });
    return value;
  },
  'seed-sent-marker': async (key) => {
    const value = await cache.get<number>(key);
    const sent = await cache.get(`${key}:sent`);
    const working = await cache.get(`${key}:working`);
    if (value === undefined && working === undefined && sent === undefined) {
      await cache.set(`${key}:sent`, 1, TTL);
      await jobs.enqueue(seedSentTask, { key }, { trackStatus: false });
    }
    return value;
  },
  ferry: async (key) => {
    const answer = await requestFlight(ferryReport, key, {});
    return answer.state === 'ready' ? answer.result : undefined;
  },
};
