/** The worker of `bench/celery.ts`'s Ferry app: `noop`, `add`, `xsum` and the workflow built-ins. */
import { createTaskRegistry, type TaskRegistry } from '../../lib/jobs/task-registry.js';
import { createWorker } from '../../lib/jobs/worker.js';
import { workflowTasks } from '../../lib/workflows/builtin-tasks.js';
import { WorkflowEngine } from '../../lib/workflows/workflow-engine.js';
import { add, ferryApp, noop, xsum } from './ferry-app.js';

export const workflows = new WorkflowEngine();
const registry: TaskRegistry = createTaskRegistry([noop, add, xsum, ...workflowTasks(workflows, () => registry, 'jobs')], ferryApp);
export const handler = createWorker({ registry, workflowHook: workflows, log: () => undefined });
