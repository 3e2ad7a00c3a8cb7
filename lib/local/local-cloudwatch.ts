/**
 * CloudWatch's `GetMetricData`, for the local runtime: the AWS SDK's
 * CloudWatch client (`AWS_ENDPOINT_URL_CLOUDWATCH`) reaches this endpoint,
 * which answers from the runtime's metric store (local-metrics.ts: the
 * functions' EMF metrics and SQS's queue metrics). It speaks the client's
 * protocol (AWS JSON 1.0, target `GraniteServiceVersion20100801.*`, times in
 * epoch seconds) and refuses what CloudWatch refuses: a query id not of the
 * form `^[a-z][a-zA-Z0-9_]*$`, more than 500 queries, a period that is not 1,
 * 5, 10, 20, 30 or a multiple of 60 seconds, an end not after the start, a
 * `ScanBy` other than its two values, an empty namespace or metric name, a
 * dimension without a name or value, more than 30 dimensions.
 *
 * It keeps CloudWatch's time rules: the start is rounded down (to the period
 * when that is under a minute, else to the minute when under 15 days ago,
 * 5 minutes under 63 days, else the hour) and the periods are counted from it; a query whose period is too fine for how long
 * ago it starts (under a minute beyond 3 hours, not a multiple of 5 minutes
 * beyond 15 days, of an hour beyond 63 days) gets no datapoints.
 *
 * Only `MetricStat` queries with the statistics Maximum, Minimum, Sum,
 * Average and SampleCount are answered; a metric math `Expression` or a
 * percentile is refused with a message saying the local runtime does not
 * compute it (nothing of Ferry asks for them), as is a `Unit` filter (the
 * store keeps no units). Every other CloudWatch action is refused as unknown.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LocalMetrics } from './local-metrics.js';

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const MAX_QUERIES = 500;
const STATISTICS = ['Maximum', 'Minimum', 'Sum', 'Average', 'SampleCount'] as const;
type Statistic = (typeof STATISTICS)[number];

interface Dimension {
  readonly Name?: unknown;
  readonly Value?: unknown;
}

interface MetricStatQuery {
  readonly Id?: unknown;
  readonly MetricStat?: {
    readonly Metric?: { readonly Namespace?: unknown; readonly MetricName?: unknown; readonly Dimensions?: readonly Dimension[] };
    readonly Period?: unknown;
    readonly Stat?: unknown;
    readonly Unit?: unknown;
  };
  readonly Expression?: unknown;
  readonly Label?: unknown;
  readonly ReturnData?: unknown;
}

interface GetMetricDataInput {
  readonly MetricDataQueries?: readonly MetricStatQuery[];
  readonly StartTime?: unknown;
  readonly EndTime?: unknown;
  readonly ScanBy?: unknown;
}

interface MetricDataResult {
  readonly Id: string;
  readonly Label: string;
  readonly Timestamps: number[];
  readonly Values: number[];
  readonly StatusCode: 'Complete';
}

/** A refusal, as CloudWatch words it (the query-compatible error code goes in `x-amzn-query-error`). */
class CloudWatchError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function statistic(values: readonly number[], stat: Statistic): number {
  switch (stat) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
  }
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MAX_DIMENSIONS = 30;

/**
 * The start CloudWatch uses for a `start` that is `age` ms ago, for a period
 * of `periodMs`: rounded down to the period when that is under a minute,
 * else by how old it is (to the minute under 15 days, 5 minutes under 63,
 * else the hour).
 */
export function roundedStart(start: number, age: number, periodMs: number): number {
  const unit = periodMs < MINUTE ? periodMs : age < 15 * DAY ? MINUTE : age < 63 * DAY ? 5 * MINUTE : HOUR;
  return Math.floor(start / unit) * unit;
}

