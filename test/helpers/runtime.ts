/** Test helpers: a local runtime on the shared emulators, with names no other test uses. */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { App } from '../../lib/app/define-app.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../lib/local/runtime.js';

/** A prefix unique to this call, e.g. `t-3f9a1c2b`. */
export function uniquePrefix(): string {
  return `t-${randomBytes(4).toString('hex')}`;
}

/** Starts `app` (default: Ferry's own) on the run's emulators, with unique resource names and a free HTTP port. */
export function startTestRuntime(app?: App, options: Partial<LocalRuntimeOptions> = {}): Promise<LocalRuntime> {
  return startLocalRuntime({
    ...(app && { app }),
    prefix: uniquePrefix(),
    emulators: inject('emulators'),
    httpPort: 0,
    log: () => undefined,
    ...options,
  });
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
