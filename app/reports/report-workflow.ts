/**
 * A report refresh: the single-flight claim's job plans the refresh from the
 * report's estimate of its work (refresh-plan.ts), then either
 *
 * - computes it itself (`one-job`): the day partitions queried a bounded
 *   number at once, the result stored under the claim's token; or
 * - fans it out (`fan-out`) as a chord: one job per day partition and a
 *   callback that combines the partials and stores the result under the
 *   claim's token; if a partition fails for good (or the workflow passes its
 *   deadline), the error callback stores the failure.
 *
 * Either way the user sees the result or the failure, never a page that polls
 * forever, and every step is re-drivable: the run's start names its path in
 * the flight item (`runRef`), so a redelivered job re-drives the run its claim
 * started (see docs/reliability.md); a result is stored once per claim.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { minutes, seconds, type FlightTask, FlightLostError, SingleFlight, type FlightClaim, type FlightPolicy, NonRetryableError, defineTask, type AnyTask, log, chord, s, si, workflows } from 'ferry';
import { planRefresh, refreshPlanOptionsFromEnv, type RefreshPath, type RefreshPlan } from './refresh-plan.js';
import type { ParamSpecs } from './report-params.js';
import { computeWindow, partitionsOf, type ReportDefinition, type ReportWindow } from './report.js';

export type AnyReport = ReportDefinition<ParamSpecs, unknown>;

export interface ComputeRequest {
  readonly params: Readonly<Record<string, number | string>>;
  /** The end of the report's window: the moment the refresh was claimed. */
  readonly asOf: number;
}

/**
 * A refresh's run lease, and the deadline of its chord. A one-job run needs no
 * heartbeat: its attempts (25 s each) end well within it.
 */
const RUN_LEASE = minutes(5);
/** One attempt of a job that reads partitions: the io worker's 30-second Lambda timeout, less room to record the outcome. */
const READ_TIMEOUT = seconds(25);

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
  timeout: READ_TIMEOUT,
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

/** The job a winning claim enqueues: plans the refresh, then computes it or starts its chord. */
function startTask(report: AnyReport): FlightTask<ComputeRequest, unknown>['task'] {
  const policy = policyOf(report);
  return defineTask({
    name: `report.${report.name}`,
    queue: 'io',
    input: z.object({ key: z.string(), token: z.number().int(), params: z.object({ params, asOf: z.number() }) }),
    trackStatus: false,
    retry,
    timeout: READ_TIMEOUT,
    run: async ({ key, token, params: request }, job) => {
      const claim = { key, token, jobId: job.jobId };
      const w = report.window(request.params as never, request.asOf);
      let plan: RefreshPlan;
      try {
        plan = await planOf(report, request.params, w);
      } catch (error) {
        // A limit set wrong in the environment: the refresh fails for good, and the page names the variable.
        if ((await startRun(claim, policy, 'one-job')) === undefined) return { skipped: 'stale-claim' as const };
        await flight.fail(claim, policy, summaryOf(error), true);
        throw error;
      }
      const path = await startRun(claim, policy, plan.path);
      if (path === undefined) return { skipped: 'stale-claim' as const };
      log({ level: 'debug', msg: 'report refresh', report: report.name, key, token, path, reason: plan.reason });
      if (path === 'fan-out') {
        const days = partitionsOf(w);
        const ctx: ClaimContext = { report: report.name, key, token, jobId: job.jobId, params: request.params, window: w, days };
        await workflows.start(
          chord(
            days.map((day) => si(partitionTask, { report: report.name, params: request.params, day, window: w })),
            s(finishTask, [ctx]),
          ),
          { workflowId: refreshRunRef('fan-out', claim), deadline: RUN_LEASE, onError: si(failedTask, ctx) },
        );
        return { stored: true as const };
      }
      try {
        const result = await computeWindow(report, request.params as never, w, { concurrency: plan.queryConcurrency, signal: job.signal });
        await flight.complete(claim, policy, result);
        return { stored: true as const };
      } catch (error) {
        // A newer claim owns the key: this result is dropped, and there is nothing to retry.
        if (error instanceof FlightLostError) return { skipped: 'stale-claim' as const };
        // Back to queued for the job's next attempt, or failed for good (refused, harmlessly, if the claim was lost).
        await flight.fail(claim, policy, summaryOf(error), !job.willRetry(error));
        throw error;
      }
    },
  });
}

