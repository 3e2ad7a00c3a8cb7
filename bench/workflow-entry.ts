/** The worker of the workflow benchmark. */
import { createTaskRegistry, type TaskRegistry } from '../lib/jobs/task-registry.js';
import { createWorker } from '../lib/jobs/worker.js';
import { workflowTasks } from '../lib/workflows/builtin-tasks.js';
import { WorkflowEngine } from '../lib/workflows/workflow-engine.js';
import { add, benchApp, xsum } from './workflow-app.js';

export const workflows = new WorkflowEngine();
const registry: TaskRegistry = createTaskRegistry([add, xsum, ...workflowTasks(workflows, () => registry, 'jobs')], benchApp);
export const handler = createWorker({ registry, workflowHook: workflows, log: () => undefined });
