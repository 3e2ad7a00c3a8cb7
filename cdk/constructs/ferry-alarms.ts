/**
 * The alarms an operator of background jobs needs, over queues and functions
 * given as interfaces:
 *
 * - per queue: a message reached the dead-letter queue (depth > 0), and the
 *   oldest message waiting in the queue is older than `maxMessageAge`
 *   (workers are down, throttled or far behind);
 * - per function: any error, and any throttle;
 * - per queue with heartbeats: its canaries are late or missing (a stuck,
 *   starved or throttled worker pool), with the period and datapoints the
 *   declaration gives (a canary still waiting is itself a datapoint, so a
 *   stuck pool is seen without any worker reporting; a period with none is
 *   left out).
 *
 * Every other alarm looks at one 1-minute period and treats missing data (an
 * idle queue or function publishes nothing) as fine.
 *
 * A separate construct rather than part of `WorkerPool`: the stack's functions
 * are not all workers (the API function needs error alarms too), and alarms
 * are an operations choice (actions, thresholds) made once for the whole stack.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { heartbeatLatency, type WatchedHeartbeats } from './heartbeat-metric.js';

/** A queue to watch and the dead-letter queue it redrives to. */
export interface WatchedQueue {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

export interface FerryAlarmsProps {
  /**
   * Queues to watch, by name (used in construct ids and alarm descriptions).
   * @default no queue alarms
   */
  readonly queues?: Readonly<Record<string, WatchedQueue>>;
  /**
   * Functions to watch, by name (used in construct ids and alarm descriptions).
   * @default no function alarms
   */
  readonly functions?: Readonly<Record<string, IFunction>>;
  /**
   * Age of the oldest message in a queue beyond which its alarm fires.
   * @default Duration.minutes(15)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Queues with heartbeats and the declared alarm settings.
   * @default no heartbeat alarms
   */
  readonly heartbeats?: WatchedHeartbeats;
  /**
   * Topic notified when an alarm fires.
   * @default no alarm actions
   */
  readonly alarmTopic?: ITopic;
}

/** The period every alarm evaluates. */
const PERIOD = Duration.minutes(1);

export class FerryAlarms extends Construct {
  /** Dead-letter queue depth > 0, by queue name. */
  readonly deadLetterAlarms: ReadonlyMap<string, Alarm>;
  /** Oldest message older than `maxMessageAge`, by queue name. */
  readonly messageAgeAlarms: ReadonlyMap<string, Alarm>;
  /** Errors > 0, by function name. */
  readonly errorAlarms: ReadonlyMap<string, Alarm>;
  /** Throttles > 0, by function name. */
  readonly throttleAlarms: ReadonlyMap<string, Alarm>;
  /** Heartbeat late or missing, by queue name. */
  readonly heartbeatAlarms: ReadonlyMap<string, Alarm>;
  /** Every alarm above. */
  readonly alarms: readonly Alarm[];

  private readonly alarmAction: SnsAction | undefined;

  constructor(scope: Construct, id: string, props: FerryAlarmsProps) {
    super(scope, id);
    const maxMessageAge = props.maxMessageAge ?? Duration.minutes(15);
    if (!maxMessageAge.isUnresolved() && maxMessageAge.toSeconds() < 1) {
      throw new Error(`${this.node.path}: maxMessageAge must be at least 1 second (got ${maxMessageAge.toHumanString()})`);
    }
    this.alarmAction = props.alarmTopic === undefined ? undefined : new SnsAction(props.alarmTopic);

    const deadLetterAlarms = new Map<string, Alarm>();
    const messageAgeAlarms = new Map<string, Alarm>();
    for (const [name, { queue, deadLetterQueue }] of Object.entries(props.queues ?? {})) {
      deadLetterAlarms.set(
        name,
        this.alarm(`${name}DeadLetters`, {
          metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' }),
          threshold: 0,
          description: `Queue "${name}": messages in its dead-letter queue (they failed every receive). Inspect them, fix the cause, redrive.`,
        }),
      );
      messageAgeAlarms.set(
        name,
        this.alarm(`${name}OldestMessageAge`, {
          metric: queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' }),
          threshold: maxMessageAge.toSeconds(),
          description: `Queue "${name}": the oldest message has waited more than ${maxMessageAge.toHumanString()} (workers down, throttled or behind).`,
        }),
      );
    }

    const errorAlarms = new Map<string, Alarm>();
    const throttleAlarms = new Map<string, Alarm>();
    for (const [name, fn] of Object.entries(props.functions ?? {})) {
      errorAlarms.set(
        name,
        this.alarm(`${name}Errors`, {
          metric: fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
          threshold: 0,
          description: `Function "${name}": invocations failed. See its log group.`,
        }),
      );
      throttleAlarms.set(
        name,
        this.alarm(`${name}Throttles`, {
          metric: fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
          threshold: 0,
          description: `Function "${name}": invocations were throttled (account or reserved concurrency reached).`,
        }),
      );
    }

    const heartbeatAlarms = new Map<string, Alarm>();
    const beats = props.heartbeats;
    for (const [name, queue] of Object.entries(beats?.queues ?? {})) {
      if (beats === undefined) break;
      const alarm = new Alarm(this, `${name}Heartbeat`, {
        metric: heartbeatLatency(queue, beats.periodSeconds),
        threshold: beats.thresholdMs,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: beats.evaluationPeriods,
        datapointsToAlarm: beats.datapointsToAlarm,
        treatMissingData: TreatMissingData.MISSING,
        alarmDescription:
          `Queue "${name}": its heartbeat canaries waited more than ${beats.thresholdMs / 1000} s for a worker ` +
          '(workers stuck, starved or throttled). INSUFFICIENT_DATA: no heartbeat at all (the heartbeat schedule stopped).',
      });
      if (this.alarmAction !== undefined) alarm.addAlarmAction(this.alarmAction);
      heartbeatAlarms.set(name, alarm);
    }

    this.deadLetterAlarms = deadLetterAlarms;
    this.messageAgeAlarms = messageAgeAlarms;
    this.errorAlarms = errorAlarms;
    this.throttleAlarms = throttleAlarms;
    this.heartbeatAlarms = heartbeatAlarms;
    this.alarms = [...deadLetterAlarms.values(), ...messageAgeAlarms.values(), ...errorAlarms.values(), ...throttleAlarms.values(), ...heartbeatAlarms.values()];
  }

  /** An alarm when `metric` exceeds `threshold` in one period, with the topic as its action. */
  private alarm(id: string, options: { metric: IMetric; threshold: number; description: string }): Alarm {
    const alarm = new Alarm(this, id, {
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    if (this.alarmAction !== undefined) alarm.addAlarmAction(this.alarmAction);
    return alarm;
  }
}
