/**
 * `npm run bench:report`: the slow-blog-views report over 100,000 page views
 * on the local runtime (DynamoDB Local, fauxqs, Ferry's handlers), measured
 * four ways in one run:
 *
 * - `sync_compute_ms`: the seed tutorial's original view, computing in the
 *   request: read every page view (a full table scan) and filter in code;
 * - `compute_sequential_ms` / `compute_parallel_ms`: Ferry's computation,
 *   querying the day partitions one at a time, then eight at a time;
 * - `cached_hit_p50_ms` / `p99`: `GET /reports/slow-blog-views` through the
 *   local API once the result is cached (one read per request).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lib/aws/clients.js';
import { tableName } from '../lib/app/resource-env.js';
import { startLocalRuntime } from '../lib/local/runtime.js';
import { seedPageViews } from '../lib/reports/seed-page-views.js';
import { slowBlogViews } from '../lib/reports/slow-blog-views.js';
import { computeInProcess } from '../lib/reports/report.js';
import { Figures, percentile } from './figures.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const HITS = Number(process.env.BENCH_HITS ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PARAMS = { days: 30, minResponseMs: 1000, urlContains: 'blog' } as const;

/** The seed's view: every row, filtered in the request. */
async function seedStyleCount(asOf: number): Promise<number> {
  const threshold = asOf - PARAMS.days * 86_400_000;
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await documentClient().send(new ScanCommand({ TableName: tableName('pageViews'), ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const view = item as { url: string; createdAt: number; responseMs: number };
      if (view.responseMs < PARAMS.minResponseMs || view.createdAt < threshold || view.createdAt > asOf || !view.url.includes(PARAMS.urlContains)) continue;
      count += 1;
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

async function median(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return percentile(times.sort((a, b) => a - b), 50);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('report');
  const runtime = await startLocalRuntime({ httpPort: 0, prefix: `bench-${process.pid}`, log: () => undefined });
  try {
    const seeded = await seedPageViews({ rows: ROWS, days: 60 });
    console.error(`seeded ${seeded.rows} page views in ${(seeded.elapsedMs / 1000).toFixed(1)} s`);
    const labels = { rows: ROWS, days: PARAMS.days };
    const asOf = Date.now();

    // The three computations agree, or the figures mean nothing.
    const seedCount = await seedStyleCount(asOf);
    const ferryCount = (await computeInProcess(slowBlogViews, PARAMS, asOf)).count;
    if (seedCount !== ferryCount) throw new Error(`the computations disagree: seed-style ${seedCount}, Ferry ${ferryCount}`);

    const sync = await median(RUNS, () => seedStyleCount(asOf));
    const sequential = await median(RUNS, () => computeInProcess(slowBlogViews, PARAMS, asOf, 1));
    const parallel = await median(RUNS, () => computeInProcess(slowBlogViews, PARAMS, asOf, 8));

    const url = `${runtime.url}/reports/slow-blog-views`;
    for (;;) {
      const response = await fetch(url, { headers: { accept: 'application/json' } });
      await response.arrayBuffer();
      if (response.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const hits: number[] = [];
    for (let i = 0; i < HITS; i++) {
      const t = performance.now();
      const response = await fetch(url, { headers: { accept: 'application/json' } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`cached hit answered ${response.status}`);
      hits.push(performance.now() - t);
    }
    hits.sort((a, b) => a - b);

    figures.report('sync_compute_ms', sync, 'ms', { ...labels, how: 'seed view: full scan, filter in the request', count: seedCount });
    figures.report('compute_sequential_ms', sequential, 'ms', { ...labels, how: 'day partitions queried one at a time' });
    figures.report('compute_parallel_ms', parallel, 'ms', { ...labels, how: 'day partitions queried 8 at a time' });
    figures.report('cached_hit_p50_ms', percentile(hits, 50), 'ms', { ...labels, requests: HITS });
    figures.report('cached_hit_p99_ms', percentile(hits, 99), 'ms', { ...labels, requests: HITS });
    figures.report('speedup_cached_vs_sync', sync / percentile(hits, 50), 'x', labels);
    figures.table();
  } finally {
    await runtime.stop();
  }
}

await main();
