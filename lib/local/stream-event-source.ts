/**
 * Emulates a Lambda event source mapping on a DynamoDB stream:
 *
 * - each shard is read in order, one batch at a time, polling four times a
 *   second as Lambda does; a child shard is read only after its parent closed;
 * - a failed batch (thrown error or timeout) is retried, in order, up to
 *   `retryAttempts` times, then skipped (Lambda would send it to an on-failure
 *   destination; the local runtime logs it);
 * - `ReportBatchItemFailures`: a response naming a record's sequence number
 *   checkpoints before it, and the next attempt starts at that record.
 *
 * Shards that exist when the runtime starts are read from `startingPosition`;
 * shards that appear later are read from their start.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
  type DynamoDBStreamsClient,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { StreamSource } from '../app/define-app.js';
import type { FunctionHost } from './function-host.js';
import type { RuntimeStats } from './runtime-stats.js';
import { sleep } from '../util/sleep.js';

const POLL_INTERVAL_MS = 250;
const RETRY_DELAY_MS = 500;

export interface StreamEventSourceOptions {
  readonly source: StreamSource;
  readonly tableName: string;
  readonly host: FunctionHost;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly region: string;
  readonly stats: RuntimeStats;
  readonly log: (line: string) => void;
}

interface ShardState {
  readonly shard: Shard;
  iterator: string | undefined;
  closed: boolean;
  /** Sequence number of the last record handed to the function, to position a fresh iterator after it. */
  lastSequence?: string;
  /** Where the shard was first read from: a fresh iterator before any delivery starts there again. */
  readonly startedAt: 'LATEST' | 'TRIM_HORIZON';
}

export class StreamEventSource {
  private readonly abort = new AbortController();
  private readonly shards = new Map<string, ShardState>();
  private loop: Promise<void> | undefined;
  private streamArn = '';

  constructor(private readonly options: StreamEventSourceOptions) {}

  /** The mapping's settings, as declared. */
  get source(): StreamEventSourceOptions['source'] {
    return this.options.source;
  }

