/**
 * Emulates EventBridge scheduled rules: each declared schedule invokes its
 * function at the times its `rate(...)` or `cron(...)` expression gives (UTC),
 * with the "Scheduled Event" envelope or the declared constant input. Like
 * EventBridge, it does not wait for one invocation to end before the next:
 * preventing overlap is the job's business.
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { Schedule } from '../app/define-app.js';
import { nextFireTime } from '../app/schedule-expression.js';
import type { FunctionHost, InvocationResult } from './function-host.js';
import type { RuntimeStats } from './runtime-stats.js';

/** setTimeout's largest delay; longer waits are taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;

export interface SchedulerOptions {
  readonly schedules: readonly Schedule[];
  readonly hosts: ReadonlyMap<string, FunctionHost>;
  readonly ruleArn: (name: string) => string;
  readonly region: string;
  readonly stats: RuntimeStats;
}

export class UnknownScheduleError extends Error {
  override readonly name = 'UnknownScheduleError';
}

export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<InvocationResult>>();
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {}

  /** Arms every schedule; rate schedules count from now, as a rule created now would. */
  start(now: Date = new Date()): void {
    for (const schedule of this.options.schedules) this.arm(schedule, now, now);
  }

  /**
   * Invokes `name`'s function now, outside its timetable (the runtime's
   * `POST /_ferry/schedules/{name}`), with an event for `at` (default now):
   * the same `at` twice delivers one tick twice, as EventBridge may.
   */
  fire(name: string, at: Date = new Date()): Promise<InvocationResult> {
    const schedule = this.options.schedules.find((s) => s.name === name);
    if (schedule === undefined) {
      throw new UnknownScheduleError(`no schedule "${name}" is declared (declared: ${this.options.schedules.map((s) => s.name).join(', ') || 'none'})`);
    }
    return this.invoke(schedule, at);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private arm(schedule: Schedule, after: Date, anchor: Date): void {
    if (this.stopped) return;
    const next = nextFireTime(schedule.expression, after, anchor);
    this.options.stats.recordScheduleTimes(schedule.name, next === undefined ? {} : { next });
    if (next === undefined) return;
    const delay = next.getTime() - Date.now();
    const timer = setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) return this.arm(schedule, after, anchor);
        void this.invoke(schedule, next);
        this.arm(schedule, next, anchor);
      },
      Math.max(0, Math.min(delay, MAX_TIMER_MS)),
    );
    timer.unref();
    this.timers.set(schedule.name, timer);
  }

  private invoke(schedule: Schedule, time: Date): Promise<InvocationResult> {
    const host = this.options.hosts.get(schedule.functionId);
    if (host === undefined) throw new Error(`schedule "${schedule.name}" names unknown function "${schedule.functionId}"`);
    this.options.stats.recordScheduleFired(schedule.name);
    this.options.stats.recordScheduleTimes(schedule.name, { last: time });
    const event = schedule.input ?? this.scheduledEvent(schedule, time);
    const run = host.invoke(event, `schedule ${schedule.name}`);
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  private scheduledEvent(schedule: Schedule, time: Date): ScheduledEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.options.region,
      resources: [this.options.ruleArn(schedule.name)],
      detail: {},
    };
  }
}
