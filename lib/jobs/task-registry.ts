/**
 * The tasks a worker runs (and eager mode or `sendTask` can look up), by name,
 * checked against the app declaration: each task's queue must be declared,
 * and its max attempts must not exceed the queue's `maxReceiveCount`, or SQS
 * would dead-letter the job before the task gave up and recorded why.
 */
import type { App } from '../app/define-app.js';
import type { AnyTask } from './task.js';

export interface TaskRegistry {
  get(name: string): AnyTask | undefined;
  readonly names: readonly string[];
  /**
   * Ids of the queues a worker of this registry may receive jobs from: every
   * queue the app declares (a job can be routed to any pool with the `queue`
   * option, and workflow members run where their signature says), or, without
   * an app, the queues the tasks run on.
   */
  readonly queues: readonly string[];
  /** Declared visibility timeout of each queue, in seconds, when the registry was built with an app. */
  readonly visibilitySeconds: Readonly<Record<string, number>>;
}

export class InvalidTaskRegistryError extends Error {
  override readonly name = 'InvalidTaskRegistryError';
}

export function createTaskRegistry(tasks: readonly AnyTask[], app?: App): TaskRegistry {
  const byName = new Map<string, AnyTask>();
  const problems: string[] = [];
  for (const task of tasks) {
    if (byName.has(task.name)) problems.push(`task "${task.name}" is registered twice`);
    byName.set(task.name, task);
    if (app === undefined) continue;
    const queue = app.queues.find((q) => q.id === task.queue);
    if (queue === undefined) {
      problems.push(`task "${task.name}" runs on queue "${task.queue}", which is not declared (declared: ${app.queues.map((q) => q.id).join(', ') || 'none'})`);
    } else if (task.retry.maxAttempts > queue.maxReceiveCount) {
      problems.push(
        `task "${task.name}" allows ${task.retry.maxAttempts} attempts but queue "${queue.id}" dead-letters after ${queue.maxReceiveCount} receives; ` +
          `lower retry.maxAttempts or raise the queue's maxReceiveCount`,
      );
    }
  }
  if (problems.length > 0) throw new InvalidTaskRegistryError(problems.join('; '));
  return {
    get: (name) => byName.get(name),
    names: [...byName.keys()],
    queues: app === undefined ? [...new Set(tasks.map((t) => t.queue))] : app.queues.map((q) => q.id),
    visibilitySeconds: Object.fromEntries((app?.queues ?? []).map((q) => [q.id, Math.ceil(q.visibilityTimeout.milliseconds / 1000)])),
  };
}
