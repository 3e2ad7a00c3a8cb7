/** The tasks Ferry's workers run, checked against the declared queues. */
import { resources } from '../resources.js';
import { processPing } from '../demo/pings.js';
import { reports } from '../reports/report-registry.js';
import { workflowTasks } from '../workflows/builtin-tasks.js';
import { WorkflowEngine } from '../workflows/workflow-engine.js';
import { createTaskRegistry, type TaskRegistry } from './task-registry.js';

/** Starts workflows, and is told by the workers how their members end. */
export const workflows = new WorkflowEngine();

export const registry: TaskRegistry = createTaskRegistry(
  [processPing, ...reports.map((r) => r.flight.task), ...workflowTasks(workflows, () => registry)],
  resources,
);
