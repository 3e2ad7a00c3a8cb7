/**
 * One CloudWatch dashboard for an app's background jobs, built from what AWS
 * and Ferry's workers already publish:
 *
 * - per queue: messages waiting and in flight, the age of the oldest message,
 *   and the dead-letter queue's depth (SQS's metrics);
 * - per function: errors and throttles, and duration p50 / p99 / max
 *   (Lambda's metrics);
 * - jobs by outcome, this stack's queues summed: succeeded, failed, retried,
 *   stopped (the `Ferry` namespace the worker writes as EMF in its log lines,
 *   per queue and task and rolled up per queue; the dashboard reads the
 *   roll-up of each queue by its physical name, so a new task needs no change
 *   here and another stack's jobs never count; one graph per 24 queues, a
 *   graph's 100 metrics);
 * - per queue with heartbeats: the canaries' enqueue-to-start latency, with
 *   the alarm's threshold.
 *
 * Reads only; creating it adds nothing to any job's path.
 */
import { Duration } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, type IWidget, MathExpression, Metric, TextWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { JOB_OUTCOME_METRICS, METRICS_NAMESPACE } from '../../lib/util/metrics.js';
import type { WatchedQueue } from './ferry-alarms.js';
import { heartbeatLatency, type WatchedHeartbeats } from './heartbeat-metric.js';

export interface FerryDashboardProps {
  /** Queues to show, by name. */
  readonly queues: Readonly<Record<string, WatchedQueue>>;
  /** Functions to show, by name. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /**
   * Queues with heartbeats.
   * @default no heartbeat widgets
   */
  readonly heartbeats?: WatchedHeartbeats;
  /**
   * The dashboard's name (unique in the account and region).
   * @default a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

/** The EMF namespace and the per-outcome metric names the worker writes. */
export const JOB_METRICS = { namespace: METRICS_NAMESPACE, outcomes: JOB_OUTCOME_METRICS } as const;

const PERIOD = Duration.minutes(1);
const WIDTH = 8;
/** CloudWatch's most metrics and expressions in one graph. */
const MAX_GRAPH_METRICS = 100;

/** One job metric summed over `queues` (each queue's roll-up, a minute without jobs counted as 0); `label` (lower case) names its metrics' ids. */
function jobsOf(metricName: string, queues: readonly WatchedQueue[], label: string): MathExpression {
  const usingMetrics = Object.fromEntries(
    queues.map(({ queue }, i) => [`${label}${i}`, new Metric({ namespace: JOB_METRICS.namespace, metricName, dimensionsMap: { Queue: queue.queueName }, statistic: 'Sum', period: PERIOD })]),
  );
  return new MathExpression({ expression: `SUM([${Object.keys(usingMetrics).map((id) => `FILL(${id}, 0)`).join(', ')}])`, usingMetrics, label, period: PERIOD });
}

export class FerryDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: FerryDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      ...(props.dashboardName !== undefined && { dashboardName: props.dashboardName }),
      defaultInterval: Duration.hours(3),
    });

    const queues = Object.entries(props.queues);
    if (queues.length > 0) {
      this.dashboard.addWidgets(new TextWidget({ markdown: "## Jobs\nThis stack's queues, every task, per minute (from the workers' EMF log lines).", width: 24, height: 2 }));
      // A graph holds at most 100 metrics and expressions: one expression and one metric per queue for each outcome.
      const outcomes = Object.entries(JOB_METRICS.outcomes);
      const perGraph = Math.floor((MAX_GRAPH_METRICS - outcomes.length) / outcomes.length);
      for (let from = 0; from < queues.length; from += perGraph) {
        const group = queues.slice(from, from + perGraph);
        const title = queues.length <= perGraph ? 'Jobs by outcome' : `Jobs by outcome: ${group.map(([name]) => name).join(', ')}`;
        this.dashboard.addWidgets(new GraphWidget({ title, width: 24, left: outcomes.map(([label, name]) => jobsOf(name, group.map(([, q]) => q), label)) }));
      }
    }

    const queueWidgets: IWidget[] = [];
    for (const [name, { queue, deadLetterQueue }] of Object.entries(props.queues)) {
      queueWidgets.push(
        new GraphWidget({
          title: `${name}: waiting and in flight`,
          width: WIDTH,
          left: [queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: 'waiting' }), queue.metricApproximateNumberOfMessagesNotVisible({ period: PERIOD, label: 'in flight' })],
        }),
        new GraphWidget({
          title: `${name}: oldest message (s)`,
          width: WIDTH,
          left: [queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: 'age' })],
        }),
        new GraphWidget({
          title: `${name}: dead letters`,
          width: WIDTH,
          left: [deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'in the DLQ' })],
        }),
      );
    }
    if (queueWidgets.length > 0) {
      this.dashboard.addWidgets(new TextWidget({ markdown: '## Queues', width: 24, height: 1 }));
      this.dashboard.addWidgets(...queueWidgets);
    }

    const beats = props.heartbeats;
    const heartbeatWidgets: IWidget[] = Object.entries(beats?.queues ?? {}).map(
      ([name, queue]) =>
        new GraphWidget({
          title: `${name}: heartbeat latency (ms)`,
          width: WIDTH,
          left: [heartbeatLatency(queue, beats?.periodSeconds ?? 60).with({ label: 'latency (max)' })],
          leftAnnotations: [{ value: beats?.thresholdMs ?? 0, label: 'late', color: '#d62728' }],
        }),
    );
    if (heartbeatWidgets.length > 0) {
      this.dashboard.addWidgets(new TextWidget({ markdown: "## Heartbeats\nEnqueue-to-start latency of each queue's canary; above the line, the alarm counts the period as late.", width: 24, height: 2 }));
      this.dashboard.addWidgets(...heartbeatWidgets);
    }

    const functionWidgets: IWidget[] = [];
    for (const [name, fn] of Object.entries(props.functions)) {
      functionWidgets.push(
        new GraphWidget({
          title: `${name}: errors and throttles`,
          width: WIDTH,
          left: [fn.metricErrors({ period: PERIOD, label: 'errors' }), fn.metricThrottles({ period: PERIOD, label: 'throttles' })],
        }),
        new GraphWidget({
          title: `${name}: duration (ms)`,
          width: WIDTH,
          left: ['p50', 'p99', 'Maximum'].map((statistic) => fn.metricDuration({ period: PERIOD, statistic, label: statistic })),
        }),
      );
    }
    if (functionWidgets.length > 0) {
      this.dashboard.addWidgets(new TextWidget({ markdown: '## Functions', width: 24, height: 1 }));
      this.dashboard.addWidgets(...functionWidgets);
    }
  }
}
