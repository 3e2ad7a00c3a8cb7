/** Test helpers: a local runtime on the shared emulators, with names no other test uses. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { App } from '../../lib/app/define-app.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime.js';
import { resources } from '../../app/resources.js';

export { eventually } from '../../lib/testing/index.js';

/** A prefix unique to this call, e.g. `t-3f9a1c2b`. */
export function uniquePrefix(): string {
  return `t-${randomBytes(4).toString('hex')}`;
}

/** Starts `app` (default: the report service) on the run's emulators, with unique resource names and a free HTTP port. */
export function startTestRuntime(app?: App, options: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    app: app ?? resources,
    prefix: uniquePrefix(),
    emulators: inject('emulators'),
    httpPort: 0,
    log: () => undefined,
    ...options,
  });
}
