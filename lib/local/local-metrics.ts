/**
 * CloudWatch's metric store, for the local runtime: each line of a function's
 * output that is an Embedded Metric Format document becomes datapoints
 * (namespace, metric, dimensions, value, time), as CloudWatch Logs makes
 * them, beside the datapoints SQS publishes for its queues (sqs-metrics.ts).
 * The local alarms and the local GetMetricData (local-cloudwatch.ts) read
 * them. Kept for a day; a line that is not EMF is only a log line.
 */

export interface Datapoint {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
}

const KEEP_MS = 86_400_000;

/** The datapoints an EMF log line carries; none when the line is not EMF (or not valid EMF, which CloudWatch skips too). */
export function extractEmf(line: string): Datapoint[] {
  if (!line.startsWith('{') || !line.includes('"_aws"')) return [];
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return [];
  }
  const aws = doc._aws as { Timestamp?: unknown; CloudWatchMetrics?: unknown } | undefined;
  if (typeof aws?.Timestamp !== 'number' || !Array.isArray(aws.CloudWatchMetrics)) return [];
  const points: Datapoint[] = [];
  for (const directive of aws.CloudWatchMetrics as { Namespace?: unknown; Dimensions?: unknown; Metrics?: unknown }[]) {
    if (typeof directive.Namespace !== 'string' || !Array.isArray(directive.Metrics)) continue;
    const dimensionSets = Array.isArray(directive.Dimensions) ? (directive.Dimensions as unknown[]) : [[]];
    for (const set of dimensionSets) {
      if (!Array.isArray(set)) continue;
      // A dimension's value is the member of the same name; one that is missing or not a string invalidates the set.
      const pairs = set.map((name) => [name, typeof name === 'string' ? doc[name] : undefined] as const);
      if (!pairs.every(([, value]) => typeof value === 'string')) continue;
      const dimensions = Object.fromEntries(pairs) as Record<string, string>;
      for (const metric of directive.Metrics as { Name?: unknown }[]) {
        const value = typeof metric.Name === 'string' ? doc[metric.Name] : undefined;
        if (typeof metric.Name !== 'string' || typeof value !== 'number' || !Number.isFinite(value)) continue;
        points.push({ namespace: directive.Namespace, name: metric.Name, dimensions, value, timestamp: aws.Timestamp });
      }
    }
  }
  return points;
}

export class LocalMetrics {
  private points: Datapoint[] = [];

  /** Takes one line of a function's output. */
  ingest(line: string): void {
    this.add(extractEmf(line));
  }

  /** Takes datapoints an AWS service publishes itself (SQS's queue metrics: sqs-metrics.ts). */
  add(points: readonly Datapoint[]): void {
    if (points.length === 0) return;
    this.points.push(...points);
    const horizon = Date.now() - KEEP_MS;
    if ((this.points[0]?.timestamp ?? horizon) < horizon) this.points = this.points.filter((p) => p.timestamp >= horizon);
  }

  /** Values of one metric with exactly `dimensions`, timestamped in [from, to). */
  values(namespace: string, name: string, dimensions: Readonly<Record<string, string>>, from: number, to: number): number[] {
    return this.datapoints(namespace, name, dimensions, from, to).map((p) => p.value);
  }

  /** Datapoints of one metric with exactly `dimensions`, timestamped in [from, to). */
  datapoints(namespace: string, name: string, dimensions: Readonly<Record<string, string>>, from: number, to: number): Datapoint[] {
    const wanted = Object.entries(dimensions);
    return this.points
      .filter(
        (p) =>
          p.namespace === namespace &&
          p.name === name &&
          p.timestamp >= from &&
          p.timestamp < to &&
          Object.keys(p.dimensions).length === wanted.length &&
          wanted.every(([k, v]) => p.dimensions[k] === v),
      );
  }
}
