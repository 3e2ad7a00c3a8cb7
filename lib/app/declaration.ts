/**
 * The single declaration of an application's resources.
 *
 * Tables, queues, functions and the events that invoke them are declared once,
 * here, as plain data. Both the CDK stack (`cdk/`) and the local runtime
 * (`lib/local/`) read this declaration; neither knows anything about a
 * resource that is not in it. A handler learns the physical name of a resource
 * only from the environment variables this declaration defines (see
 * `resource-env.ts`).
 */
import type { Duration } from './duration.js';

/** Attribute types DynamoDB allows for keys. */
export type KeyType = 'S' | 'N' | 'B';

export interface KeyDeclaration {
  readonly name: string;
  /** @default 'S' */
  readonly type?: KeyType;
}

/** What a DynamoDB stream carries for each change. */
export type StreamViewType = 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';

export interface TableDeclaration {
  readonly partitionKey: KeyDeclaration;
  /** @default no sort key */
  readonly sortKey?: KeyDeclaration;
  /**
   * Attribute holding an epoch-seconds expiry; DynamoDB deletes the item some
   * time after it passes (lazily: readers must still ignore expired items).
   * @default no TTL
   */
  readonly timeToLiveAttribute?: string;
  /** @default no stream */
  readonly stream?: StreamViewType;
}

export interface QueueDeclaration {
  /**
   * How long a received message stays invisible to other consumers.
   * AWS refuses an event source mapping whose queue's visibility timeout is
   * shorter than the function's timeout; AWS recommends six times it, plus the
   * batching window. Ferry also refuses one shorter than timeout plus window.
   * @default 6 x the longest timeout of the functions this queue feeds, plus their longest batching window (30 s if none)
   */
  readonly visibilityTimeout?: Duration;
  /**
   * Receives after which SQS moves a message to the queue's dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /** @default 4 days (the SQS default) */
  readonly retention?: Duration;
  /** @default 14 days (the SQS maximum, so a dead letter is not lost before someone looks) */
  readonly deadLetterRetention?: Duration;
}

/** Access a function is granted to a table; also puts the table name in its environment. */
export type TableAccess = 'read' | 'write' | 'readWrite';
/**
 * Access a function is granted to a queue; also puts the queue URL in its
 * environment. `operate`: what an operator's tools need and no more: send to
 * the queue and read its attributes (depth, in flight), and read, delete and
 * redrive its dead letters, but never receive the queue's live messages.
 */
export type QueueAccess = 'send' | 'consume' | 'sendConsume' | 'operate';

export interface SqsEventDeclaration {
  readonly type: 'sqs';
  readonly queue: string;
  /**
   * Records per invocation (1-10, or up to 10,000 with a batching window).
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long the poller gathers records before invoking with a partial batch.
   * @default 0 seconds
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations this source drives (AWS allows 2-1000).
   * @default 5 (AWS starts an SQS event source with five pollers)
   */
  readonly maxConcurrency?: number;
}

export interface DynamoStreamEventDeclaration {
  readonly type: 'dynamodb-stream';
  readonly table: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 'LATEST' */
  readonly startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  /**
   * Retries of a failed batch before it is skipped.
   * @default 3
   */
  readonly retryAttempts?: number;
}

