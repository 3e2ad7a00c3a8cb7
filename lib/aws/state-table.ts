/**
 * What every DynamoDB-backed store shares: which declared table it uses, the
 * client, and the clock (injectable, so tests can move time).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from './clients.js';
import { tableName } from '../app/resource-env.js';

export interface StateTableOptions {
  /** Declared id of the table. @default 'state' */
  readonly tableId?: string;
  /** @default the shared document client (endpoint from AWS_ENDPOINT_URL*) */
  readonly client?: DynamoDBDocumentClient;
  /** Clock in epoch milliseconds. @default Date.now */
  readonly now?: () => number;
}

export class StateTable {
  readonly tableId: string;
  private readonly client: DynamoDBDocumentClient | undefined;
  private readonly clock: () => number;

  constructor(options: StateTableOptions = {}) {
    this.tableId = options.tableId ?? 'state';
    this.client = options.client;
    // Read at each call, not captured: a clock set later (the local runtime's skew) applies too.
    this.clock = options.now ?? (() => Date.now());
  }

  get db(): DynamoDBDocumentClient {
    return this.client ?? documentClient();
  }

  /** The physical table name, read from the environment at call time. */
  get name(): string {
    return tableName(this.tableId);
  }

  now(): number {
    return this.clock();
  }
}
