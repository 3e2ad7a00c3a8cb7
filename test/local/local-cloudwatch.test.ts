/**
 * The local runtime's CloudWatch GetMetricData, called with the AWS SDK's own
 * CloudWatch client (its protocol, its serialization of times), answering
 * from a metric store; and the datapoints the runtime makes of SQS's queues.
 */
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMetricData, LocalCloudWatch } from '../../lib/local/local-cloudwatch.js';
import { LocalMetrics, type Datapoint } from '../../lib/local/local-metrics.js';
import { queueDatapoints } from '../../lib/local/sqs-metrics.js';

const metrics = new LocalMetrics();
let cloudwatch: LocalCloudWatch;
let client: CloudWatchClient;
// An hour boundary one to two hours ago: recent enough for periods under a minute (CloudWatch serves them for 3 hours).
const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / HOUR) * HOUR - HOUR;

const point = (value: number, at: number, queue = 'q-io'): Datapoint => ({ namespace: 'AWS/SQS', name: 'ApproximateAgeOfOldestMessage', dimensions: { QueueName: queue }, value, timestamp: at });
const query = (id: string, stat: string, period = 60, queue = 'q-io'): MetricDataQuery => ({
  Id: id,
  MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: queue }] }, Period: period, Stat: stat },
});

beforeAll(async () => {
  cloudwatch = await LocalCloudWatch.start(metrics);
  client = new CloudWatchClient({ endpoint: cloudwatch.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  metrics.add([point(10, T0 + 5_000), point(40, T0 + 35_000), point(70, T0 + 65_000), point(5, T0 + 70_000, 'q-cpu')]);
});
afterAll(async () => {
  client?.destroy();
  await cloudwatch?.close();
});

describe('the local GetMetricData', () => {
  it('aggregates each period with the statistic asked for, newest first by default, one result per query', async () => {
    const answer = await client.send(
      new GetMetricDataCommand({ StartTime: new Date(T0), EndTime: new Date(T0 + 600_000), MetricDataQueries: [query('max', 'Maximum'), query('avg', 'Average'), query('n', 'SampleCount'), query('cpu', 'Maximum', 60, 'q-cpu')] }),
    );
    const byId = new Map(answer.MetricDataResults?.map((r) => [r.Id, r]));
    expect(byId.get('max')?.Timestamps).toEqual([new Date(T0 + 60_000), new Date(T0)]);
    expect(byId.get('max')?.Values).toEqual([70, 40]);
    expect(byId.get('avg')?.Values).toEqual([70, 25]);
    expect(byId.get('n')?.Values).toEqual([1, 2]);
    expect(byId.get('cpu')?.Values).toEqual([5]);
    expect(byId.get('max')).toMatchObject({ Label: 'ApproximateAgeOfOldestMessage', StatusCode: 'Complete' });
  });

  it('keeps to the time range, its start rounded down (to the minute, or to a period under a minute), and scans oldest first when asked', async () => {
    const minute = await client.send(new GetMetricDataCommand({ StartTime: new Date(T0 + 30_000), EndTime: new Date(T0 + 66_000), ScanBy: 'TimestampAscending', MetricDataQueries: [query('max', 'Maximum', 60)] }));
    expect(minute.MetricDataResults?.[0]?.Timestamps).toEqual([new Date(T0), new Date(T0 + 60_000)]);
    expect(minute.MetricDataResults?.[0]?.Values).toEqual([40, 70]);
    const ten = await client.send(new GetMetricDataCommand({ StartTime: new Date(T0 + 33_000), EndTime: new Date(T0 + 66_000), ScanBy: 'TimestampAscending', MetricDataQueries: [query('max', 'Maximum', 10)] }));
    expect(ten.MetricDataResults?.[0]?.Timestamps).toEqual([new Date(T0 + 30_000), new Date(T0 + 60_000)]);
    expect(ten.MetricDataResults?.[0]?.Values).toEqual([40, 70]);
    // Periods count from the (rounded) start, not from the epoch.
    const twenty = await client.send(new GetMetricDataCommand({ StartTime: new Date(T0 + 25_000), EndTime: new Date(T0 + 120_000), ScanBy: 'TimestampAscending', MetricDataQueries: [query('m', 'Maximum', 20)] }));
    expect(twenty.MetricDataResults?.[0]?.Timestamps).toEqual([new Date(T0 + 20_000), new Date(T0 + 60_000)]);
  });

  it('returns nothing for a period too fine for how long ago the range starts, as CloudWatch does', () => {
    const q = [query('m', 'Maximum', 10), query('hour', 'Maximum', 60)];
    const at = (now: number) => getMetricData(metrics, { StartTime: T0 / 1000, EndTime: (T0 + 600_000) / 1000, MetricDataQueries: q }, now).MetricDataResults.map((r) => r.Values.length);
    expect(at(T0 + 2 * HOUR)).toEqual([3, 2]);
    expect(at(T0 + 4 * HOUR)).toEqual([0, 2]);
    // Beyond 15 days, only multiples of 5 minutes; beyond 63, of an hour.
    expect(at(T0 + 16 * 24 * HOUR)).toEqual([0, 0]);
    const five = [query('m', 'Maximum', 300), query('hour', 'Maximum', 3600)];
    const far = (now: number) => getMetricData(metrics, { StartTime: T0 / 1000, EndTime: (T0 + HOUR) / 1000, MetricDataQueries: five }, now).MetricDataResults.map((r) => r.Values.length);
    expect(far(T0 + 16 * 24 * HOUR)).toEqual([1, 1]);
    expect(far(T0 + 64 * 24 * HOUR)).toEqual([0, 1]);
  });

  it('refuses what CloudWatch refuses: a query id out of its pattern, a period that is not 1, 5, 10, 20, 30 or a multiple of 60, an end before the start, a bad ScanBy, namespace, metric name or dimension', async () => {
    const range = { StartTime: new Date(T0), EndTime: new Date(T0 + 60_000) };
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [query('Max', 'Maximum')] }))).rejects.toThrow(/Id is not valid/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [query('m', 'Maximum', 90)] }))).rejects.toThrow(/Period must be 1, 5, 10, 20, 30, or a multiple of 60/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [query('m', 'Maximum', 15)] }))).rejects.toThrow(/Period must be/);
    await expect(client.send(new GetMetricDataCommand({ ...range, ScanBy: 'Newest' as never, MetricDataQueries: [query('m', 'Maximum')] }))).rejects.toThrow(/scanBy.*enum value set/);
    const metric = (change: object): MetricDataQuery => ({ Id: 'm', MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', ...change }, Period: 60, Stat: 'Maximum' } });
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [metric({ Namespace: '' })] }))).rejects.toThrow(/namespace.*length between 1 and 255/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [metric({ MetricName: '' })] }))).rejects.toThrow(/metricName.*length between 1 and 255/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [metric({ Dimensions: [{ Name: 'QueueName' }] })] }))).rejects.toThrow(/dimensions\.member\.value.*must not be null/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [metric({ Dimensions: [{ Value: 'q-io' }] })] }))).rejects.toThrow(/dimensions\.member\.name.*must not be null/);
    const many = Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' }));
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [metric({ Dimensions: many })] }))).rejects.toThrow(/less than or equal to 30/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [{ ...query('m', 'Maximum'), MetricStat: { ...query('m', 'Maximum').MetricStat!, Unit: 'Seconds' } }] }))).rejects.toThrow(/Unit filter is not applied by the local runtime/);
    await expect(client.send(new GetMetricDataCommand({ StartTime: new Date(T0), EndTime: new Date(T0), MetricDataQueries: [query('m', 'Maximum')] }))).rejects.toThrow(/StartTime must be less than the parameter EndTime/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [query('a', 'Maximum'), query('a', 'Minimum')] }))).rejects.toThrow(/already used/);
  });

  it('says what it does not compute (metric math, percentiles), and refuses other actions', async () => {
    const range = { StartTime: new Date(T0), EndTime: new Date(T0 + 60_000) };
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [{ Id: 'e', Expression: 'SUM(METRICS())' }] }))).rejects.toThrow(/metric math .* not computed by the local runtime/);
    await expect(client.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [query('p', 'p99')] }))).rejects.toThrow(/p99 is not computed by the local runtime/);
    await expect(client.send(new ListMetricsCommand({}))).rejects.toThrow(/ListMetrics is not valid/);
  });
});

