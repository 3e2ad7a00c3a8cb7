/** The tasks Ferry's workers run, checked against the declared queues. */
import { resources } from '../resources.js';
import { processPing } from '../demo/pings.js';
import { reports } from '../reports/report-registry.js';
import { reportWorkflowTasks } from '../reports/report-workflow.js';
import { workflowTasks } from '../workflows/builtin-tasks.js';
import { workflows } from '../workflows/default-engine.js';
import { createTaskRegistry, type TaskRegistry } from './task-registry.js';

export { workflows };

export const registry: TaskRegistry = createTaskRegistry(
  [processPing, ...reports.map((r) => r.flight.task), ...reportWorkflowTasks, ...workflowTasks(workflows, () => registry)],
  resources,
);
