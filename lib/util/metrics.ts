/**
 * CloudWatch Embedded Metric Format: metric values carried in a structured
 * log line, which CloudWatch Logs turns into metrics with no API call and no
 * flush step (nothing to lose when Lambda freezes the process). Written by
 * hand rather than with Powertools Metrics because one line per job outcome
 * is all Ferry needs.
 */

export const METRICS_NAMESPACE = 'Ferry';

/** The job metrics the worker writes (dimensions Queue and Task), by outcome; the CDK dashboard reads them. */
/** The heartbeat metric (dimension Queue: the queue's physical name); see lib/jobs/heartbeat.ts. */
export const HEARTBEAT_METRIC = 'HeartbeatLatency';

export const JOB_OUTCOME_METRICS = { succeeded: 'JobsSucceeded', failed: 'JobsFailed', retried: 'JobsRetried', stopped: 'JobsStopped' } as const;

export type MetricUnit = 'Count' | 'Milliseconds';

export interface MetricValue {
  readonly value: number;
  readonly unit: MetricUnit;
  /** 1: kept at one-second resolution (an alarm may then use a 10, 20 or 30 second period). @default 60 */
  readonly storageResolution?: 1 | 60;
}

/**
 * Fields to merge into a log entry so that CloudWatch records `metrics`
 * under `dimensions` (dimension values must be fields of the same entry).
 */
export function embeddedMetrics(
  dimensions: Readonly<Record<string, string>>,
  metrics: Readonly<Record<string, MetricValue>>,
  timestamp = Date.now(),
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: Object.entries(metrics).map(([Name, m]) => ({ Name, Unit: m.unit, ...(m.storageResolution === 1 && { StorageResolution: 1 }) })),
        },
      ],
    },
    ...dimensions,
    ...Object.fromEntries(Object.entries(metrics).map(([name, m]) => [name, m.value])),
  };
}
