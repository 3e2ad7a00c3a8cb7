/** The app `npm run bench:worker` runs: Ferry's worker on one queue, a bare handler on another as the baseline. */
import { z } from 'zod';
import { defineApp } from '../lib/app/define-app.js';
import { seconds } from '../lib/app/duration.js';
import { defineTask } from '../lib/jobs/task.js';

export const noop = defineTask({ name: 'bench.noop', queue: 'jobs', input: z.object({ n: z.number() }), run: async () => undefined });

export const benchApp = defineApp({
  name: 'bench-worker',
  tables: { state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' } },
  queues: { jobs: {}, raw: {} },
  functions: {
    worker: {
      entry: 'bench/worker-entry.ts',
      timeout: seconds(30),
      uses: { tables: { state: 'readWrite' }, queues: { jobs: 'send' } },
      events: [{ type: 'sqs', queue: 'jobs', batchSize: 10, maxConcurrency: 5 }],
    },
    raw: {
      entry: 'bench/worker-entry.ts',
      handler: 'rawHandler',
      timeout: seconds(30),
      uses: { queues: { raw: 'send' } },
      events: [{ type: 'sqs', queue: 'raw', batchSize: 10, maxConcurrency: 5 }],
    },
  },
});
