/**
 * Ferry's CloudWatch metrics, written by Powertools for AWS Lambda (Metrics)
 * as Embedded Metric Format lines on stdout: CloudWatch Logs turns each line
 * into datapoints with no API call and no flush step (nothing to lose when
 * Lambda freezes the process), and the local runtime reads the same lines
 * for its alarms (lib/local/local-metrics.ts).
 *
 * One EMF document per call, with exactly the dimensions given (and the
 * roll-ups asked for: the same values also recorded under fewer dimensions,
 * EMF's dimension sets, at no extra line): Powertools' default `service`
 * dimension is cleared, because the alarms and the dashboard address each
 * metric by its Queue (and Task) alone. `Queue` is always the queue's
 * physical name, unique in the account and region, so two stacks of one app
 * never add up in one metric.
 */
import { Metrics, MetricResolution, MetricUnit as Unit } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'Ferry';

/** The heartbeat metric (dimension Queue: the queue's physical name); see lib/jobs/heartbeat.ts. */
export const HEARTBEAT_METRIC = 'HeartbeatLatency';

/** The job metrics the worker writes (dimensions Queue and Task, rolled up by Queue), by outcome; the CDK dashboard reads them. */
export const JOB_OUTCOME_METRICS = { succeeded: 'JobsSucceeded', failed: 'JobsFailed', retried: 'JobsRetried', stopped: 'JobsStopped' } as const;

export type MetricUnit = 'Count' | 'Milliseconds';

const UNITS = { Count: Unit.Count, Milliseconds: Unit.Milliseconds } as const;

export interface MetricValue {
  readonly value: number;
  readonly unit: MetricUnit;
  /** 1: kept at one-second resolution (an alarm may then use a 10, 20 or 30 second period). @default 60 */
  readonly storageResolution?: 1 | 60;
}

/**
 * Records `metrics` under `dimensions` (each dimension's value a non-empty
 * string), and under each of `rollUps` too: a list of some of the
 * dimensions' names (`[['Queue']]`: also per queue, every task together).
 */
export type MetricsSink = (dimensions: Readonly<Record<string, string>>, metrics: Readonly<Record<string, MetricValue>>, rollUps?: readonly (readonly string[])[]) => void;

let powertools: Metrics | undefined;

/**
 * Powertools' own messages, on the console as by default, less one: a roll-up
 * repeats a key of the full dimension set with the same value, which
 * Powertools reports as a key collision on every line.
 */
const quietLogger = {
  debug: (...args: unknown[]) => console.debug(...args),
  info: (...args: unknown[]) => console.info(...args),
  error: (...args: unknown[]) => console.error(...args),
  warn: (...args: unknown[]) => {
    if (typeof args[0] === 'string' && /^EMF key ".+" is defined as both a (dimension|dimension set) and dimension set;/.test(args[0])) return;
    console.warn(...args);
  },
};

function metricsWriter(): Metrics {
  if (powertools === undefined) {
    powertools = new Metrics({ namespace: METRICS_NAMESPACE, logger: quietLogger });
    powertools.clearDefaultDimensions();
  }
  return powertools;
}

/**
 * Writes one EMF line now. Synchronous from the first add to the publish, so
 * jobs running side by side in one invocation never mix their dimensions.
 */
export const publishMetrics: MetricsSink = (dimensions, metrics, rollUps = []) => {
  if (Object.keys(metrics).length === 0) return;
  for (const names of rollUps) {
    const unknown = names.filter((name) => !(name in dimensions));
    if (unknown.length > 0) throw new RangeError(`roll-up by ${unknown.join(', ')}: not among the dimensions (${Object.keys(dimensions).join(', ')})`);
  }
  const writer = metricsWriter();
  writer.addDimensions({ ...dimensions });
  for (const names of rollUps) writer.addDimensions(Object.fromEntries(names.map((name) => [name, dimensions[name] ?? ''])));
  for (const [name, m] of Object.entries(metrics)) {
    writer.addMetric(name, UNITS[m.unit], m.value, m.storageResolution === 1 ? MetricResolution.High : MetricResolution.Standard);
  }
  writer.publishStoredMetrics();
};
