/**
 * Page views: the model, its item layout in the `pageViews` table, and the
 * store that writes them in bulk and reads a time range back.
 *
 * One partition per UTC day (`day`), and a sort key that starts with the
 * creation time zero-padded to 13 digits, so a time range inside a day is a
 * `BETWEEN` on the sort key: every read is a `Query` on known partitions.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { StateTable, type StateTableOptions, days, type Duration, millis, seconds, sleep } from 'ferry';

export interface PageView {
  readonly id: string;
  readonly url: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  readonly responseMs: number;
}

/** The attributes of a page view that a query can ask for. */
export type PageViewAttribute = 'url' | 'createdAt' | 'responseMs';

const DAY_MS = days(1).milliseconds;
/** Epoch ms that fit in 13 digits: up to the year 2286. */
const MAX_EPOCH_MS = 9_999_999_999_999;

function assertEpochMs(ms: number, label: string): void {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS) {
    throw new RangeError(`${label} must be whole epoch milliseconds 0-${MAX_EPOCH_MS} (got ${ms})`);
  }
}

function pad13(ms: number): string {
  return String(ms).padStart(13, '0');
}

/** The UTC day of `epochMs`, as `YYYY-MM-DD`. */
export function dayOf(epochMs: number): string {
  assertEpochMs(epochMs, 'dayOf(epochMs)');
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** Every UTC day that the range [fromMs, toMs] touches, oldest first. */
export function daysCovering(fromMs: number, toMs: number): string[] {
  assertEpochMs(fromMs, 'daysCovering(fromMs)');
  assertEpochMs(toMs, 'daysCovering(toMs)');
  if (fromMs > toMs) throw new RangeError(`daysCovering: fromMs (${fromMs}) must not be after toMs (${toMs})`);
  const days: string[] = [];
  for (let midnight = Math.floor(fromMs / DAY_MS) * DAY_MS; midnight <= toMs; midnight += DAY_MS) days.push(dayOf(midnight));
  return days;
}

/**
 * Key and attribute names of page-view items, in one place. The id is not an
 * attribute of its own: it is the part of the sort key after `#`.
 */
export const PAGE_VIEW_ITEM = {
  partitionKey: 'day',
  sortKey: 'sk',
  /** `${createdAt zero-padded to 13 digits}#${id}`: sorts by time, then id. */
  skOf: (createdAt: number, id: string) => `${pad13(createdAt)}#${id}`,
  /** Lowest sort key of a view created at `ms` or later. */
  skFrom: (ms: number) => `${pad13(ms)}#`,
  /** Highest sort key of a view created at `ms` or earlier: `$` is the character after `#`. */
  skTo: (ms: number) => `${pad13(ms)}$`,
  url: 'url',
  createdAt: 'createdAt',
  responseMs: 'responseMs',
} as const;

/** The item stored for `view`. */
export function pageViewItem(view: PageView): Record<string, string | number> {
  assertEpochMs(view.createdAt, `page view "${view.id}": createdAt`);
  return {
    [PAGE_VIEW_ITEM.partitionKey]: dayOf(view.createdAt),
    [PAGE_VIEW_ITEM.sortKey]: PAGE_VIEW_ITEM.skOf(view.createdAt, view.id),
    [PAGE_VIEW_ITEM.url]: view.url,
    [PAGE_VIEW_ITEM.createdAt]: view.createdAt,
    [PAGE_VIEW_ITEM.responseMs]: view.responseMs,
  };
}

/** BatchWriteItem takes at most 25 requests. */
const BATCH_SIZE = 25;

export const WRITE_DEFAULTS = {
  concurrency: 8,
  maxRetries: 8,
  retryBaseDelay: millis(50),
  retryMaxDelay: seconds(5),
} as const;

export interface WriteAllOptions {
  /** Batches of 25 in flight at once, 1-64. @default 8 */
  readonly concurrency?: number;
  /** Called after each batch with the rows written so far. */
  readonly onProgress?: (written: number) => void;
  /** Retries of a batch's `UnprocessedItems` before giving up, 0-100. @default 8 */
  readonly maxRetries?: number;
  /** Backoff before the first retry; doubles with each one after (full jitter). @default 50 ms */
  readonly retryBaseDelay?: Duration;
  /** Longest backoff. @default 5 seconds */
  readonly retryMaxDelay?: Duration;
}

export interface QueryRangeOptions {
  /** First creation time included, epoch ms. */
  readonly fromMs: number;
  /** Last creation time included, epoch ms. */
  readonly toMs: number;
  /** Attributes to return (at least one); nothing else is read over the wire. */
  readonly attributes: readonly PageViewAttribute[];
  /** Only views with `responseMs >= minResponseMs`. @default no limit */
  readonly minResponseMs?: number;
  /** Only views whose URL contains this text (case-sensitive). @default any URL */
  readonly urlContains?: string;
  /** Items each `Query` reads (before the filters), 1-10,000. @default as many as fit in DynamoDB's 1 MB page */
  readonly pageSize?: number;
}

/** A batch kept coming back in `UnprocessedItems` (the table throttles writes) until the retries ran out. */
export class UnprocessedPageViewsError extends Error {
  override readonly name = 'UnprocessedPageViewsError';
  constructor(
    readonly table: string,
    readonly unprocessed: number,
    readonly batchSize: number,
    readonly retries: number,
  ) {
    super(
      `BatchWriteItem on table "${table}" still left ${unprocessed} of ${batchSize} page views unprocessed after ${retries} ${retries === 1 ? 'retry' : 'retries'} ` +
        '(the table is throttling writes): lower the concurrency, raise the table\'s write capacity, or run again (the writes are idempotent puts)',
    );
  }
}

/** Writes page views in bulk and reads them back by day and time range, with queries only. */
export class PageViewStore {
  private readonly state: StateTable;

  constructor(options: StateTableOptions = {}) {
    this.state = new StateTable({ tableId: 'pageViews', ...options });
  }

  private get db(): DynamoDBDocumentClient {
    return this.state.db;
  }

  /** The physical table name, read from the environment at call time. */
  get table(): string {
    return this.state.name;
  }

  /**
   * Puts every view (a view with the same id and createdAt is overwritten),
   * 25 to a `BatchWriteItem`, `concurrency` batches in flight. Items DynamoDB
   * leaves in `UnprocessedItems` are sent again after an exponential backoff
   * with full jitter; throttling errors are retried by the SDK itself. Ids must
   * be unique within `views`: DynamoDB rejects a batch holding two puts of one key.
   *
   * `views` is read lazily, so a generator of millions of rows is never held
   * in memory. On failure, batches in flight finish before the error is thrown.
   * @returns the rows written
   */
  async writeAll(views: Iterable<PageView>, options: WriteAllOptions = {}): Promise<number> {
    const concurrency = options.concurrency ?? WRITE_DEFAULTS.concurrency;
    const maxRetries = options.maxRetries ?? WRITE_DEFAULTS.maxRetries;
    const baseDelayMs = (options.retryBaseDelay ?? WRITE_DEFAULTS.retryBaseDelay).milliseconds;
    const maxDelayMs = (options.retryMaxDelay ?? WRITE_DEFAULTS.retryMaxDelay).milliseconds;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new RangeError(`writeAll: concurrency must be a whole number 1-64 (got ${concurrency})`);
    }
    if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 100) {
      throw new RangeError(`writeAll: maxRetries must be a whole number 0-100 (got ${maxRetries})`);
    }
    const table = this.table;
    const iterator = views[Symbol.iterator]();
    let exhausted = false;
    let failed = false;
    let written = 0;

    const nextBatch = (): PageView[] | undefined => {
      if (exhausted || failed) return undefined;
      const batch: PageView[] = [];
      while (batch.length < BATCH_SIZE) {
        const next = iterator.next();
        if (next.done === true) {
          exhausted = true;
          break;
        }
        batch.push(next.value);
      }
      return batch.length > 0 ? batch : undefined;
    };

    const writer = async (): Promise<void> => {
      try {
        for (let batch = nextBatch(); batch !== undefined; batch = nextBatch()) {
          await this.writeBatch(table, batch, { maxRetries, baseDelayMs, maxDelayMs });
          written += batch.length;
          options.onProgress?.(written);
        }
      } catch (error) {
        failed = true;
        throw error;
      }
    };

    const outcomes = await Promise.allSettled(Array.from({ length: concurrency }, writer));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return written;
  }

  private async writeBatch(
    table: string,
    batch: readonly PageView[],
    retry: { maxRetries: number; baseDelayMs: number; maxDelayMs: number },
  ): Promise<void> {
    let requests = batch.map((view) => ({ PutRequest: { Item: pageViewItem(view) } }));
    for (let retries = 0; ; retries++) {
      const { UnprocessedItems } = await this.db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      const left = UnprocessedItems?.[table] ?? [];
      if (left.length === 0) return;
      if (retries >= retry.maxRetries) throw new UnprocessedPageViewsError(table, left.length, batch.length, retries);
      // Full jitter: a uniformly random delay in [0, backoff], so that batches throttled together do not retry together.
      const backoffMs = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** retries);
      await sleep(Math.random() * backoffMs);
      requests = left.flatMap((request) => (request.PutRequest?.Item ? [{ PutRequest: { Item: request.PutRequest.Item } }] : []));
    }
  }

  /**
   * The views of UTC `day` created in [fromMs, toMs], oldest first, with only
   * the requested attributes: one `Query` per page (up to 1 MB, or
   * `pageSize` items), following `LastEvaluatedKey` to the end.
   *
   * The filters (`minResponseMs`, `urlContains`) run in DynamoDB after the
   * items are read: they cut what crosses the wire, not the read capacity
   * consumed, which is that of every item in the key range. Only the sort-key
   * range narrows what is read.
   */
  async queryRange(day: string, options: QueryRangeOptions): Promise<Array<Partial<PageView>>> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`queryRange: day must be a UTC date YYYY-MM-DD (got "${day}")`);
    assertEpochMs(options.fromMs, 'queryRange: fromMs');
    assertEpochMs(options.toMs, 'queryRange: toMs');
    const attributes = [...new Set(options.attributes)];
    if (attributes.length === 0) throw new RangeError('queryRange: attributes must name at least one of url, createdAt, responseMs');
    const { minResponseMs, urlContains } = options;
    if (minResponseMs !== undefined && !Number.isFinite(minResponseMs)) {
      throw new RangeError(`queryRange: minResponseMs must be a finite number (got ${minResponseMs})`);
    }
    if (options.pageSize !== undefined && (!Number.isInteger(options.pageSize) || options.pageSize < 1 || options.pageSize > 10_000)) {
      throw new RangeError(`queryRange: pageSize must be a whole number 1-10,000 (got ${options.pageSize})`);
    }
    if (urlContains === '') throw new RangeError('queryRange: urlContains must not be empty (leave it out to match every URL)');

    // Every attribute goes through a name placeholder, so no reserved word can break the expression.
    const names: Record<string, string> = { '#day': PAGE_VIEW_ITEM.partitionKey, '#sk': PAGE_VIEW_ITEM.sortKey };
    const values: Record<string, string | number> = {
      ':day': day,
      ':from': PAGE_VIEW_ITEM.skFrom(options.fromMs),
      ':to': PAGE_VIEW_ITEM.skTo(options.toMs),
    };
    const projection = attributes.map((attribute) => {
      names[`#${attribute}`] = PAGE_VIEW_ITEM[attribute];
      return `#${attribute}`;
    });
    const filters: string[] = [];
    if (minResponseMs !== undefined) {
      names['#responseMs'] = PAGE_VIEW_ITEM.responseMs;
      values[':minResponseMs'] = minResponseMs;
      filters.push('#responseMs >= :minResponseMs');
    }
    if (urlContains !== undefined) {
      names['#url'] = PAGE_VIEW_ITEM.url;
      values[':urlContains'] = urlContains;
      filters.push('contains(#url, :urlContains)');
    }
    const input: QueryCommandInput = {
      TableName: this.table,
      KeyConditionExpression: '#day = :day AND #sk BETWEEN :from AND :to',
      ProjectionExpression: projection.join(', '),
      ...(filters.length > 0 && { FilterExpression: filters.join(' AND ') }),
      ...(options.pageSize !== undefined && { Limit: options.pageSize }),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };

    const views: Array<Partial<PageView>> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(new QueryCommand({ ...input, ...(startKey && { ExclusiveStartKey: startKey }) }));
      for (const item of page.Items ?? []) views.push(pick(item, attributes));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return views;
  }

  /**
   * How many page views the table holds, as DynamoDB last counted them:
   * `DescribeTable`'s `ItemCount`, which consumes no read capacity. AWS
   * refreshes it about every six hours (DynamoDB Local at once), so it is an
   * estimate, for choosing how to read, never a result.
   */
  async approximateCount(): Promise<number> {
    const { Table } = await this.db.send(new DescribeTableCommand({ TableName: this.table }));
    return Table?.ItemCount ?? 0;
  }

  /**
   * Whether the table holds no item. This is the store's only `Scan`, and it
   * is fine: with `Limit: 1` it stops at the first item, so it reads one item
   * (a single read unit) whatever the table's size.
   */
  async isEmpty(): Promise<boolean> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          Limit: 1,
          ProjectionExpression: '#day',
          ExpressionAttributeNames: { '#day': PAGE_VIEW_ITEM.partitionKey },
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      if ((page.Items?.length ?? 0) > 0) return false;
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return true;
  }
}

/** The requested attributes of a returned item, type-checked. */
function pick(item: Record<string, unknown>, attributes: readonly PageViewAttribute[]): Partial<PageView> {
  const view: { url?: string; createdAt?: number; responseMs?: number } = {};
  for (const attribute of attributes) {
    const value = item[PAGE_VIEW_ITEM[attribute]];
    if (attribute === 'url') {
      if (typeof value === 'string') view.url = value;
    } else if (typeof value === 'number') {
      view[attribute] = value;
    }
  }
  return view;
}
