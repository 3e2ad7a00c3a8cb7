/**
 * Fills the `pageViews` table with a generated data set: the core of
 * `npm run seed`, and what `npm start` can call for the demo data set.
 */
import { type StateTableOptions } from 'ferry';
import { generatePageViews } from './page-view-generator.js';
import { PageViewStore } from './page-views.js';

export interface SeedPageViewsOptions {
  /** Rows to write, 1-10,000,000. */
  readonly rows: number;
  /** Days the rows are spread over, ending at `now`, 1-3650. */
  readonly days: number;
  /** PRNG seed. @default 42 (the generator's) */
  readonly seed?: number;
  /** End of the time range, epoch ms. @default Date.now() */
  readonly now?: number;
  /** Called after each batch with the rows written so far. */
  readonly onProgress?: (written: number) => void;
  /** Batches in flight. @default 8 (the store's) */
  readonly concurrency?: number;
  /** Where to write. @default the `pageViews` table named by FERRY_TABLE_PAGE_VIEWS, shared client */
  readonly store?: StateTableOptions;
}

export interface SeedResult {
  readonly rows: number;
  readonly elapsedMs: number;
  /** The physical table written to. */
  readonly table: string;
}

/** Generates `rows` page views and writes them; the options are validated before anything is written. */
export async function seedPageViews(options: SeedPageViewsOptions): Promise<SeedResult> {
  const views = generatePageViews({
    rows: options.rows,
    days: options.days,
    ...(options.seed !== undefined && { seed: options.seed }),
    ...(options.now !== undefined && { now: options.now }),
  });
  const store = new PageViewStore(options.store);
  const started = performance.now();
  const rows = await store.writeAll(views, {
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    ...(options.onProgress && { onProgress: options.onProgress }),
  });
  return { rows, elapsedMs: performance.now() - started, table: store.table };
}