export interface ScheduleEventDeclaration {
  readonly type: 'schedule';
  /** Unique name of the schedule within the app. */
  readonly name: string;
  /** An EventBridge expression: `rate(5 minutes)` or `cron(0 12 * * ? *)`. */
  readonly expression: string;
  /** @default the EventBridge "Scheduled Event" envelope */
  readonly input?: Readonly<Record<string, unknown>>;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS' | 'ANY';

export interface HttpEventDeclaration {
  readonly type: 'http';
  readonly method: HttpMethod;
  /** A REST API resource path: `/reports/{name}`, `/files/{proxy+}`. */
  readonly path: string;
  /**
   * `iam`: API Gateway answers 403 to any request not signed (SigV4) by a
   * principal allowed `execute-api:Invoke` on the route (operators' pages,
   * such as the console). The local runtime refuses unsigned requests under
   * the stage path the same way.
   * @default 'none': public
   */
  readonly authorization?: 'none' | 'iam';
}

export type EventDeclaration =
  | SqsEventDeclaration
  | DynamoStreamEventDeclaration
  | ScheduleEventDeclaration
  | HttpEventDeclaration;

export interface FunctionDeclaration {
  /** Entry file, relative to the project root (bundled by esbuild for Lambda). */
  readonly entry: string;
  /** @default 'handler' */
  readonly handler?: string;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memoryMb?: number;
  readonly uses?: {
    readonly tables?: Readonly<Record<string, TableAccess>>;
    readonly queues?: Readonly<Record<string, QueueAccess>>;
    /**
     * `'read'`: the function may read CloudWatch metrics (`GetMetricData`,
     * granted on "*": CloudWatch has no resource-level permission for it),
     * as the console does for its queues' oldest-message age.
     * @default no access to metrics
     */
    readonly metrics?: 'read';
  };
  /** Literal environment variables, besides those derived from `uses`. */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default no events: the function is only invoked directly */
  readonly events?: readonly EventDeclaration[];
}

/** The REST API the `http` events make. */
export interface ApiDeclaration {
  /**
   * The deployed stage: the first segment of every URL path (`/prod/reports`).
   * The local runtime serves the same paths (and, for convenience, the root).
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Content types API Gateway passes to the functions as base64 (`isBase64Encoded`)
   * and decodes from base64 in answers, e.g. `image/png` or `image/*`. Any other
   * body travels as UTF-8 text.
   * @default none: every body is text
   */
  readonly binaryMediaTypes?: readonly string[];
}

/**
 * Queue heartbeats: a canary job sent to each queue by a scheduled function,
 * whose start the worker records with its enqueue-to-start latency, as the
 * metric `HeartbeatLatency` (dimension `Queue`, the queue's physical name). An
 * alarm per queue fires when a heartbeat is late or missing: a stuck, starved
 * or throttled worker pool. The sending function is declared like any other
 * (a `schedule` event, `send` on each queue, `readWrite` on the table); its
 * handler is `heartbeatHandler()`.
 */
export interface HeartbeatDeclaration {
  /** The declared function that sends the canaries. */
  readonly sender: string;
  /** Queues that get a canary each tick (each must be consumed by a Ferry worker). */
  readonly queues: readonly string[];
  /** Where sends and starts are recorded (the worker's job-state table). @default 'state' */
  readonly table?: string;
  /**
   * A heartbeat is late when it has waited longer than this for a worker.
   * @default 2 minutes
   */
  readonly lateAfter?: Duration;
  /**
   * The alarm: each period's maximum latency against `lateAfter`.
   * `period` 10, 20 or 30 seconds (the metric is then high resolution) or a
   * multiple of a minute.
   * @default period 1 minute, 2 of 3 periods late to fire (periods without a datapoint are left out; none at all is INSUFFICIENT_DATA)
   */
  readonly alarm?: {
    readonly period?: Duration;
    readonly evaluationPeriods?: number;
    readonly datapointsToAlarm?: number;
  };
}

export interface AppDeclaration {
  /** Short name, used as the prefix of local resource names and in the stack name. */
  readonly name: string;
  /** The REST API's stage and binary media types. @default stage `prod`, no binary media types */
  readonly api?: ApiDeclaration;
  readonly tables?: Readonly<Record<string, TableDeclaration>>;
  readonly queues?: Readonly<Record<string, QueueDeclaration>>;
  readonly functions: Readonly<Record<string, FunctionDeclaration>>;
  /** @default no heartbeats */
  readonly heartbeats?: HeartbeatDeclaration;
}
