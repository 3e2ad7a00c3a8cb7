/**
 * A single-flight computation as a task: the request side (`requestFlight`)
 * answers from the flight item and, when it wins the claim, enqueues the
 * task; the worker side starts the run under the claim's token, heartbeats
 * while computing, and stores the result or the failure.
 *
 * Flight tasks are untracked: the flight item already carries their state, so
 * a refresh costs the flight's three writes and no job-record writes.
 */
import { z } from 'zod';
import { jobs as defaultJobs, type JobClient } from '../jobs/enqueue.js';
import { defineTask, type Task, type TaskOptions } from '../jobs/task.js';
import { FLIGHT_DEFAULTS, SingleFlight, type FlightAnswer, type FlightPolicy } from './single-flight.js';

export interface FlightTaskInput<P> {
  readonly key: string;
  readonly token: number;
  readonly params: P;
}

export type FlightTaskResult = { readonly stored: true } | { readonly skipped: 'stale-claim' };

export interface FlightTaskOptions<Schema extends z.ZodType, R>
  extends Pick<TaskOptions<Schema, R>, 'name' | 'queue' | 'retry' | 'timeout'> {
  /** Schema of the parameters of one computation. */
  readonly params: Schema;
  readonly policy: FlightPolicy;
  readonly compute: (params: z.output<Schema>, context: { readonly key: string; readonly signal: AbortSignal; readonly attempt: number }) => Promise<R>;
  /** @default a SingleFlight on the `state` table */
  readonly flight?: SingleFlight;
}

export interface FlightTask<P, R> {
  readonly task: Task<FlightTaskInput<P>, FlightTaskResult, FlightTaskInput<P>>;
  readonly policy: FlightPolicy;
  readonly flight: SingleFlight;
  readonly __result?: R;
}

export function defineFlightTask<Schema extends z.ZodType, R>(options: FlightTaskOptions<Schema, R>): FlightTask<z.input<Schema>, R> {
  const flight = options.flight ?? new SingleFlight();
  const policy = options.policy;
  const input = z.object({ key: z.string().min(1), token: z.number().int().min(1), params: options.params });
  const task = defineTask({
    name: options.name,
    ...(options.queue !== undefined && { queue: options.queue }),
    ...(options.retry !== undefined && { retry: options.retry }),
    ...(options.timeout !== undefined && { timeout: options.timeout }),
    input,
    trackStatus: false,
    run: async (parsed, job): Promise<FlightTaskResult> => {
      const { key, token, params } = parsed as FlightTaskInput<z.output<Schema>>;
      const claim = { key, token, jobId: job.jobId };
      if (!(await flight.start(claim, policy))) return { skipped: 'stale-claim' };
      // The heartbeat belongs to this attempt: it stops when the attempt ends,
      // times out (the job's signal) or loses its claim, never later.
      const controller = new AbortController();
      const every = Math.max(1_000, Math.floor((policy.runLease ?? FLIGHT_DEFAULTS.runLease).milliseconds / 3));
      const heartbeat = setInterval(() => {
        flight.heartbeat(claim, policy).then(
          (held) => held || controller.abort(new Error('the refresh lost its claim')),
          (error: unknown) => controller.abort(error),
        );
      }, every);
      const stop = () => {
        clearInterval(heartbeat);
        controller.abort(job.signal.reason);
      };
      job.signal.addEventListener('abort', stop, { once: true });
      try {
        // A computation that ignores the signal is left behind when the attempt
        // times out: its late result is never stored under this claim.
        const result = await untilAborted(options.compute(params, { key, signal: controller.signal, attempt: job.attempt }), job.signal);
        await flight.complete(claim, policy, result);
        return { stored: true };
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        const code = (error as { code?: unknown }).code;
        await flight.fail(claim, policy, { name: e.name, message: e.message, ...(typeof code === 'string' && { code }) }, !job.willRetry(error));
        throw error;
      } finally {
        clearInterval(heartbeat);
        job.signal.removeEventListener('abort', stop);
      }
    },
  });
  return { task: task as unknown as FlightTask<z.input<Schema>, R>['task'], policy, flight };
}

/** Answers a request for the computation of `params` under `key`, enqueuing a refresh only when this request wins the claim. */
export function requestFlight<P, R>(flightTask: FlightTask<P, R>, key: string, params: P, client: JobClient = defaultJobs): Promise<FlightAnswer<R>> {
  return flightTask.flight.request<R>(key, flightTask.policy, async (claim) => {
    await client.enqueue(flightTask.task, { key, token: claim.token, params }, { jobId: claim.jobId });
  });
}

/** `work`, or a rejection with the signal's reason as soon as `signal` aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
