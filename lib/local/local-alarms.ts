/**
 * The declared alarms, evaluated by the local runtime as CloudWatch evaluates
 * them, on the metrics the functions' output carries (local-metrics.ts):
 * at the end of each period, the last `evaluationPeriods` whole periods, each
 * reduced by its statistic (the maximum), are compared with the threshold;
 * `datapointsToAlarm` of them beyond it put the alarm in ALARM. With missing
 * data treated as `missing`, periods without datapoints are left out; when
 * all are, the alarm is INSUFFICIENT_DATA. A new alarm starts there too.
 *
 * Today's declared alarms are the queue heartbeats' (`App.heartbeats`);
 * each state change is logged, as an alarm action would notify.
 */
import type { App } from '../app/define-app.js';
import { HEARTBEAT_METRIC, METRICS_NAMESPACE } from '../util/metrics.js';
import type { LocalMetrics } from './local-metrics.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface LocalAlarmSpec {
  readonly name: string;
  /** The queue (declared id) the alarm watches. */
  readonly queue: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** ALARM when a period's maximum is greater than this. */
  readonly threshold: number;
}

export interface LocalAlarmStatus {
  readonly name: string;
  readonly queue: string;
  readonly state: AlarmState;
  /** Why, in CloudWatch's manner: the periods' values against the threshold. */
  readonly reason: string;
  /** ISO-8601 time of the last state change. */
  readonly since: string;
  readonly threshold: number;
  readonly periodSeconds: number;
}

/** The heartbeat alarms an app declares, named and dimensioned as the stack's (dimension: the queue's physical name). */
export function heartbeatAlarmSpecs(app: App, physicalQueueName: (queueId: string) => string, prefix: string): LocalAlarmSpec[] {
  const beats = app.heartbeats;
  if (beats === undefined) return [];
  return beats.queues.map((queue) => ({
    name: `${prefix}-${queue}-heartbeat`,
    queue,
    namespace: METRICS_NAMESPACE,
    metricName: HEARTBEAT_METRIC,
    dimensions: { Queue: physicalQueueName(queue) },
    periodSeconds: beats.alarm.periodSeconds,
    evaluationPeriods: beats.alarm.evaluationPeriods,
    datapointsToAlarm: beats.alarm.datapointsToAlarm,
    threshold: beats.alarm.thresholdMs,
  }));
}

/** One alarm's state after evaluating the periods that end at `end` (epoch ms, a period boundary). */
export function evaluateAlarm(spec: LocalAlarmSpec, metrics: LocalMetrics, end: number): { readonly state: AlarmState; readonly reason: string } {
  const periodMs = spec.periodSeconds * 1000;
  const maxima: (number | undefined)[] = [];
  for (let i = spec.evaluationPeriods; i >= 1; i--) {
    const from = end - i * periodMs;
    const values = metrics.values(spec.namespace, spec.metricName, spec.dimensions, from, from + periodMs);
    maxima.push(values.length === 0 ? undefined : Math.max(...values));
  }
  const present = maxima.filter((m): m is number => m !== undefined);
  const shown = `[${maxima.map((m) => (m === undefined ? 'missing' : String(Math.round(m)))).join(', ')}]`;
  if (present.length === 0) return { state: 'INSUFFICIENT_DATA', reason: `no datapoints in the last ${spec.evaluationPeriods} period(s) of ${spec.periodSeconds} s` };
  const breaching = present.filter((m) => m > spec.threshold).length;
  return breaching >= spec.datapointsToAlarm
    ? { state: 'ALARM', reason: `${breaching} of the last ${spec.evaluationPeriods} period(s) ${shown} greater than the threshold (${spec.threshold})` }
    : { state: 'OK', reason: `${breaching} of the last ${spec.evaluationPeriods} period(s) ${shown} greater than the threshold (${spec.threshold}); ${spec.datapointsToAlarm} needed` };
}

export class LocalAlarms {
  private readonly status = new Map<string, LocalAlarmStatus>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly specs: readonly LocalAlarmSpec[],
    private readonly metrics: LocalMetrics,
    private readonly log: (line: string) => void,
  ) {
    const now = new Date().toISOString();
    for (const spec of specs) {
      this.status.set(spec.name, { name: spec.name, queue: spec.queue, state: 'INSUFFICIENT_DATA', reason: 'not evaluated yet', since: now, threshold: spec.threshold, periodSeconds: spec.periodSeconds });
    }
  }

  /** Evaluates each alarm at the end of each of its periods (a moment after, so the period's last lines are in). */
  start(): void {
    for (const spec of this.specs) this.schedule(spec);
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearTimeout(timer);
  }

  states(): LocalAlarmStatus[] {
    return [...this.status.values()];
  }

  /** Evaluates `spec` on the periods ending at `end`, and records (and logs) a change. */
  evaluate(spec: LocalAlarmSpec, end: number): void {
    const { state, reason } = evaluateAlarm(spec, this.metrics, end);
    const before = this.status.get(spec.name);
    if (before?.state === state) {
      this.status.set(spec.name, { ...before, reason });
      return;
    }
    this.status.set(spec.name, { name: spec.name, queue: spec.queue, state, reason, since: new Date().toISOString(), threshold: spec.threshold, periodSeconds: spec.periodSeconds });
    this.log(`alarm ${spec.name}: ${before?.state ?? 'INSUFFICIENT_DATA'} -> ${state} (${reason})`);
  }

  private schedule(spec: LocalAlarmSpec): void {
    const periodMs = spec.periodSeconds * 1000;
    const end = (Math.floor(Date.now() / periodMs) + 1) * periodMs;
    const timer = setTimeout(() => {
      this.timers.splice(this.timers.indexOf(timer), 1);
      this.evaluate(spec, end);
      this.schedule(spec);
    }, end - Date.now() + 250);
    timer.unref();
    this.timers.push(timer);
  }
}
