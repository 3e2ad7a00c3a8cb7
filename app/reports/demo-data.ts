/**
 * The demo data set `npm start` writes on its first start, when the
 * page-view table is empty: small enough to write in a few seconds on
 * DynamoDB Local's disk store, large enough that the report reads a month of
 * day partitions and counts several hundred slow blog views.
 */
import { PageViewStore } from './page-views.js';
import { seedPageViews } from './seed-page-views.js';

export const DEMO_DATA = {
  rows: 8_000,
  /** Four weeks, inside the report's default window (slow-blog-views: 30 days), which so counts all of it. */
  days: 28,
  seed: 42,
  /** DynamoDB Local's disk store is bound by its SQLite file, not by requests in flight; 16 batches keep it busy. */
  concurrency: 16,
} as const;

/** What was written: enough to generate the same rows again (see generatePageViews). */
export interface DemoDataSet {
  readonly rows: number;
  readonly days: number;
  readonly seed: number;
  /** End of the data set's time range, epoch ms. */
  readonly now: number;
  readonly elapsedMs: number;
}

/**
 * Writes the demo data set unless the page-view table already holds data.
 * @returns the set written, or undefined when the table was not empty
 */
export async function seedDemoDataIfEmpty(onProgress?: (written: number) => void): Promise<DemoDataSet | undefined> {
  if (!(await new PageViewStore().isEmpty())) return undefined;
  const now = Date.now();
  const { rows, elapsedMs } = await seedPageViews({
    rows: DEMO_DATA.rows,
    days: DEMO_DATA.days,
    seed: DEMO_DATA.seed,
    now,
    concurrency: DEMO_DATA.concurrency,
    ...(onProgress && { onProgress }),
  });
  return { rows, days: DEMO_DATA.days, seed: DEMO_DATA.seed, now, elapsedMs };
}
