/**
 * A queue and the one function that works it: a {@link WorkerQueue} (queue and
 * dead-letter queue with redrive, SSE, TLS-only) feeding a {@link FerryFunction}
 * through an SQS event source that reports batch item failures, so a failed
 * message is retried (and eventually dead-lettered) without its batch-mates.
 *
 * The queue's visibility timeout must be at least {@link VISIBILITY_TIMEOUT_FACTOR}
 * times the function's timeout, as AWS recommends for Lambda consumers: a
 * message whose invocation is throttled or retried would otherwise become
 * visible again, and be delivered twice, while still being handled.
 */
import { Annotations, Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS } from '../../lib/app/define-app.js';
import { DEFAULT_FUNCTION_TIMEOUT, FerryFunction, type FerryFunctionProps } from './ferry-function.js';
import { WorkerQueue, type WorkerQueueProps } from './worker-queue.js';

/** The visibility timeout a worker queue needs, as a multiple of its function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = DEFAULTS.visibilityTimeoutFactor;

export interface WorkerPoolProps {
  /** The worker function. */
  readonly function: FerryFunctionProps;
  /**
   * The queue and its dead-letter queue. Its `visibilityTimeout` must be at
   * least {@link VISIBILITY_TIMEOUT_FACTOR} times the function's timeout.
   * @default the `WorkerQueue` defaults, except `visibilityTimeout`:
   *   `VISIBILITY_TIMEOUT_FACTOR` × the function's timeout + `maxBatchingWindow`
   */
  readonly queue?: WorkerQueueProps;
  /**
   * Most messages handed to one invocation (up to 10, or 10,000 with a `maxBatchingWindow`).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * Longest Lambda waits to fill a batch before invoking the function.
   * @default Duration.seconds(0) (invoke as soon as messages arrive)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations this event source starts (2-1000).
   * @default no limit but the function's and the account's concurrency
   */
  readonly maxConcurrency?: number;
}

/** The smallest visibility timeout, in seconds, that suits a function timeout of `timeoutSeconds`. */
export function minimumVisibilitySeconds(timeoutSeconds: number): number {
  return VISIBILITY_TIMEOUT_FACTOR * timeoutSeconds;
}

export class WorkerPool extends Construct {
  /** The queue producers send to and the function consumes. */
  readonly queue: Queue;
  /** Where SQS moves a message after `maxReceiveCount` receives. */
  readonly deadLetterQueue: Queue;
  /** The worker function. */
  readonly function: NodejsFunction;
  /** The queue construct (grants, receive count). */
  readonly workerQueue: WorkerQueue;
  /** The function construct (log group, role). */
  readonly workerFunction: FerryFunction;
  /** The event source connecting the queue to the function. */
  readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const timeout = props.function.timeout ?? DEFAULT_FUNCTION_TIMEOUT;
    const maxBatchingWindow = props.maxBatchingWindow ?? Duration.seconds(0);
    const visibilityTimeout = props.queue?.visibilityTimeout ?? defaultVisibilityTimeout(timeout, maxBatchingWindow);
    if (visibilityTimeout === undefined) {
      throw new Error(
        `${this.node.path}: the function timeout or batching window is an unresolved token, so no visibility timeout ` +
          `can be derived from it; pass queue.visibilityTimeout (at least ${VISIBILITY_TIMEOUT_FACTOR}x the function timeout)`,
      );
    }
    this.validate(visibilityTimeout, timeout, maxBatchingWindow);

    this.workerQueue = new WorkerQueue(this, 'Queue', { ...props.queue, visibilityTimeout });
    this.workerFunction = new FerryFunction(this, 'Function', props.function);
    this.eventSource = new SqsEventSource(this.workerQueue.queue, {
      batchSize: props.batchSize ?? 10,
      ...((maxBatchingWindow.isUnresolved() || maxBatchingWindow.toSeconds() > 0) && { maxBatchingWindow }),
      ...(props.maxConcurrency !== undefined && { maxConcurrency: props.maxConcurrency }),
      reportBatchItemFailures: true,
    });
    this.workerFunction.function.addEventSource(this.eventSource);

    this.queue = this.workerQueue.queue;
    this.deadLetterQueue = this.workerQueue.deadLetterQueue;
    this.function = this.workerFunction.function;
  }

  /**
   * Throws if the visibility timeout is shorter than {@link VISIBILITY_TIMEOUT_FACTOR}
   * times the function timeout; warns if it does not also cover the batching
   * window. Skips both when a value is an unresolved token.
   */
  private validate(visibilityTimeout: Duration, timeout: Duration, maxBatchingWindow: Duration): void {
    if (visibilityTimeout.isUnresolved() || timeout.isUnresolved()) return;
    const visibilityS = visibilityTimeout.toSeconds();
    const timeoutS = timeout.toSeconds();
    const minimumS = minimumVisibilitySeconds(timeoutS);
    if (visibilityS < minimumS) {
      throw new Error(
        `${this.node.path}: the queue's visibility timeout (${visibilityS} s) must be at least ${VISIBILITY_TIMEOUT_FACTOR}x ` +
          `the function timeout (${timeoutS} s), i.e. ${minimumS} s; otherwise SQS can redeliver a message while it is still being handled`,
      );
    }
    if (maxBatchingWindow.isUnresolved()) return;
    const windowS = maxBatchingWindow.toSeconds();
    if (visibilityS < minimumS + windowS) {
      Annotations.of(this).addWarningV2(
        'ferry:WorkerPool.visibilityTimeout',
        `the queue's visibility timeout (${visibilityS} s) does not cover ${VISIBILITY_TIMEOUT_FACTOR}x the function timeout ` +
          `(${timeoutS} s) plus the batching window (${windowS} s); AWS recommends at least ${minimumS + windowS} s`,
      );
    }
  }
}

function defaultVisibilityTimeout(timeout: Duration, maxBatchingWindow: Duration): Duration | undefined {
  if (timeout.isUnresolved() || maxBatchingWindow.isUnresolved()) return undefined;
  return Duration.seconds(minimumVisibilitySeconds(timeout.toSeconds()) + maxBatchingWindow.toSeconds());
}
