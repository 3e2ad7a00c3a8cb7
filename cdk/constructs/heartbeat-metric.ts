/**
 * The queue heartbeat metric (lib/jobs/heartbeat.ts), for alarms and the
 * dashboard: the maximum canary latency per period, by queue.
 */
import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { HEARTBEAT_METRIC, METRICS_NAMESPACE } from '../../lib/util/metrics.js';

/** Queues whose heartbeats are watched, and the declared alarm's settings (from `App.heartbeats`). */
export interface WatchedHeartbeats {
  /** Queues with heartbeats, by name. */
  readonly queues: Readonly<Record<string, IQueue>>;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** Late beyond this many milliseconds. */
  readonly thresholdMs: number;
}

/** `queue`'s heartbeat latency, the maximum per period (the worker writes its dimension as the queue's physical name). */
export function heartbeatLatency(queue: IQueue, periodSeconds: number): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: HEARTBEAT_METRIC,
    dimensionsMap: { Queue: queue.queueName },
    statistic: 'Maximum',
    period: Duration.seconds(periodSeconds),
  });
}
