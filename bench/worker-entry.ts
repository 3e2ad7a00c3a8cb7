/** Handlers of the worker benchmark: Ferry's worker, and a bare SQS handler as the baseline. */
import type { SQSBatchResponse } from 'aws-lambda';
import { createTaskRegistry } from '../lib/jobs/task-registry.js';
import { createWorker } from '../lib/jobs/worker.js';
import { benchApp, noop } from './worker-app.js';

export const handler = createWorker({ registry: createTaskRegistry([noop], benchApp), log: () => undefined });

/** Does nothing with each record and reports no failures. */
export const rawHandler = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });
