/**
 * Ferry's CloudWatch metrics, written by Powertools for AWS Lambda (Metrics)
 * as Embedded Metric Format lines on stdout: CloudWatch Logs turns each line
 * into datapoints with no API call and no flush step (nothing to lose when
 * Lambda freezes the process), and the local runtime reads the same lines
 * for its alarms (lib/local/local-metrics.ts).
 *
 * One EMF document per call, with exactly the dimensions given: Powertools'
 * default `service` dimension is cleared, because the alarms and the
 * dashboard address each metric by its Queue (and Task) alone.
 */
import { Metrics, MetricResolution, MetricUnit as Unit } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'Ferry';

/** The heartbeat metric (dimension Queue: the queue's physical name); see lib/jobs/heartbeat.ts. */
export const HEARTBEAT_METRIC = 'HeartbeatLatency';

/** The job metrics the worker writes (dimensions Queue and Task), by outcome; the CDK dashboard reads them. */
export const JOB_OUTCOME_METRICS = { succeeded: 'JobsSucceeded', failed: 'JobsFailed', retried: 'JobsRetried', stopped: 'JobsStopped' } as const;

export type MetricUnit = 'Count' | 'Milliseconds';

const UNITS = { Count: Unit.Count, Milliseconds: Unit.Milliseconds } as const;

export interface MetricValue {
  readonly value: number;
  readonly unit: MetricUnit;
  /** 1: kept at one-second resolution (an alarm may then use a 10, 20 or 30 second period). @default 60 */
  readonly storageResolution?: 1 | 60;
}

/** Records `metrics` under `dimensions` (each dimension's value a non-empty string). */
export type MetricsSink = (dimensions: Readonly<Record<string, string>>, metrics: Readonly<Record<string, MetricValue>>) => void;

let powertools: Metrics | undefined;

function metricsWriter(): Metrics {
  if (powertools === undefined) {
    powertools = new Metrics({ namespace: METRICS_NAMESPACE });
    powertools.clearDefaultDimensions();
  }
  return powertools;
}

/**
 * Writes one EMF line now. Synchronous from the first add to the publish, so
 * jobs running side by side in one invocation never mix their dimensions.
 */
export const publishMetrics: MetricsSink = (dimensions, metrics) => {
  if (Object.keys(metrics).length === 0) return;
  const writer = metricsWriter();
  writer.addDimensions({ ...dimensions });
  for (const [name, m] of Object.entries(metrics)) {
    writer.addMetric(name, UNITS[m.unit], m.value, m.storageResolution === 1 ? MetricResolution.High : MetricResolution.Standard);
  }
  writer.publishStoredMetrics();
};
