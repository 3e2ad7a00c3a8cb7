/**
 * The metrics SQS publishes to CloudWatch for each queue (namespace
 * `AWS/SQS`, dimension `QueueName`), for the local runtime: once a minute
 * (SQS's own resolution) the runtime reads each queue through fauxqs'
 * non-destructive inspection (`GET /_fauxqs/queues/<name>`: nothing is
 * received, no receive count moves) and adds the datapoints to its metric
 * store, where the local GetMetricData and alarms find them:
 *
 * - `ApproximateAgeOfOldestMessage`: seconds since the oldest message not
 *   deleted (waiting or in flight; a delayed one is not yet in the queue) was
 *   sent; 0 for an empty queue;
 * - `ApproximateNumberOfMessagesVisible`, `ApproximateNumberOfMessagesNotVisible`,
 *   `ApproximateNumberOfMessagesDelayed`.
 */
import type { Datapoint, LocalMetrics } from './local-metrics.js';

const NAMESPACE = 'AWS/SQS';

interface Inspected {
  readonly messages?: {
    readonly ready?: readonly { readonly sentTimestamp?: number }[];
    readonly delayed?: readonly unknown[];
    readonly inflight?: readonly { readonly message?: { readonly sentTimestamp?: number } }[];
  };
}

/** The datapoints of one queue's inspection at `now`. */
export function queueDatapoints(queueName: string, inspected: Inspected, now: number): Datapoint[] {
  const ready = inspected.messages?.ready ?? [];
  const inflight = inspected.messages?.inflight ?? [];
  const sent = [...ready.map((m) => m.sentTimestamp), ...inflight.map((m) => m.message?.sentTimestamp)].filter((t): t is number => typeof t === 'number');
  const oldestSeconds = sent.length === 0 ? 0 : Math.max(0, Math.floor((now - Math.min(...sent)) / 1000));
  const point = (name: string, value: number): Datapoint => ({ namespace: NAMESPACE, name, dimensions: { QueueName: queueName }, value, timestamp: now });
  return [
    point('ApproximateAgeOfOldestMessage', oldestSeconds),
    point('ApproximateNumberOfMessagesVisible', ready.length),
    point('ApproximateNumberOfMessagesNotVisible', inflight.length),
    point('ApproximateNumberOfMessagesDelayed', inspected.messages?.delayed?.length ?? 0),
  ];
}

export interface SqsMetricsOptions {
  /** fauxqs' endpoint. */
  readonly sqsEndpoint: string;
  /** Physical names of the queues (dead-letter queues included). */
  readonly queues: readonly string[];
  readonly metrics: LocalMetrics;
  /** @default 60_000 (SQS publishes once a minute) */
  readonly intervalMs?: number;
  readonly log: (line: string) => void;
}

/** Samples the queues now and then every `intervalMs` until stopped. */
export class SqsMetrics {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: SqsMetricsOptions) {}

  /** Reads every queue once and records its datapoints. */
  async sample(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.options.queues.map(async (name) => {
        try {
          const response = await fetch(`${this.options.sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
          if (!response.ok) return;
          this.options.metrics.add(queueDatapoints(name, (await response.json()) as Inspected, now));
        } catch (error) {
          this.options.log(`sqs metrics: could not read queue "${name}": ${(error as Error).message}`);
        }
      }),
    );
  }

  start(): void {
    const tick = () => {
      this.running = this.sample().finally(() => {
        this.running = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.options.intervalMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
