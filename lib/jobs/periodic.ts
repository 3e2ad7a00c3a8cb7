/**
 * Periodic jobs that never overlap (Celery beat's missing piece): a schedule's
 * function (`schedule` event) runs `periodic(...).handler` on every tick, and
 * each tick's run is a job of the wrapped task on a worker pool.
 *
 * One item per schedule (`SCHEDULE#<name>`) in the state table holds the
 * schedule's state, and every decision is one conditional write to it:
 *
 * - **A tick starts a run** only when no run holds the schedule (`running`
 *   absent, or its lease past `runningUntil`) and the tick is newer than the
 *   last one seen. The run is a job whose id is derived from the tick, so a
 *   tick's job is sent again, never run twice, when the same write is retried.
 * - **A tick that finds a run going** is skipped (`overlap: 'skip'`, counted)
 *   or becomes the one pending tick (`'coalesce'`: later ticks replace it), which
 *   the run starts as it ends.
 * - **A tick seen before** (EventBridge delivers at least once, and a retried
 *   invocation repeats its event) changes nothing; if it was the tick that
 *   started the current run, its job is sent again (a lost send is re-driven)
 *   and the job runs once.
 * - **A run ends** when its job succeeds or fails for good: one write, on
 *   condition that the run is still this job's, records the outcome and the
 *   time, and starts the pending tick if there is one. A run whose worker died
 *   holds the schedule until its lease ends. Each attempt renews the lease as
 *   it starts, on condition that its run still holds the schedule: an attempt
 *   of a run whose lease lapsed (another tick took the schedule) does not run.
 *   `leaseFor` must so exceed one attempt plus its wait in the queue. An end
 *   that fails to record is logged, not retried (that would run the work
 *   again); the lease then frees the schedule.
 */
import { GetCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { millis, minutes, type Duration } from '../app/duration.js';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import { log, logContext } from '../util/log.js';
import { jobs as defaultJobs, type JobClient } from './enqueue.js';
import { defineTask, type AnyTask, type Task, type TaskContext } from './task.js';
import { z } from 'zod';

export type OverlapPolicy = 'skip' | 'coalesce';

export interface PeriodicOptions<Input, Result, Parsed> {
  /** The schedule's name: its state item's key, and the prefix of its run's job ids. */
  readonly name: string;
  /** The work of one run, a task like any other (its queue, retries, timeout). */
  readonly task: Task<Input, Result, Parsed>;
  /** The run's input, given the tick (the scheduled time). */
  readonly input: (tick: Date) => Input;
  /** What a tick that finds a run going does. @default 'skip' */
  readonly overlap?: OverlapPolicy;
  /**
   * Longest a run may hold the schedule: a run whose worker died frees it after
   * this. Make it longer than the task's attempts can take.
   * @default 15 minutes
   */
  readonly leaseFor?: Duration;
  readonly state?: StateTableOptions;
  readonly jobs?: JobClient;
}

export const SCHEDULE_ITEM = {
  pkOf: (name: string) => `SCHEDULE#${name}`,
  sk: 'STATE',
} as const;

/** What a schedule's state item says, for stats and consoles. */
export interface PeriodicStatus {
  readonly name: string;
  /** The newest tick seen, ISO. */
  readonly lastTick?: string;
  /** The job of the run going now, its tick and the end of its lease. */
  readonly running?: { readonly jobId: string; readonly tick: string; readonly until: string };
  /** With `coalesce`: the tick that runs when the current run ends. */
  readonly pendingTick?: string;
  /** The last run that ended: its tick, when it ended, and how. */
  readonly lastRun?: { readonly tick: string; readonly finishedAt: string; readonly outcome: 'succeeded' | 'failed' };
  /** Ticks skipped because a run was going (`skip`), and ticks folded into a pending one (`coalesce`). */
  readonly skipped: number;
  readonly coalesced: number;
}

/** What one invocation of the schedule's handler did with its tick. */
export type TickOutcome =
  | { readonly tick: string; readonly outcome: 'started'; readonly jobId: string }
  | { readonly tick: string; readonly outcome: 'skipped' | 'coalesced'; readonly runningJobId: string }
  | { readonly tick: string; readonly outcome: 'duplicate' | 'stale' };

/** The job id of `name`'s run for `tick`: the same for every delivery of the tick. */
export function periodicJobId(name: string, tick: string): string {
  return `periodic:${name}:${tick}`;
}

export interface Periodic {
  /** The scheduled function's handler: give it EventBridge's "Scheduled Event". */
  readonly handler: (event: Pick<ScheduledEvent, 'time'>, context?: Context) => Promise<TickOutcome>;
  /** The task to register with the worker (the run, and the end of the run). */
  readonly task: AnyTask;
  /** The schedule's state, read consistently. */
  status(): Promise<PeriodicStatus>;
}

export function periodic<Input, Result, Parsed>(options: PeriodicOptions<Input, Result, Parsed>): Periodic {
  const state = new StateTable(options.state);
  const client = options.jobs ?? defaultJobs;
  const overlap = options.overlap ?? 'skip';
  const leaseMs = (options.leaseFor ?? minutes(15)).milliseconds;
  const key = () => ({ pk: SCHEDULE_ITEM.pkOf(options.name), sk: SCHEDULE_ITEM.sk });
  const inner = options.task as unknown as AnyTask;

  const send = (tick: string) =>
    client.enqueue(task, { tick, input: options.input(new Date(tick)) }, { jobId: periodicJobId(options.name, tick) });

  /** One conditional update of the schedule's item: applied (with its new image), or refused (with the item as it was: ALL_OLD). */
  async function update(write: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeValues'>): Promise<{ readonly applied: boolean; readonly item: Record<string, unknown> }> {
    try {
      const answer = await state.db.send(new UpdateCommand({ TableName: state.name, Key: key(), ...write, ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { applied: true, item: answer.Attributes ?? {} };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { applied: false, item: error.Item === undefined ? {} : unmarshall(error.Item) };
    }
  }

  /** One conditional write: start a run for `tick` if none holds the schedule; the old item when refused. */
  async function claim(tick: string, fromPending: boolean): Promise<Record<string, unknown> | undefined> {
    const now = state.now();
    const { applied, item } = await update({
      // A pending tick is always the newest seen (a later tick replaces it), so lastTick only moves forward.
      // A new tick supersedes a pending one (it is newer), so either start removes it.
      UpdateExpression: 'SET lastTick = :tick, runningJob = :job, runningTick = :tick, runningUntil = :until REMOVE pendingTick',
      // A new tick (or the pending one), and no run holding the schedule.
      ConditionExpression: `${fromPending ? 'pendingTick = :tick AND lastTick = :tick' : '(attribute_not_exists(lastTick) OR lastTick < :tick)'} AND (attribute_not_exists(runningJob) OR runningUntil < :now)`,
      ExpressionAttributeValues: { ':tick': tick, ':job': periodicJobId(options.name, tick), ':until': now + leaseMs, ':now': now },
    });
    return applied ? undefined : item;
  }

  async function handler(event: Pick<ScheduledEvent, 'time'>, context?: Context): Promise<TickOutcome> {
    if (context !== undefined) logContext(context);
    const tick = new Date(event.time).toISOString();
    // A run that ends between the claim's refusal and the skip (or the pending mark) makes that write
    // refuse too: then the tick is claimed again, now that nothing holds the schedule.
    for (let round = 0; ; round++) {
      const outcome = await handleTick(tick);
      if (outcome !== 'run ended meanwhile' || round >= 5) return outcome === 'run ended meanwhile' ? { tick, outcome: 'stale' } : outcome;
    }
  }

  async function handleTick(tick: string): Promise<TickOutcome | 'run ended meanwhile'> {
    const old = await claim(tick, false);
    if (old === undefined) {
      await send(tick);
      return { tick, outcome: 'started', jobId: periodicJobId(options.name, tick) };
    }
    const runningJob = typeof old.runningJob === 'string' ? old.runningJob : undefined;
    // This tick started the run that holds the schedule (a second delivery, or this claim's own write with its
    // response lost): its send may have been lost too, so send again; the job runs once.
    if (runningJob === periodicJobId(options.name, tick)) {
      await send(tick);
      return { tick, outcome: 'duplicate' };
    }
    if (typeof old.lastTick === 'string' && old.lastTick >= tick) return { tick, outcome: old.lastTick === tick ? 'duplicate' : 'stale' };
    // A run holds the schedule: skip this tick, or make it the pending one.
    const mark = await update({
      UpdateExpression: overlap === 'skip' ? 'SET lastTick = :tick ADD skipped :one' : 'SET lastTick = :tick, pendingTick = :tick ADD coalesced :one',
      // Only while a run still holds the schedule: a pending tick nobody will start must never be left.
      ConditionExpression: 'lastTick < :tick AND attribute_exists(runningJob) AND runningUntil >= :now',
      ExpressionAttributeValues: { ':tick': tick, ':one': 1, ':now': state.now() },
    });
    if (!mark.applied) {
      const seen = mark.item.lastTick;
      return typeof seen === 'string' && seen >= tick ? { tick, outcome: 'duplicate' } : 'run ended meanwhile';
    }
    log({ level: 'info', msg: `periodic tick ${overlap === 'skip' ? 'skipped' : 'coalesced'}`, schedule: options.name, tick, runningJob });
    return { tick, outcome: overlap === 'skip' ? 'skipped' : 'coalesced', runningJobId: runningJob ?? '' };
  }

  /** Ends the run of `jobId`: records how, frees the schedule, and starts the pending tick if there is one. */
  async function finish(jobId: string, tick: string, outcome: 'succeeded' | 'failed'): Promise<void> {
    // Only this run's end: a retried finish, or a run whose lease lapsed and was replaced, changes nothing. Refused
    // (ended before, this write's own retry with its response lost; or replaced), a pending tick may still wait for
    // the start that ending was to make: the claim is conditional, so try it either way.
    const { item } = await update({
      UpdateExpression: 'SET lastRunTick = :tick, lastRunFinishedAt = :at, lastRunOutcome = :outcome REMOVE runningJob, runningTick, runningUntil',
      ConditionExpression: 'runningJob = :job',
      ExpressionAttributeValues: { ':tick': tick, ':at': new Date(state.now()).toISOString(), ':outcome': outcome, ':job': jobId },
    });
    const pending = typeof item.pendingTick === 'string' ? item.pendingTick : undefined;
    if (pending !== undefined && (await claim(pending, true)) === undefined) await send(pending);
  }

  const { retry } = inner;
  const task = defineTask({
    name: `periodic.${options.name}`,
    queue: inner.queue,
    timeout: millis(inner.timeoutMs),
    // The run's own retry policy, as the task declares it.
    retry: {
      maxAttempts: retry.maxAttempts,
      baseDelay: millis(retry.baseDelayMs),
      maxDelay: millis(retry.maxDelayMs),
      jitter: retry.jitter,
      nonRetryable: retry.nonRetryable,
      ...(retry.retryOn !== undefined && { retryOn: retry.retryOn }),
    },
    input: z.object({ tick: z.string(), input: z.unknown() }),
    run: async ({ tick, input }, context: TaskContext) => {
      // Fencing: an attempt runs only while its run still holds the schedule, and renews the lease as it starts.
      // A run whose lease lapsed (and whose schedule another tick took) runs no more.
      if (!(await renew(context.jobId))) {
        log({ level: 'warn', msg: 'periodic run superseded: its lease had lapsed', schedule: options.name, tick, jobId: context.jobId });
        return { superseded: true };
      }
      let result: unknown;
      try {
        result = await inner.run(inner.schema.parse(input), context);
      } catch (error) {
        if (!context.willRetry(error)) await endQuietly(context.jobId, tick, 'failed');
        throw error;
      }
      // The work is done: a failure to record its end must not fail the attempt (a retry would run it again).
      // The run's lease then frees the schedule.
      await endQuietly(context.jobId, tick, 'succeeded');
      return result;
    },
  }) as unknown as AnyTask;

  /** Extends the lease of `jobId`'s run; false when the run no longer holds the schedule. */
  async function renew(jobId: string): Promise<boolean> {
    const { applied } = await update({
      UpdateExpression: 'SET runningUntil = :until',
      ConditionExpression: 'runningJob = :job',
      ExpressionAttributeValues: { ':job': jobId, ':until': state.now() + leaseMs },
    });
    return applied;
  }

  async function endQuietly(jobId: string, tick: string, outcome: 'succeeded' | 'failed'): Promise<void> {
    try {
      await finish(jobId, tick, outcome);
    } catch (error) {
      log({ level: 'error', msg: 'periodic run ended, but its end was not recorded; its lease frees the schedule', schedule: options.name, tick, jobId, error: error instanceof Error ? error.message : String(error) });
    }
  }

  async function status(): Promise<PeriodicStatus> {
    const { Item } = await state.db.send(new GetCommand({ TableName: state.name, Key: key(), ConsistentRead: true }));
    return periodicStatusOf(options.name, Item ?? {});
  }

  return { handler, task, status };
}

/** A schedule's status as its state item (`SCHEDULE#<name>`) records it; an empty item is a schedule that never ticked. */
export function periodicStatusOf(name: string, item: Record<string, unknown>): PeriodicStatus {
  const str = (k: string) => (typeof item[k] === 'string' ? (item[k]) : undefined);
  const lastTick = str('lastTick');
  const runningJob = str('runningJob');
  const pendingTick = str('pendingTick');
  const lastRunTick = str('lastRunTick');
  return {
    name,
    ...(lastTick !== undefined && { lastTick }),
    ...(runningJob !== undefined && { running: { jobId: runningJob, tick: str('runningTick') ?? '', until: new Date(Number(item.runningUntil)).toISOString() } }),
    ...(pendingTick !== undefined && { pendingTick }),
    ...(lastRunTick !== undefined && {
      lastRun: { tick: lastRunTick, finishedAt: str('lastRunFinishedAt') ?? '', outcome: str('lastRunOutcome') === 'failed' ? 'failed' : 'succeeded' },
    }),
    skipped: Number(item.skipped ?? 0),
    coalesced: Number(item.coalesced ?? 0),
  };
}
