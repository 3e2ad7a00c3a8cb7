/**
 * `ferry/testing`: what an app's own tests need. `startTestApp` runs the app
 * on the local runtime (its own emulators, in memory, or ones you share
 * between tests) with unique resource names and a free port, and answers
 * questions about it: a job's outcome, the runtime's counters. Job log lines
 * are at `warn` and above unless `FERRY_LOG_LEVEL` says otherwise; invocation
 * lines are printed with `FERRY_TEST_LOG=true`.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { FerryConfig } from '../app/config.js';
import type { App } from '../app/define-app.js';
import { jobs } from '../jobs/enqueue.js';
import { NOT_FOUND, type JobLookup, type JobRecord } from '../jobs/job-state.js';
import type { EmulatorEndpoints } from '../local/emulator-protocol.js';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../local/runtime.js';
import type { StatsSnapshot } from '../local/runtime-stats.js';

export { startEmulators, type Emulators } from '../local/emulators.js';
export { mulberry32 } from '../util/prng.js';

export interface TestAppOptions extends Partial<Omit<LocalRuntimeOptions, 'app'>> {
  /**
   * Running emulators to share (from `startEmulators`); the app's resources get
   * names no other test uses.
   * @default emulators of its own, in memory, stopped by `stop()`
   */
  readonly emulators?: EmulatorEndpoints;
}

export interface TestApp {
  /** Base URL of the app's REST API (routes at the root, and under the stage path as deployed). */
  readonly url: string;
  /** The runtime, for what this interface does not cover (enforcement counts, fault injection). */
  readonly runtime: LocalRuntime;
  /** A job's record now, or `{ status: 'NOT_FOUND' }`. */
  job(jobId: string): Promise<JobLookup>;
  /**
   * Waits until the job is finished (succeeded, failed or cancelled) and
   * returns its record; throws after `timeoutMs` naming the status it is in,
   * or after 2 s if no record of the job exists at all.
   */
  waitForJob(jobId: string, options?: { readonly timeoutMs?: number }): Promise<JobRecord>;
  /** The runtime's counters: invocations per function, messages per queue, dead letters. */
  stats(): Promise<StatsSnapshot>;
  stop(): Promise<void>;
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const NOT_FOUND_GRACE_MS = 2_000;

/**
 * Starts `app` (a `ferry.config.ts`'s default export, or a `defineApp` result)
 * on the local runtime. By default each function runs its synthesized bundle
 * in sandboxes of its own, as deployed (`code: 'sources'` runs the TypeScript
 * in this process: faster to start, less like Lambda).
 */
export async function startTestApp(app: FerryConfig | App, options: TestAppOptions = {}): Promise<TestApp> {
  const declaration = 'app' in app ? app.app : app;
  // One JSON line per job outcome would bury the test report; FERRY_LOG_LEVEL reaches the functions too.
  // Set before the runtime starts (which passes it on), and put back when the app stops.
  const logLevel = process.env.FERRY_LOG_LEVEL;
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const restoreLogLevel = () => {
    if (logLevel === undefined) delete process.env.FERRY_LOG_LEVEL;
    else process.env.FERRY_LOG_LEVEL = logLevel;
  };
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({
      app: declaration,
      prefix: `t-${randomBytes(4).toString('hex')}`,
      httpPort: 0,
      code: 'bundles',
      log: process.env.FERRY_TEST_LOG === 'true' ? (line) => console.log(line) : () => undefined,
      ...options,
    });
  } catch (error) {
    restoreLogLevel();
    throw error;
  }
  const job = (jobId: string) => jobs.getJob(jobId);
  return {
    url: runtime.url,
    runtime,
    job,
    async waitForJob(jobId, { timeoutMs = 30_000 } = {}) {
      const started = Date.now();
      for (;;) {
        const found = await job(jobId);
        if (FINISHED.has(found.status)) return found as JobRecord;
        const waited = Date.now() - started;
        // A tracked job's record exists before its message is sent: an id still unknown after a while names no job.
        if (found.status === NOT_FOUND && waited > NOT_FOUND_GRACE_MS) {
          throw new Error(`no job ${jobId}: no record after ${NOT_FOUND_GRACE_MS} ms (a mistyped id, or a task with trackStatus: false)`);
        }
        if (waited > timeoutMs) throw new Error(`job ${jobId} is still ${found.status} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stats: () => runtime.stats(),
    stop: async () => {
      try {
        await runtime.stop();
      } finally {
        restoreLogLevel();
      }
    },
  };
}

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs` naming `what`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
