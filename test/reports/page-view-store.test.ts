/** The page-view store against DynamoDB Local; its UnprocessedItems retry against a stub (see below). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriteCommand, type BatchWriteCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defineApp } from '../../lib/app/define-app.js';
import { millis } from '../../lib/app/duration.js';
import { tableEnvName } from '../../lib/app/resource-env.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import {
  PAGE_VIEW_ITEM,
  PageViewStore,
  UnprocessedPageViewsError,
  daysCovering,
  pageViewItem,
  type PageView,
  type PageViewAttribute,
  type QueryRangeOptions,
} from '../../app/reports/page-views.js';
import { startTestRuntime } from '../helpers/runtime.js';

const pageViewsApp = defineApp({
  name: 'page-views',
  tables: { pageViews: { partitionKey: { name: 'day' }, sortKey: { name: 'sk' } } },
  functions: {},
});

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-03-10T15:30:00.000Z');
const DAYS = 3;
const VIEWS: readonly PageView[] = [...generatePageViews({ rows: 2000, days: DAYS, seed: 7, now: NOW })];
const BY_TIME = [...VIEWS].sort((a, b) => compare(PAGE_VIEW_ITEM.skOf(a.createdAt, a.id), PAGE_VIEW_ITEM.skOf(b.createdAt, b.id)));
const ALL_ATTRIBUTES: readonly PageViewAttribute[] = ['url', 'createdAt', 'responseMs'];

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Filter = Pick<QueryRangeOptions, 'minResponseMs' | 'urlContains'>;

/** What the store must return, computed in memory from the generated rows: in time order, projected. */
function expected(fromMs: number, toMs: number, filter: Filter, attributes: readonly PageViewAttribute[]): Array<Partial<PageView>> {
  return BY_TIME.filter(
    (v) =>
      v.createdAt >= fromMs &&
      v.createdAt <= toMs &&
      (filter.minResponseMs === undefined || v.responseMs >= filter.minResponseMs) &&
      (filter.urlContains === undefined || v.url.includes(filter.urlContains)),
  ).map((v) => Object.fromEntries(attributes.map((a) => [a, v[a]])));
}

/** queryRange over every day the range touches, oldest day first. */
async function queryDays(store: PageViewStore, options: QueryRangeOptions): Promise<Array<Partial<PageView>>> {
  const rows: Array<Partial<PageView>> = [];
  for (const day of daysCovering(options.fromMs, options.toMs)) rows.push(...(await store.queryRange(day, options)));
  return rows;
}

let runtime: LocalRuntime;
const store = new PageViewStore();
const written = {
  emptyBefore: undefined as boolean | undefined,
  emptyAfter: undefined as boolean | undefined,
  countBefore: undefined as number | undefined,
  countAfter: undefined as number | undefined,
  rows: 0,
  progress: [] as number[],
};

beforeAll(async () => {
  runtime = await startTestRuntime(pageViewsApp);
  // The runtime sets FERRY_TABLE_* only for tables a function uses, and this app has no functions.
  const table = runtime.resources.tables.pageViews;
  if (table === undefined) throw new Error('the runtime did not provision the pageViews table');
  process.env[tableEnvName('pageViews')] = table.name;

  written.emptyBefore = await store.isEmpty();
  written.countBefore = await store.approximateCount();
  written.rows = await store.writeAll(VIEWS, { onProgress: (n) => written.progress.push(n) });
  written.emptyAfter = await store.isEmpty();
  written.countAfter = await store.approximateCount();
});
afterAll(async () => {
  await runtime?.stop();
});

describe('PageViewStore.writeAll, isEmpty and approximateCount', () => {
  it('reports the fresh table empty, writes all 2,000 rows with progress after each batch, and then reports it not empty', () => {
    expect(written.emptyBefore).toBe(true);
    expect(written.rows).toBe(2000);
    expect(written.emptyAfter).toBe(false);
    expect(written.progress).toHaveLength(2000 / 25);
    expect([...written.progress].sort((a, b) => a - b)).toEqual(Array.from({ length: 80 }, (_, i) => (i + 1) * 25));
  });

  it('counts the rows by the table\'s metadata: none before, 2,000 after (DynamoDB Local counts at once; AWS within about six hours)', () => {
    expect(written.countBefore).toBe(0);
    expect(written.countAfter).toBe(2000);
  });

  it('rejects a concurrency outside 1-64, naming the option', async () => {
    await expect(store.writeAll(VIEWS, { concurrency: 0 })).rejects.toThrow(new RangeError('writeAll: concurrency must be a whole number 1-64 (got 0)'));
    await expect(store.writeAll(VIEWS, { concurrency: 65 })).rejects.toThrow('writeAll: concurrency must be a whole number 1-64 (got 65)');
  });
});

