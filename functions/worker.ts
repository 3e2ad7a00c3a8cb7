/** Lambda entry point of the report service's SQS-fed workers (every worker pool runs this handler). */
import { createWorker, workflows } from 'ferry';
import { registry } from '../app/tasks.js';

export const handler = createWorker({ registry, workflowHook: workflows });
