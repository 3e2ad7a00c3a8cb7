/**
 * The tasks the workflow engine itself needs on the workers: map and starmap
 * (one job applying a task to each item in turn) and the deadline check.
 * Register them with the app's own tasks (the report service's: app/tasks.ts).
 */
import { z } from 'zod';
import { defineTask, parseTaskInput, TASK_DEFAULTS, type AnyTask } from '../jobs/task.js';
import { UnknownTaskError } from '../jobs/errors.js';
import type { TaskRegistry } from '../jobs/task-registry.js';
import { MAP_TASK, STARMAP_TASK } from './canvas.js';
import { DEADLINE_TASK, type WorkflowEngine } from './workflow-engine.js';

export function workflowTasks(engine: WorkflowEngine, registry: () => TaskRegistry, queue: string = TASK_DEFAULTS.queue): AnyTask[] {
  const applyEach = (name: string, items: z.ZodType<unknown[]>) =>
    defineTask({
      name,
      queue,
      input: z.object({ task: z.string().min(1), items }),
      run: async ({ task, items: list }, context) => {
        const target = registry().get(task);
        if (target === undefined) throw new UnknownTaskError(task, registry().names);
        const results: unknown[] = [];
        for (const item of list) results.push(await target.run(parseTaskInput(target, item), context));
        return results;
      },
    });
  return [
    applyEach(MAP_TASK, z.array(z.unknown())),
    applyEach(STARMAP_TASK, z.array(z.array(z.unknown()))),
    defineTask({
      name: DEADLINE_TASK,
      queue,
      input: z.object({ workflowId: z.string().min(1) }),
      trackStatus: false,
      run: async ({ workflowId }) => ({ failed: await engine.checkDeadline(workflowId, queue) }),
    }),
  ];
}
