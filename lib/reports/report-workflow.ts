/**
 * A report refresh as a chord: the single-flight claim's job starts a
 * workflow with one job per day partition and a callback that combines the
 * partials and stores the result under the claim's token; if a partition
 * fails for good (or the workflow passes its deadline), the error callback
 * stores the failure, so the user sees it instead of a page that polls forever.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { minutes, seconds } from '../app/duration.js';
import type { FlightTask } from '../coordination/flight-task.js';
import { SingleFlight, type FlightPolicy } from '../coordination/single-flight.js';
import { NonRetryableError } from '../jobs/errors.js';
import { defineTask, type AnyTask } from '../jobs/task.js';
import { chord, s, si } from '../workflows/canvas.js';
import { workflows } from '../workflows/default-engine.js';
import type { ParamSpecs } from './report-params.js';
import { partitionsOf, type ReportDefinition } from './report.js';

export type AnyReport = ReportDefinition<ParamSpecs, unknown>;

export interface ComputeRequest {
  readonly params: Readonly<Record<string, number | string>>;
  /** The end of the report's window: the moment the refresh was claimed. */
  readonly asOf: number;
}

/** A refresh's run lease, and the deadline of its chord. */
const RUN_LEASE = minutes(5);

const flight = new SingleFlight();
const definitions = new Map<string, AnyReport>();

/** A job names a report this worker does not have: retrying cannot help. */
export class UnknownReportError extends NonRetryableError {
  override readonly name = 'UnknownReportError';
}

function definitionOf(name: string): AnyReport {
  const report = definitions.get(name);
  if (report === undefined) throw new UnknownReportError(`no report "${name}" is registered`);
  return report;
}

export function policyOf(report: AnyReport): FlightPolicy {
  return { freshFor: report.freshFor, staleFor: report.staleFor, failureCooldown: seconds(30), runLease: RUN_LEASE };
}

const params = z.record(z.string(), z.union([z.number(), z.string()]));
const window = z.object({ fromMs: z.number(), toMs: z.number() });
/** What the callback and the error callback need to store the outcome under the claim. */
const claimContext = z.object({ report: z.string(), key: z.string(), token: z.number().int(), jobId: z.string(), params, window, days: z.array(z.string()) });
type ClaimContext = z.infer<typeof claimContext>;

const retry = { maxAttempts: 3, baseDelay: seconds(1), maxDelay: seconds(10) };

/** One day partition's contribution. */
export const partitionTask = defineTask({
  name: 'report.partition',
  queue: 'io',
  input: z.object({ report: z.string(), params, day: z.string(), window }),
  retry,
  timeout: seconds(25),
  run: ({ report, params: p, day, window: w }) => definitionOf(report).partial(p as never, day, w),
});

/** The chord's callback: combines the partials and stores the result under the claim. */
export const finishTask = defineTask({
  name: 'report.finish',
  queue: 'io',
  input: z.tuple([z.array(z.unknown()), claimContext]),
  retry,
  run: async ([partials, ctx]) => {
    const report = definitionOf(ctx.report);
    const result = report.combine(partials, ctx.params as never, ctx.window, ctx.days);
    await flight.complete({ key: ctx.key, token: ctx.token, jobId: ctx.jobId }, policyOf(report), result);
    return { stored: true };
  },
});

/** The chord's error callback: stores the failure, with the failing partition's error, under the claim. */
export const failedTask = defineTask({
  name: 'report.failed',
  queue: 'io',
  input: claimContext.extend({ workflowId: z.string(), error: z.object({ name: z.string(), message: z.string() }).loose() }),
  retry,
  run: async (ctx) => {
    await flight.fail({ key: ctx.key, token: ctx.token, jobId: ctx.jobId }, policyOf(definitionOf(ctx.report)), { name: ctx.error.name, message: ctx.error.message, code: ctx.error.name }, true);
    return { stored: true };
  },
});

/** The job a winning claim enqueues: starts the refresh's chord. */
function startTask(report: AnyReport): FlightTask<ComputeRequest, unknown>['task'] {
  const policy = policyOf(report);
  return defineTask({
    name: `report.${report.name}`,
    queue: 'io',
    input: z.object({ key: z.string(), token: z.number().int(), params: z.object({ params, asOf: z.number() }) }),
    trackStatus: false,
    retry,
    run: async ({ key, token, params: request }, job) => {
      const claim = { key, token, jobId: job.jobId };
      // The workflow's id goes into the flight with the run, so a pending request
      // can show the chord's progress. It derives from the claim: a redelivery of
      // this job (its first try may have died after the start was recorded)
      // starts the same workflow again, which only re-sends what is pending.
      const workflowId = refreshWorkflowId(key, token, job.jobId);
      if (!(await flight.start(claim, policy, { runRef: workflowId }))) return { skipped: 'stale-claim' as const };
      const w = report.window(request.params as never, request.asOf);
      const days = partitionsOf(w);
      const ctx: ClaimContext = { report: report.name, key, token, jobId: job.jobId, params: request.params, window: w, days };
      await workflows.start(
        chord(
          days.map((day) => si(partitionTask, { report: report.name, params: request.params, day, window: w })),
          s(finishTask, [ctx]),
        ),
        { workflowId, deadline: RUN_LEASE, onError: si(failedTask, ctx) },
      );
      return { stored: true as const };
    },
  });
}

/** How far a refresh's chord has got: day partitions read, of all it reads. */
export interface RefreshProgress {
  readonly partitionsDone: number;
  readonly partitions: number;
}

/** The progress of the refresh whose workflow is `workflowId` (a pending answer's `runRef`), or undefined if it is unknown. */
export async function refreshProgress(workflowId: string): Promise<RefreshProgress | undefined> {
  const partitions = (await workflows.progress(workflowId))?.[partitionTask.name];
  return partitions && { partitionsDone: partitions.succeeded, partitions: partitions.total };
}

/** The flight (claim policy and start job) of `report`, registered for the partition and callback jobs. */
export function reportFlight(report: AnyReport): FlightTask<ComputeRequest, unknown> {
  definitions.set(report.name, report);
  return { task: startTask(report), policy: policyOf(report), flight };
}

export const reportWorkflowTasks: readonly AnyTask[] = [partitionTask, finishTask, failedTask];

/**
 * The id of the workflow that computes claim `token` of `key`: the same on
 * every delivery (and re-send) of the claim's job, whose id is part of it. A
 * token alone is not enough: once the flight item expires, tokens start again
 * at 1 while old workflows are still kept.
 */
function refreshWorkflowId(key: string, token: number, jobId: string): string {
  return `refresh-${createHash('sha256').update(`${key}\0${token}\0${jobId}`).digest('hex').slice(0, 32)}`;
}
