/** Messages between `emulators.ts` and the emulator host process it spawns. */

export interface EmulatorHostConfig {
  /** 0 or absent: a free port. */
  readonly dynamodbPort?: number;
  /** 0 or absent: a free port. */
  readonly sqsPort?: number;
  /** DynamoDB Local `-dbPath`; absent: in memory. */
  readonly dataDir?: string;
}

/** Where the running emulators answer. Plain data, so a test's global setup can hand it to workers. */
export interface EmulatorEndpoints {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** The host's own endpoint: `GET /sqs-traffic` returns {@link SqsTraffic} per queue name. */
  readonly controlEndpoint: string;
}

export type EmulatorHostMessage =
  | ({ readonly event: 'ready'; readonly dynamodbPid: number } & EmulatorEndpoints)
  | { readonly event: 'failed'; readonly message: string };

/** Messages per queue as SQS saw them (whoever sent, deleted or redrove them). */
export interface SqsTraffic {
  sent: number;
  deleted: number;
  movedToDlq: number;
}