  /** Resolves the stream and positions the existing shards, then polls in the background. */
  async start(): Promise<void> {
    const { Table } = await this.options.dynamodb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    if (Table?.LatestStreamArn === undefined) throw new Error(`table ${this.options.tableName} has no stream`);
    this.streamArn = Table.LatestStreamArn;
    await this.discoverShards(this.options.source.startingPosition);
    this.loop = this.poll();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async poll(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.discoverShards('TRIM_HORIZON');
        for (const state of this.shards.values()) {
          if (this.abort.signal.aborted) return;
          if (state.closed || !this.parentDone(state)) continue;
          await this.readShard(state);
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.options.log(`stream event source for "${this.options.source.functionId}": ${(error as Error).message}`);
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }

  private parentDone(state: ShardState): boolean {
    const parent = state.shard.ParentShardId;
    return parent === undefined || !this.shards.has(parent) || this.shards.get(parent)?.closed === true;
  }

  private async discoverShards(position: 'LATEST' | 'TRIM_HORIZON'): Promise<void> {
    let exclusiveStart: string | undefined;
    do {
      const { StreamDescription } = await this.options.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: exclusiveStart }),
      );
      for (const shard of StreamDescription?.Shards ?? []) {
        const id = shard.ShardId ?? '';
        if (this.shards.has(id)) continue;
        const { ShardIterator } = await this.options.streams.send(
          new GetShardIteratorCommand({ StreamArn: this.streamArn, ShardId: id, ShardIteratorType: position }),
        );
        this.shards.set(id, { shard, iterator: ShardIterator, closed: ShardIterator === undefined, startedAt: position });
      }
      exclusiveStart = StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart !== undefined);
  }

  /** Reads what the shard has now, invoking the function batch by batch. */
  private async readShard(state: ShardState): Promise<void> {
    let resets = 0;
    while (state.iterator !== undefined && !this.abort.signal.aborted) {
      let page;
      try {
        page = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: this.options.source.batchSize }));
      } catch (error) {
        // DynamoDB Local answers TrimmedDataAccessException for an iterator taken before a shard's first
        // record when that record came from a transaction (AWS does not: records stay 24 hours). A fresh
        // iterator, after the last record delivered (or where the mapping started), reads on without loss or
        // repeat. A few times in a row at most: then the error goes up, and the next poll tries again.
        if ((error as { name?: string }).name !== 'TrimmedDataAccessException' || resets >= 3) throw error;
        resets += 1;
        await sleep(RETRY_DELAY_MS / 10);
        state.iterator = await this.iteratorAfter(state);
        if (state.iterator === undefined) state.closed = true;
        continue;
      }
      resets = 0;
      const { Records, NextShardIterator } = page;
      const records = Records ?? [];
      if (records.length > 0) {
        await this.deliver(records);
        state.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? state.lastSequence;
      }
      state.iterator = NextShardIterator;
      if (NextShardIterator === undefined) state.closed = true;
      if (records.length === 0) return;
    }
  }

  private async iteratorAfter(state: ShardState): Promise<string | undefined> {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: state.shard.ShardId ?? '',
        ...(state.lastSequence === undefined
          ? { ShardIteratorType: state.startedAt }
          : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: state.lastSequence }),
      }),
    );
    return ShardIterator;
  }

  /** Invokes until the batch succeeds or its retries are spent. */
  private async deliver(records: readonly StreamRecord[]): Promise<void> {
    const { source, host, stats, log } = this.options;
    let pending = records;
    for (let attempt = 0; ; attempt++) {
      const result = await host.invoke(this.toEvent(pending), `stream ${source.table} x${pending.length}`);
      const from = result.outcome === 'ok' ? firstFailedIndex(result.value, pending) : 0;
      if (from === undefined) {
        stats.recordStreamBatch(source.table, pending.length, 'ok');
        return;
      }
      stats.recordStreamBatch(source.table, pending.length - from, 'failed');
      stats.recordStreamBatch(source.table, from, 'ok');
      pending = pending.slice(from);
      if (attempt >= source.retryAttempts) {
        stats.recordStreamBatch(source.table, pending.length, 'skipped');
        log(`stream event source for "${source.functionId}": skipped ${pending.length} record(s) after ${attempt + 1} attempts`);
        return;
      }
      await sleep(RETRY_DELAY_MS);
    }
  }

  private toEvent(records: readonly StreamRecord[]): DynamoDBStreamEvent {
    return { Records: records.map((r) => toLambdaRecord(r, this.streamArn, this.options.region)) };
  }
}

/**
 * Index of the first record to retry per the `ReportBatchItemFailures`
 * contract, or undefined when the batch succeeded. An unusable response
 * retries the whole batch.
 */
export function firstFailedIndex(value: unknown, records: readonly StreamRecord[]): number | undefined {
  const failures = (value as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (failures === undefined || failures === null) return undefined;
  if (!Array.isArray(failures)) return 0;
  if (failures.length === 0) return undefined;
  let first = records.length;
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === id);
    if (typeof id !== 'string' || index < 0) return 0;
    first = Math.min(first, index);
  }
  return first;
}

function toLambdaRecord(record: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID ?? '',
    eventName: record.eventName ?? 'MODIFY',
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created !== undefined && { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) }),
      ...(d.Keys !== undefined && { Keys: d.Keys as NonNullable<DynamoDBRecord['dynamodb']>['Keys'] }),
      ...(d.NewImage !== undefined && { NewImage: d.NewImage as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'] }),
      ...(d.OldImage !== undefined && { OldImage: d.OldImage as NonNullable<DynamoDBRecord['dynamodb']>['OldImage'] }),
      ...(d.SequenceNumber !== undefined && { SequenceNumber: d.SequenceNumber }),
      ...(d.SizeBytes !== undefined && { SizeBytes: d.SizeBytes }),
      ...(d.StreamViewType !== undefined && { StreamViewType: d.StreamViewType }),
    },
  };
}
