/** The chaos suite's worker: the report service's tasks and the chaos tasks, on the default workflow engine. */
import { processPing } from '../../app/demo/pings.js';
import { createTaskRegistry, type TaskRegistry } from '../../lib/jobs/task-registry.js';
import { createWorker } from '../../lib/jobs/worker.js';
import { reports } from '../../app/reports/report-registry.js';
import { reportWorkflowTasks } from '../../app/reports/report-workflow.js';
import { workflowTasks } from '../../lib/workflows/builtin-tasks.js';
import { workflows } from '../../lib/workflows/default-engine.js';
import { chaosApp } from './chaos-app.js';
import { chaosTasks } from './chaos-tasks.js';

export const registry: TaskRegistry = createTaskRegistry(
  [processPing, ...reports.map((r) => r.flight.task), ...reportWorkflowTasks, ...workflowTasks(workflows, () => registry), ...chaosTasks],
  chaosApp,
);
export const handler = createWorker({ registry, workflowHook: workflows, log: () => undefined });
