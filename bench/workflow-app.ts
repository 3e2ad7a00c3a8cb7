/** The app `npm run bench:workflows` runs: one queue, one worker with `add`, `xsum` and the workflow built-ins. */
import { z } from 'zod';
import { defineApp } from '../lib/app/define-app.js';
import { seconds } from '../lib/app/duration.js';
import { defineTask } from '../lib/jobs/task.js';

/** How many times each task ran in this process (the bench runs the worker in-process): a member run twice would show here. */
export const executions = { add: 0, xsum: 0 };

export const add = defineTask({
  name: 'bench.add',
  queue: 'jobs',
  input: z.tuple([z.number(), z.number()]),
  run: async ([a, b]) => {
    executions.add++;
    return a + b;
  },
});
export const xsum = defineTask({
  name: 'bench.xsum',
  queue: 'jobs',
  input: z.array(z.number()),
  run: async (v) => {
    executions.xsum++;
    return v.reduce((a, b) => a + b, 0);
  },
});

export const benchApp = defineApp({
  name: 'bench-workflows',
  tables: { state: { partitionKey: { name: 'pk' }, sortKey: { name: 'sk' }, timeToLiveAttribute: 'expiresAt' } },
  queues: { jobs: {} },
  functions: {
    worker: {
      entry: 'bench/workflow-entry.ts',
      timeout: seconds(30),
      uses: { tables: { state: 'readWrite' }, queues: { jobs: 'send' } },
      events: [{ type: 'sqs', queue: 'jobs', batchSize: 10, maxConcurrency: 5 }],
    },
  },
});