describe("SQS's queue metrics, as the runtime samples them", () => {
  it('gives the age in seconds of the oldest message waiting or in flight (not one still delayed), and the counts; 0 for an empty queue', () => {
    const now = T0 + 100_000;
    const points = queueDatapoints('q-io', { messages: { ready: [{ sentTimestamp: T0 + 90_000 }], inflight: [{ message: { sentTimestamp: T0 + 40_500 } }], delayed: [{ sentTimestamp: T0 }] } }, now);
    const value = (name: string) => points.find((p) => p.name === name)?.value;
    expect(value('ApproximateAgeOfOldestMessage')).toBe(59);
    expect([value('ApproximateNumberOfMessagesVisible'), value('ApproximateNumberOfMessagesNotVisible'), value('ApproximateNumberOfMessagesDelayed')]).toEqual([1, 1, 1]);
    expect(points.every((p) => p.namespace === 'AWS/SQS' && p.dimensions.QueueName === 'q-io' && p.timestamp === now)).toBe(true);
    expect(queueDatapoints('q-io', { messages: { ready: [], inflight: [], delayed: [] } }, now).find((p) => p.name === 'ApproximateAgeOfOldestMessage')?.value).toBe(0);
  });

  it('leaves out a message of a standard queue received three times or more (a poison pill), not one of a FIFO queue', () => {
    const now = T0 + 100_000;
    const age = (points: readonly { name: string; value: number }[]) => points.find((p) => p.name === 'ApproximateAgeOfOldestMessage')?.value;
    const messages = { ready: [{ messageId: 'a', sentTimestamp: T0, approximateReceiveCount: 3 }, { messageId: 'b', sentTimestamp: T0 + 80_000, approximateReceiveCount: 2 }] };
    expect(age(queueDatapoints('q-io', { messages }, now))).toBe(20);
    expect(age(queueDatapoints('q-io.fifo', { messages }, now, { fifo: true }))).toBe(100);
    // The queue still counts it as visible.
    expect(queueDatapoints('q-io', { messages }, now).find((p) => p.name === 'ApproximateNumberOfMessagesVisible')?.value).toBe(2);
  });

  it("counts a dead letter's age from when it was moved to the dead-letter queue, not from when it was first sent", () => {
    const age = (points: readonly { name: string; value: number }[]) => points.find((p) => p.name === 'ApproximateAgeOfOldestMessage')?.value;
    const arrivals = new Map<string, { at: number; receives: number }>();
    // Sent at T0, received 5 times in its source queue, moved between the samples at T0+60s and T0+120s.
    const moved = { messageId: 'm', sentTimestamp: T0, approximateReceiveCount: 5 };
    expect(age(queueDatapoints('q-io-dlq', { messages: { ready: [] } }, T0 + 60_000, { arrivals }))).toBe(0);
    expect(age(queueDatapoints('q-io-dlq', { messages: { ready: [moved] } }, T0 + 120_000, { arrivals, previousSample: T0 + 60_000 }))).toBe(60);
    expect(age(queueDatapoints('q-io-dlq', { messages: { ready: [moved] } }, T0 + 180_000, { arrivals, previousSample: T0 + 120_000 }))).toBe(120);
    // One sent there directly (Ferry's own dead letters) counts from its send; receives there count from its arrival.
    const sent = { messageId: 's', sentTimestamp: T0 + 200_000, approximateReceiveCount: 0 };
    const read = { ...moved, approximateReceiveCount: 7 };
    expect(age(queueDatapoints('q-io-dlq', { messages: { ready: [read, sent] } }, T0 + 240_000, { arrivals, previousSample: T0 + 180_000 }))).toBe(180);
    expect(age(queueDatapoints('q-io-dlq', { messages: { ready: [{ ...moved, approximateReceiveCount: 8 }, sent] } }, T0 + 300_000, { arrivals, previousSample: T0 + 240_000 }))).toBe(100);
    // A redriven message leaves; the map forgets it.
    queueDatapoints('q-io-dlq', { messages: { ready: [sent] } }, T0 + 360_000, { arrivals, previousSample: T0 + 300_000 });
    expect([...arrivals.keys()]).toEqual(['s']);
  });
});
