/**
 * The Ferry app of `bench/celery.ts`: the Celery app's tasks (`bench_app.py`)
 * on one queue and one worker, with the workflow built-ins for the chord.
 * The worker's event source is the `io` pool's: batches of 10, up to 5
 * concurrent invocations (each runs its batch's records concurrently).
 */
import { z } from 'zod';
import { defineApp } from '../../lib/app/define-app.js';
import { seconds } from '../../lib/app/duration.js';
import { defineTask } from '../../lib/jobs/task.js';

export const noop = defineTask({ name: 'bench.noop', queue: 'jobs', input: z.object({ n: z.number() }), run: async () => undefined });
export const add = defineTask({ name: 'bench.add', queue: 'jobs', input: z.tuple([z.number(), z.number()]), run: async ([a, b]) => a + b });
export const xsum = defineTask({ name: 'bench.xsum', queue: 'jobs', input: z.array(z.number()), run: async (v) => v.reduce((a, b) => a + b, 0) });

/** The worker's event source, stated in the benchmark's figures. */
export const WORKER_EVENTS = { batchSize: 10, maxConcurrency: 5 } as const;

export const ferryApp = defineApp({
  name: 'bench-celery',
  tables: { state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' } },
  queues: { jobs: {} },
  functions: {
    worker: {
      entry: 'bench/celery/ferry-entry.ts',
      timeout: seconds(30),
      uses: { tables: { state: 'readWrite' }, queues: { jobs: 'send' } },
      events: [{ type: 'sqs', queue: 'jobs', ...WORKER_EVENTS }],
    },
  },
});
