/**
 * A key-value result cache with a TTL: the store contract and its DynamoDB
 * implementation. DynamoDB deletes expired items lazily (often within days),
 * so every read checks the expiry itself and treats an expired item as absent.
 */
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
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

  async get<T>(key: string): Promise<T | undefined> {
    const { Item } = await this.state.db.send(new GetCommand({ TableName: this.state.name, Key: { pk: CACHE_ITEM.pkOf(key), sk: CACHE_ITEM.sk } }));
    if (Item === undefined || (Item[CACHE_ITEM.ttl] as number) * 1000 <= this.state.now()) return undefined;
    return Item.value as T;
  }

  async set(key: string, value: unknown, ttl: Duration): Promise<void> {
    await this.state.db.send(
      new PutCommand({
        TableName: this.state.name,
        Item: { pk: CACHE_ITEM.pkOf(key), sk: CACHE_ITEM.sk, value: value ?? null, [CACHE_ITEM.ttl]: Math.ceil((this.state.now() + ttl.milliseconds) / 1000) },
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.state.db.send(new DeleteCommand({ TableName: this.state.name, Key: { pk: CACHE_ITEM.pkOf(key), sk: CACHE_ITEM.sk } }));
  }
}
