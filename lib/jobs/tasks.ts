/** The tasks Ferry's workers run, by name. */
import type { TaskRunner } from './worker.js';
import { PING_TASK, processPing } from '../demo/pings.js';

export const tasks: Readonly<Record<string, TaskRunner>> = {
  [PING_TASK]: processPing,
};