/** Whether CloudWatch returns datapoints of `periodMs` for a start `age` ms ago. */
export function periodServed(periodMs: number, age: number): boolean {
  if (age > 63 * DAY) return periodMs % HOUR === 0;
  if (age > 15 * DAY) return periodMs % (5 * MINUTE) === 0;
  if (age > 3 * HOUR) return periodMs % MINUTE === 0;
  return true;
}

function validationError(field: string, constraint: string): CloudWatchError {
  return new CloudWatchError('ValidationError', `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`);
}

/** A CloudWatch timestamp in milliseconds: epoch seconds as the JSON protocol sends them. */
function timeOf(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CloudWatchError('ValidationError', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`);
  return value * 1000;
}

/** Answers a GetMetricData request from `metrics`, as at `now`. */
export function getMetricData(metrics: LocalMetrics, input: GetMetricDataInput, now = Date.now()): { MetricDataResults: MetricDataResult[]; Messages: [] } {
  const queries: readonly MetricStatQuery[] = Array.isArray(input.MetricDataQueries) ? (input.MetricDataQueries ?? []) : [];
  if (queries.length === 0) throw new CloudWatchError('ValidationError', "1 validation error detected: Value at 'metricDataQueries' failed to satisfy constraint: Member must not be null");
  if (queries.length > MAX_QUERIES) throw new CloudWatchError('InvalidParameterValue', `The collection MetricDataQueries must not have a size greater than ${MAX_QUERIES}.`);
  const asked = timeOf(input.StartTime, 'startTime');
  const end = timeOf(input.EndTime, 'endTime');
  if (end <= asked) throw new CloudWatchError('InvalidParameterValue', 'The parameter StartTime must be less than the parameter EndTime.');
  if (input.ScanBy !== undefined && input.ScanBy !== 'TimestampDescending' && input.ScanBy !== 'TimestampAscending') {
    throw validationError('scanBy', 'Member must satisfy enum value set: [TimestampDescending, TimestampAscending]');
  }
  const descending = input.ScanBy !== 'TimestampAscending';
  const age = Math.max(0, now - asked);
  const ids = new Set<string>();
  const results: MetricDataResult[] = [];
  for (const query of queries) {
    const id = query.Id;
    if (typeof id !== 'string' || !/^[a-z][a-zA-Z0-9_]*$/.test(id) || id.length > 255) {
      throw new CloudWatchError('ValidationError', `The value ${String(id)} for parameter MetricDataQueries.member.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores.`);
    }
    if (ids.has(id)) throw new CloudWatchError('InvalidParameterValue', `The value ${id} for parameter MetricDataQueries.member.Id is already used.`);
    ids.add(id);
    if (query.Expression !== undefined) throw new CloudWatchError('InvalidParameterValue', `query ${id}: metric math (Expression) is not computed by the local runtime's CloudWatch`);
    const stat = query.MetricStat;
    const metric = stat?.Metric;
    if (typeof metric?.Namespace !== 'string' || typeof metric.MetricName !== 'string') throw new CloudWatchError('InvalidParameterValue', `query ${id}: exactly one of Expression and MetricStat is required, and MetricStat needs Metric.Namespace and Metric.MetricName`);
    for (const [field, value] of [['namespace', metric.Namespace], ['metricName', metric.MetricName]] as const) {
      if (value.length < 1 || value.length > 255) throw validationError(`metricDataQueries.member.metricStat.metric.${field}`, 'Member must have length between 1 and 255');
    }
    const given: readonly Dimension[] = Array.isArray(metric.Dimensions) ? (metric.Dimensions as readonly Dimension[]) : [];
    if (given.length > MAX_DIMENSIONS) throw validationError('metricDataQueries.member.metricStat.metric.dimensions', `Member must have length less than or equal to ${MAX_DIMENSIONS}`);
    for (const d of given) {
      if (typeof d.Name !== 'string' || d.Name.length < 1 || d.Name.length > 255) throw validationError('metricDataQueries.member.metricStat.metric.dimensions.member.name', 'Member must not be null and must have length between 1 and 255');
      if (typeof d.Value !== 'string' || d.Value.length < 1 || d.Value.length > 1024) throw validationError('metricDataQueries.member.metricStat.metric.dimensions.member.value', 'Member must not be null and must have length between 1 and 1024');
    }
    if (stat?.Unit !== undefined) throw new CloudWatchError('InvalidParameterValue', `query ${id}: a Unit filter is not applied by the local runtime's CloudWatch (its store keeps no units); leave Unit out`);
    const period = stat?.Period;
    if (typeof period !== 'number' || !Number.isInteger(period) || period < 1 || (period >= 60 ? period % 60 !== 0 : ![1, 5, 10, 20, 30].includes(period))) {
      throw new CloudWatchError('InvalidParameterValue', `query ${id}: The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60 (got ${String(period)}).`);
    }
    if (!STATISTICS.includes(stat?.Stat as Statistic)) {
      throw new CloudWatchError('InvalidParameterValue', `query ${id}: the statistic ${String(stat?.Stat)} is not computed by the local runtime's CloudWatch (it computes ${STATISTICS.join(', ')})`);
    }
    const dimensions = Object.fromEntries(given.map((d) => [String(d.Name), String(d.Value)]));
    const periodMs = period * 1000;
    const start = roundedStart(asked, age, periodMs);
    const buckets = new Map<number, number[]>();
    const points = periodServed(periodMs, age) ? metrics.datapoints(metric.Namespace, metric.MetricName, dimensions, start, end) : [];
    for (const point of points) {
      const bucket = start + Math.floor((point.timestamp - start) / periodMs) * periodMs;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), point.value]);
    }
    const times = [...buckets.keys()].sort((a, b) => (descending ? b - a : a - b));
    if (query.ReturnData === false) continue;
    results.push({
      Id: id,
      Label: typeof query.Label === 'string' ? query.Label : metric.MetricName,
      Timestamps: times.map((t) => t / 1000),
      Values: times.map((t) => statistic(buckets.get(t) ?? [], stat?.Stat as Statistic)),
      StatusCode: 'Complete',
    });
  }
  return { MetricDataResults: results, Messages: [] };
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function answer(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': crypto.randomUUID(), ...headers });
  response.end(JSON.stringify(body));
}

