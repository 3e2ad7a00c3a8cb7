/**
 * A key-value result cache with a TTL: the store contract and its DynamoDB
 * implementation. DynamoDB deletes expired items lazily (often within days),
 * so every read checks the expiry itself and treats an expired item as absent.
 */
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StateTable, type StateTableOptions } from '../aws/state-table.js';
import type { Duration } from '../app/duration.js';

export interface ResultCache {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttl: Duration): Promise<void>;
  delete(key: string): Promise<void>;
}

export const CACHE_ITEM = {
  pkOf: (key: string) => `CACHE#${key}`,
  sk: 'CACHE',
  ttl: 'expiresAt',
} as const;

export class DynamoResultCache implements ResultCache {
  private readonly state: StateTable;

  constructor(options: StateTableOptions = {}) {
    this.state = new StateTable(options);
  }

  private get db(): DynamoDBDocumentClient {
    return this.state.db;
  }

  private get table(): string {
    return this.state.name;
  }

  private now(): number {
    return this.state.now();
  }

  async get<T>(key: string): Promise<T | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.table, Key: { pk: CACHE_ITEM.pkOf(key), sk: CACHE_ITEM.sk } }));
    if (Item === undefined || (Item[CACHE_ITEM.ttl] as number) * 1000 <= this.now()) return undefined;
    return Item.value as T;
  }

  async set(key: string, value: unknown, ttl: Duration): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: CACHE_ITEM.pkOf(key), sk: CACHE_ITEM.sk, value: value ?? null, [CACHE_ITEM.ttl]: Math.ceil((this.now() + ttl.milliseconds) / 1000) },
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: CACHE_ITEM.pkOf(key), sk: CACHE_ITEM.sk } }));
  }
}