/** The plan of a refresh over `window`: the environment's limits (a bad one throws) against the report's estimate (one that fails fans out). */
async function planOf(report: AnyReport, p: Readonly<Record<string, number | string>>, window: ReportWindow): Promise<RefreshPlan> {
  const options = refreshPlanOptionsFromEnv();
  try {
    return planRefresh(await report.estimate(p as never, window), options);
  } catch (error) {
    log({ level: 'warn', msg: 'report refresh: no estimate, fanning out', report: report.name, error: summaryOf(error) });
    return planRefresh(undefined, options);
  }
}

/**
 * Starts claim's run on `path`, naming it in the flight item. Re-drivable:
 * a redelivery of the job is admitted again while the run it started is live.
 * If this start is refused because the claim's run was started on the other
 * path (the estimate changed between deliveries), that run is re-driven
 * instead. Undefined when the claim is stale or finished: skip.
 */
async function startRun(claim: FlightClaim, policy: FlightPolicy, path: RefreshPath): Promise<RefreshPath | undefined> {
  if (await flight.start(claim, policy, { runRef: refreshRunRef(path, claim) })) return path;
  const other: RefreshPath = path === 'one-job' ? 'fan-out' : 'one-job';
  const item = await flight.read(claim.key);
  if (item?.token !== claim.token || item.runRef !== refreshRunRef(other, claim)) return undefined;
  return (await flight.start(claim, policy, { runRef: refreshRunRef(other, claim) })) ? other : undefined;
}

function summaryOf(error: unknown): { name: string; message: string; code: string } {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (error as { code?: unknown }).code;
  return { name: e.name, message: e.message, code: typeof code === 'string' ? code : e.name };
}

/** How far a refresh's chord has got: day partitions read, of all it reads. */
export interface RefreshProgress {
  readonly partitionsDone: number;
  readonly partitions: number;
}

/**
 * The progress of the refresh whose run is `runRef` (a pending answer's): for
 * a chord, its partitions read, from the workflow's member statuses (one
 * query); for a refresh computed in one job, undefined at no cost (the page
 * says "calculating"), as for an unknown run.
 */
export async function refreshProgress(runRef: string): Promise<RefreshProgress | undefined> {
  if (!runRef.startsWith(RUN_REF_PREFIX['fan-out'])) return undefined;
  const partitions = (await workflows.progress(runRef))?.[partitionTask.name];
  return partitions && { partitionsDone: partitions.succeeded, partitions: partitions.total };
}

/** The flight (claim policy and start job) of `report`, registered for the partition and callback jobs. */
export function reportFlight(report: AnyReport): FlightTask<ComputeRequest, unknown> {
  definitions.set(report.name, report);
  return { task: startTask(report), policy: policyOf(report), flight };
}

export const reportWorkflowTasks: readonly AnyTask[] = [partitionTask, finishTask, failedTask];

/** How a run's ref starts, by path: a fan-out's ref is its workflow's id. */
const RUN_REF_PREFIX = { 'fan-out': 'refresh-', 'one-job': 'one-job-' } as const satisfies Record<RefreshPath, string>;

/**
 * The ref of claim's run on `path` (for a fan-out, the id of its workflow):
 * the same on every delivery (and re-send) of the claim's job, whose id is
 * part of it. A token alone is not enough: once the flight item expires,
 * tokens start again at 1 while old workflows are still kept.
 */
export function refreshRunRef(path: RefreshPath, { key, token, jobId }: FlightClaim): string {
  return `${RUN_REF_PREFIX[path]}${createHash('sha256').update(`${key}\0${token}\0${jobId}`).digest('hex').slice(0, 32)}`;
}
