/** The worker of the single-flight benchmark: Ferry's worker running every pattern's task. */
import { createTaskRegistry } from '../lib/jobs/task-registry.js';
import { createWorker } from '../lib/jobs/worker.js';
import { benchApp, ferryReport, seedCacheTask, seedLockTask, seedSentTask, seedWorkingTask } from './single-flight-app.js';

export const handler = createWorker({
  registry: createTaskRegistry([seedCacheTask, seedLockTask, seedWorkingTask, seedSentTask, ferryReport.task], benchApp),
  log: () => undefined,
});
