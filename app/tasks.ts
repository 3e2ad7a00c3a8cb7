/** The report service's tasks (and the workflow engine's own), checked against its declared queues. */
import { createTaskRegistry, workflows, workflowTasks, type TaskRegistry } from 'ferry';
import { processPing } from './demo/pings.js';
import { reports } from './reports/report-registry.js';
import { reportWorkflowTasks } from './reports/report-workflow.js';
import { resources } from './resources.js';

export const registry: TaskRegistry = createTaskRegistry(
  [processPing, ...reports.map((r) => r.flight.task), ...reportWorkflowTasks, ...workflowTasks(workflows, () => registry)],
  resources,
);
