/** Lambda entry point of the SQS-fed workers (every worker pool runs this handler). */
import { createWorker } from '../lib/jobs/worker.js';
import { registry, workflows } from '../lib/jobs/tasks.js';

export const handler = createWorker({ registry, workflowHook: workflows });