/** The endpoint, on a free loopback port; `url` is what `AWS_ENDPOINT_URL_CLOUDWATCH` takes. */
export class LocalCloudWatch {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(metrics: LocalMetrics): Promise<LocalCloudWatch> {
    const server = createServer((request, response) => {
      void (async () => {
        try {
          const target = String(request.headers['x-amz-target'] ?? '');
          if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) throw new CloudWatchError('UnknownOperationException', 'Expected an AWS JSON 1.0 request with X-Amz-Target GraniteServiceVersion20100801.<Action>', 404);
          const action = target.slice(TARGET_PREFIX.length);
          if (action !== 'GetMetricData') throw new CloudWatchError('InvalidAction', `The action ${action} is not valid for this web service (the local runtime's CloudWatch answers GetMetricData)`);
          const text = await bodyOf(request);
          let input: GetMetricDataInput;
          try {
            input = (text === '' ? {} : JSON.parse(text)) as GetMetricDataInput;
          } catch {
            throw new CloudWatchError('SerializationException', 'the request body is not JSON');
          }
          answer(response, 200, getMetricData(metrics, input));
        } catch (error) {
          const e = error instanceof CloudWatchError ? error : new CloudWatchError('InternalServiceError', (error as Error).message, 500);
          answer(response, e.status, { __type: e.type, message: e.message }, { 'x-amzn-query-error': `${e.type};${e.status >= 500 ? 'Receiver' : 'Sender'}` });
        }
      })();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the local CloudWatch endpoint has no port');
    return new LocalCloudWatch(server, `http://127.0.0.1:${address.port}`);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
