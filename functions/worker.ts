/** Lambda entry point of the SQS-fed workers. */
import { createWorkerHandler } from '../lib/jobs/worker.js';
import { tasks } from '../lib/jobs/tasks.js';

export const handler = createWorkerHandler(tasks);