describe('PageViewStore.queryRange', () => {
  const everything = { fromMs: NOW - DAYS * DAY_MS, toMs: NOW };

  it.each<{ name: string; filter: Filter; attributes: readonly PageViewAttribute[] }>([
    { name: 'no filter', filter: {}, attributes: ALL_ATTRIBUTES },
    { name: 'responseMs at least 1000', filter: { minResponseMs: 1000 }, attributes: ['createdAt', 'responseMs'] },
    { name: 'a URL containing blog', filter: { urlContains: 'blog' }, attributes: ['url', 'createdAt'] },
    { name: 'both filters', filter: { minResponseMs: 1000, urlContains: 'blog' }, attributes: ALL_ATTRIBUTES },
    { name: 'a filter on an attribute it does not return', filter: { minResponseMs: 30_000 }, attributes: ['url'] },
  ])('returns over every day exactly the rows an in-memory filter gives, in time order, for $name', async ({ filter, attributes }) => {
    const rows = await queryDays(store, { ...everything, ...filter, attributes });
    const want = expected(everything.fromMs, everything.toMs, filter, attributes);
    expect(want.length).toBeGreaterThan(0);
    expect(rows).toEqual(want);
    expect(rows.every((row) => Object.keys(row).sort().join() === [...attributes].sort().join())).toBe(true);
  });

  it('covers all 2,000 rows over the four days the three-day range touches', async () => {
    expect(daysCovering(everything.fromMs, everything.toMs)).toEqual(['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
    expect(await queryDays(store, { ...everything, attributes: ['createdAt'] })).toHaveLength(2000);
  });

  it('returns a partial-day range across midnight with both ends included', async () => {
    const from = BY_TIME[300];
    const to = BY_TIME[1100];
    if (from === undefined || to === undefined) throw new Error('too few rows');
    expect(daysCovering(from.createdAt, to.createdAt).length).toBeGreaterThan(1);
    const rows = await queryDays(store, { fromMs: from.createdAt, toMs: to.createdAt, attributes: ALL_ATTRIBUTES });
    expect(rows).toEqual(expected(from.createdAt, to.createdAt, {}, ALL_ATTRIBUTES));
    expect(rows[0]?.createdAt).toBe(from.createdAt);
    expect(rows.at(-1)?.createdAt).toBe(to.createdAt);
  });

  it('returns a few hours inside one day, filtered, reading only that day', async () => {
    const fromMs = Date.parse('2026-03-09T06:00:00.000Z');
    const toMs = Date.parse('2026-03-09T11:59:59.999Z');
    const filter = { minResponseMs: 1000, urlContains: 'blog' };
    const rows = await store.queryRange('2026-03-09', { fromMs, toMs, ...filter, attributes: ['url', 'createdAt'] });
    expect(rows).toEqual(expected(fromMs, toMs, filter, ['url', 'createdAt']));
    expect(expected(fromMs, toMs, {}, ['createdAt']).length).toBeGreaterThan(rows.length);
  });

  it('follows LastEvaluatedKey through small pages, also pages the filter empties', async () => {
    const filter = { urlContains: 'blog' };
    const rows = await queryDays(store, { ...everything, ...filter, attributes: ['url', 'createdAt'], pageSize: 7 });
    expect(rows).toEqual(expected(everything.fromMs, everything.toMs, filter, ['url', 'createdAt']));
  });

  it('returns nothing for a day without rows', async () => {
    expect(await store.queryRange('2026-03-11', { fromMs: NOW, toMs: NOW + DAY_MS, attributes: ['url'] })).toEqual([]);
  });

  it('rejects a malformed day, no attributes, an empty urlContains and a bad pageSize, naming each', async () => {
    const range = { fromMs: NOW - 1000, toMs: NOW };
    await expect(store.queryRange('10.03.2026', { ...range, attributes: ['url'] })).rejects.toThrow(
      new RangeError('queryRange: day must be a UTC date YYYY-MM-DD (got "10.03.2026")'),
    );
    await expect(store.queryRange('2026-03-10', { ...range, attributes: [] })).rejects.toThrow(
      'queryRange: attributes must name at least one of url, createdAt, responseMs',
    );
    await expect(store.queryRange('2026-03-10', { ...range, attributes: ['url'], urlContains: '' })).rejects.toThrow(
      'queryRange: urlContains must not be empty (leave it out to match every URL)',
    );
    await expect(store.queryRange('2026-03-10', { ...range, attributes: ['url'], pageSize: 0 })).rejects.toThrow(
      'queryRange: pageSize must be a whole number 1-10,000 (got 0)',
    );
  });
});

/**
 * A hand-written stand-in for the document client that answers BatchWriteItem
 * only. A stub, because nothing real here produces UnprocessedItems: DynamoDB
 * Local processes every batch it accepts. `unprocessed(sk, submission)` says
 * whether an item is sent back on its n-th submission (1 = first).
 */
class UnprocessedItemsStub {
  readonly stored = new Map<string, Record<string, unknown>>();
  readonly batchSizes: number[] = [];
  private readonly submissions = new Map<string, number>();

  constructor(private readonly unprocessed: (sk: string, submission: number) => boolean) {}

  async send(command: unknown): Promise<Pick<BatchWriteCommandOutput, 'UnprocessedItems'>> {
    if (!(command instanceof BatchWriteCommand)) throw new Error('the stub answers BatchWriteCommand only');
    const left: NonNullable<BatchWriteCommandOutput['UnprocessedItems']> = {};
    for (const [table, requests] of Object.entries(command.input.RequestItems ?? {})) {
      this.batchSizes.push(requests.length);
      for (const request of requests) {
        const item = request.PutRequest?.Item;
        if (item === undefined) throw new Error('the stub takes puts only');
        const sk = String(item.sk);
        const submission = (this.submissions.get(sk) ?? 0) + 1;
        this.submissions.set(sk, submission);
        if (this.unprocessed(sk, submission)) (left[table] ??= []).push({ PutRequest: { Item: item } });
        else this.stored.set(sk, item);
      }
    }
    return { UnprocessedItems: left };
  }

  /** The stub typed as the client the store takes; it implements only the `send` the store calls. */
  get client(): DynamoDBDocumentClient {
    return this as unknown as DynamoDBDocumentClient;
  }
}

describe('PageViewStore.writeAll with UnprocessedItems', () => {
  const views = [...generatePageViews({ rows: 60, days: 1, seed: 3, now: NOW })];

  it('sends unprocessed items again until every item is written', async () => {
    // Two of every three items come back unprocessed on their first two submissions.
    const stub = new UnprocessedItemsStub((sk, submission) => submission <= 2 && Number(sk.split('-').at(-1)) % 3 !== 0);
    const progress: number[] = [];
    const rows = await new PageViewStore({ client: stub.client }).writeAll(views, {
      concurrency: 2,
      retryBaseDelay: millis(1),
      onProgress: (n) => progress.push(n),
    });
    expect(rows).toBe(60);
    expect(progress.at(-1)).toBe(60);
    expect(stub.stored).toEqual(new Map(views.map((v) => [PAGE_VIEW_ITEM.skOf(v.createdAt, v.id), pageViewItem(v)])));
    // Batches of 25, 25 and 10, each sent three times; the retries carry only the unprocessed items.
    expect(stub.batchSizes).toHaveLength(9);
    const retried = views.filter((v) => Number(v.id.split('-').at(-1)) % 3 !== 0).length;
    expect(stub.batchSizes.reduce((a, b) => a + b, 0)).toBe(60 + 2 * retried);
  });

  it('gives up on a batch that stays unprocessed, with an error saying how many items were left', async () => {
    const stub = new UnprocessedItemsStub(() => true);
    const store = new PageViewStore({ client: stub.client });
    const failure = store.writeAll(views.slice(0, 25), { maxRetries: 3, retryBaseDelay: millis(1) });
    await expect(failure).rejects.toThrow(UnprocessedPageViewsError);
    await expect(failure).rejects.toThrow(
      `BatchWriteItem on table "${store.table}" still left 25 of 25 page views unprocessed after 3 retries (the table is throttling writes): ` +
        "lower the concurrency, raise the table's write capacity, or run again (the writes are idempotent puts)",
    );
    expect(stub.batchSizes).toEqual([25, 25, 25, 25]);
    expect(stub.stored.size).toBe(0);
  });

  it('takes no new batch once one failed', async () => {
    // Every item of the first batch stays unprocessed; the others are written at once.
    const first = new Set(views.slice(0, 25).map((v) => PAGE_VIEW_ITEM.skOf(v.createdAt, v.id)));
    const stub = new UnprocessedItemsStub((sk) => first.has(sk));
    await expect(new PageViewStore({ client: stub.client }).writeAll(views, { concurrency: 1, maxRetries: 1, retryBaseDelay: millis(1) })).rejects.toThrow(
      'still left 25 of 25 page views unprocessed after 1 retry',
    );
    expect(stub.batchSizes).toEqual([25, 25]);
    expect(stub.stored.size).toBe(0);
  });
});
