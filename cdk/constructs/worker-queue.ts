/**
 * An SQS queue with its own dead-letter queue, both encrypted and TLS-only.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueAccess } from '../../lib/app/declaration.js';

export interface WorkerQueueProps {
  /**
   * How long a received message stays invisible to other consumers. Must be at
   * least the timeout of every function the queue feeds.
   * @default Duration.seconds(30)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives after which SQS moves a message to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long SQS keeps a message in the queue.
   * @default Duration.days(4)
   */
  readonly retention?: Duration;
  /**
   * How long SQS keeps a message in the dead-letter queue.
   * @default Duration.days(14)
   */
  readonly deadLetterRetention?: Duration;
  /**
   * What happens to both queues when they leave the stack.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class WorkerQueue extends Construct {
  /** The queue producers send to and workers consume from. */
  readonly queue: Queue;
  /** Where SQS moves a message after `maxReceiveCount` receives. */
  readonly deadLetterQueue: Queue;
  /** The receive count after which a message is dead-lettered. */
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: WorkerQueueProps = {}) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount ?? 5;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(30),
      retentionPeriod: props.retention ?? Duration.days(4),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
      removalPolicy,
    });
  }

  /**
   * Grants `grantee` the declared `access` to the queue. Consumers also get
   * consume and send on the dead-letter queue, so they can redrive it; senders
   * get nothing on it.
   */
  grant(grantee: IGrantable, access: QueueAccess): void {
    if (access === 'send' || access === 'sendConsume' || access === 'operate') this.queue.grantSendMessages(grantee);
    // grantSendMessages includes GetQueueAttributes (the console's counts); the DLQ is received and deleted from to redrive.
    if (access === 'operate') this.deadLetterQueue.grantConsumeMessages(grantee);
    if (access === 'consume' || access === 'sendConsume') {
      this.queue.grantConsumeMessages(grantee);
      this.deadLetterQueue.grantConsumeMessages(grantee);
      this.deadLetterQueue.grantSendMessages(grantee);
    }
  }
}
