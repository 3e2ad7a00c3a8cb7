/**
 * The metrics SQS publishes to CloudWatch for each queue (namespace
 * `AWS/SQS`, dimension `QueueName`), for the local runtime: once a minute
 * (SQS's own resolution) the runtime reads each queue through fauxqs'
 * non-destructive inspection (`GET /_fauxqs/queues/<name>`: nothing is
 * received, no receive count moves) and adds the datapoints to its metric
 * store, where the local GetMetricData and alarms find them:
 *
 * - `ApproximateAgeOfOldestMessage`: seconds since the oldest message not
 *   deleted (waiting or in flight; a delayed one is not yet in the queue)
 *   arrived, as SQS documents it: a message of a standard queue received
 *   three times or more is left out (SQS moves such a poison pill to the back
 *   and stops counting it), and a dead-letter queue counts from when the
 *   message was moved there, not when it was first sent; 0 for an empty
 *   queue (SQS reports a value for every active queue);
 * - `ApproximateNumberOfMessagesVisible`, `ApproximateNumberOfMessagesNotVisible`,
 *   `ApproximateNumberOfMessagesDelayed`.
 *
 * fauxqs moves a message to its dead-letter queue as it is, with its send
 * time and receive count, so the sampler keeps when it first saw each one
 * there: a message that arrived since the previous sample counts from that
 * sample or from its send time, whichever is later (exact for one sent there,
 * at most one interval early for one moved there).
 */
import type { Datapoint, LocalMetrics } from './local-metrics.js';

const NAMESPACE = 'AWS/SQS';

/** Receives after which SQS leaves a message of a standard queue out of the age. */
const POISON_RECEIVES = 3;

interface InspectedMessage {
  readonly messageId?: string;
  readonly sentTimestamp?: number;
  readonly approximateReceiveCount?: number;
}

interface Inspected {
  readonly messages?: {
    readonly ready?: readonly InspectedMessage[];
    readonly delayed?: readonly unknown[];
    readonly inflight?: readonly { readonly message?: InspectedMessage }[];
  };
}

/** When a message arrived in a queue, and its receive count then. */
export interface Arrival {
  readonly at: number;
  readonly receives: number;
}

/** How one queue is sampled. */
export interface QueueSampling {
  /** A FIFO queue keeps a poison pill at its place (and in the age). */
  readonly fifo?: boolean;
  /** Arrivals by message id (a dead-letter queue's: see above); updated in place. */
  readonly arrivals?: Map<string, Arrival>;
  /** The previous sample's time (arrivals first seen now count from it at the earliest). */
  readonly previousSample?: number;
}

/** The datapoints of one queue's inspection at `now`. */
export function queueDatapoints(queueName: string, inspected: Inspected, now: number, sampling: QueueSampling = {}): Datapoint[] {
  const ready = inspected.messages?.ready ?? [];
  const inflight = inspected.messages?.inflight ?? [];
  const present = [...ready, ...inflight.flatMap((m) => (m.message === undefined ? [] : [m.message]))];
  const arrivals = sampling.arrivals;
  if (arrivals !== undefined) {
    const ids = new Set(present.flatMap((m) => (m.messageId === undefined ? [] : [m.messageId])));
    for (const id of arrivals.keys()) if (!ids.has(id)) arrivals.delete(id);
  }
  const arrivedAt: number[] = [];
  for (const message of present) {
    if (typeof message.sentTimestamp !== 'number') continue;
    let at = message.sentTimestamp;
    let receives = message.approximateReceiveCount ?? 0;
    if (arrivals !== undefined && message.messageId !== undefined) {
      let arrival = arrivals.get(message.messageId);
      if (arrival === undefined) {
        arrival = { at: Math.max(at, sampling.previousSample ?? at), receives };
        arrivals.set(message.messageId, arrival);
      }
      at = arrival.at;
      receives -= arrival.receives;
    }
    if (sampling.fifo !== true && receives >= POISON_RECEIVES) continue;
    arrivedAt.push(at);
  }
  const oldestSeconds = arrivedAt.length === 0 ? 0 : Math.max(0, Math.floor((now - Math.min(...arrivedAt)) / 1000));
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
  /** Physical names of the queues (dead-letter queues apart). */
  readonly queues: readonly string[];
  readonly deadLetterQueues: readonly string[];
  readonly metrics: LocalMetrics;
  /** @default 60_000 (SQS publishes once a minute) */
  readonly intervalMs?: number;
  readonly log: (line: string) => void;
}

/** Samples the queues now and then every `intervalMs` until stopped. */
export class SqsMetrics {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private previousSample: number | undefined;
  private readonly arrivals = new Map<string, Map<string, Arrival>>();

  constructor(private readonly options: SqsMetricsOptions) {
    for (const name of options.deadLetterQueues) this.arrivals.set(name, new Map());
  }

  /** Reads every queue once and records its datapoints. */
  async sample(): Promise<void> {
    const now = Date.now();
    const previousSample = this.previousSample;
    this.previousSample = now;
    await Promise.all(
      [...this.options.queues, ...this.options.deadLetterQueues].map(async (name) => {
        try {
          const response = await fetch(`${this.options.sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(name)}`);
          if (!response.ok) return;
          const arrivals = this.arrivals.get(name);
          const sampling: QueueSampling = { fifo: name.endsWith('.fifo'), ...(arrivals && { arrivals }), ...(previousSample !== undefined && { previousSample }) };
          this.options.metrics.add(queueDatapoints(name, (await response.json()) as Inspected, now, sampling));
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
