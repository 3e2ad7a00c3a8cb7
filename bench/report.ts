/**
 * `npm run bench:report`: the slow-blog-views report (30 days, the defaults)
 * over 100,000 page views, Ferry against the seed tutorial's patterns, on
 * this machine's emulators (DynamoDB Local, fauxqs), with Ferry as `npm start`
 * runs it (the synthesized bundles, each function in sandboxes of its own).
 *
 * The computation alone, one at a time, in this process (median of runs):
 *
 * - `compute_scan_ms`: the seed's view as written: Scan every row of the table
 *   and filter in code. DynamoDB Local scans slowly, so this baseline is slow
 *   for reasons that are not the architecture's; it is stated, not compared with.
 * - `compute_sequential_ms`: the day partitions queried one at a time;
 * - `compute_parallel_ms`: eight at a time. This is what Ferry's one-job
 *   refresh does, and what the in-request baseline below does.
 *
 * A cold burst (`BENCH_BURST` clients ask at once for a report nobody has
 * computed yet; each then polls every `BENCH_POLL_MS`, the first poll at a
 * random point of the interval, until it gets the result), on a warm service:
 *
 * - `cold_first_ready_ms`: from the first request to the first ready answer;
 *   `cold_all_ready_ms`: to the last client's. For `system=ferry` by `path`:
 *   `one-job` (the default for this window) and `fan-out` (the same window,
 *   fanned out because the io worker's `FERRY_REPORT_ONE_JOB_MAX_PARTITIONS`
 *   is 0), each checked by the jobs the burst sent; for `system=in-request`:
 *   the seed's first pattern, computing in the request (with the same parallel
 *   day queries, so the comparison is of architecture, not of a slow scan),
 *   behind a server that runs at most `admitted` requests at once (gunicorn's
 *   2 workers x 16 threads = 32; the rest wait in line) or any number
 *   (`unbounded`).
 *
 * Then `cached_hit_p50_ms` / `p99`: `GET /reports/slow-blog-views` once cached.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { App } from '../lib/app/define-app.js';
import { documentClient } from '../lib/aws/clients.js';
import { tableName } from '../lib/app/resource-env.js';
import { startEmulators } from '../lib/local/emulators.js';
import { startLocalRuntime, type LocalRuntime } from '../lib/local/runtime.js';
import { REFRESH_PLAN_ENV, type RefreshPath } from '../app/reports/refresh-plan.js';
import { computeInProcess } from '../app/reports/report.js';
import { seedPageViews } from '../app/reports/seed-page-views.js';
import { slowBlogViews, type SlowViewsResult } from '../app/reports/slow-blog-views.js';
import { resources } from '../app/resources.js';
import { sleep } from '../lib/util/sleep.js';
import { Admission, GUNICORN_ADMITTED } from './admission.js';
import { Figures, percentile } from './figures.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const HITS = Number(process.env.BENCH_HITS ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BURST = Number(process.env.BENCH_BURST ?? 50);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 1000);
/** A burst that has no ready answer after this has failed. */
const BURST_LIMIT_MS = 120_000;
const PARAMS = { days: 30, minResponseMs: 1000, urlContains: 'blog' } as const;

/** The seed's view as written: every row, filtered in the request. */
async function scanCount(asOf: number): Promise<number> {
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

interface Burst {
  readonly firstReadyMs: number;
  readonly allReadyMs: number;
  /** Requests that failed (no answer, or a 5xx), each retried at the next poll. */
  readonly errors: number;
  readonly requests: number;
}

/**
 * `BURST` clients ask for `url` at once; a client answered 202 polls again
 * after a random part of `POLL_MS`, then every `POLL_MS`, until it gets 200.
 */
async function coldBurst(url: string): Promise<Burst> {
  const started = performance.now();
  const readyAt: number[] = [];
  let errors = 0;
  let requests = 0;
  await Promise.all(
    Array.from({ length: BURST }, async () => {
      for (let poll = 0; ; poll++) {
        let status = 0;
        requests += 1;
        try {
          const response = await fetch(url, { headers: { accept: 'application/json' } });
          const body = await response.text();
          status = response.status;
          if (status >= 500) console.error(`${url} answered ${status}: ${body.slice(0, 300)}`);
        } catch (error) {
          console.error(`${url}: ${String(error)}`);
        }
        if (status === 200) {
          readyAt.push(performance.now() - started);
          return;
        }
        if (status === 0 || status >= 500) errors += 1;
        else if (status !== 202) throw new Error(`${url} answered ${status}`);
        if (performance.now() - started > BURST_LIMIT_MS) throw new Error(`${url}: no ready answer after ${BURST_LIMIT_MS} ms`);
        await sleep(poll === 0 ? Math.random() * POLL_MS : POLL_MS);
      }
    }),
  );
  return { firstReadyMs: Math.min(...readyAt), allReadyMs: Math.max(...readyAt), errors, requests };
}

/** A different cold report for each burst: the same window and work, another `minResponseMs`. */
let nextKey = 0;
const coldQuery = () => `days=${PARAMS.days}&minResponseMs=${PARAMS.minResponseMs + ++nextKey}&urlContains=${PARAMS.urlContains}`;

/** The seed's view computing in the request, with the same parallel day queries as Ferry's job, behind `admission`. */
async function inRequestServer(admission: Admission): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    void admission
      .run(async () => {
        const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
        const params = { days: Number(query.get('days')), minResponseMs: Number(query.get('minResponseMs')), urlContains: query.get('urlContains') ?? '' };
        const result = await computeInProcess(slowBlogViews, params, Date.now());
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ state: 'ready', result }));
      })
      .catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/report`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Ferry's declaration with the io worker's environment extended. */
function withIoWorkerEnv(app: App, env: Readonly<Record<string, string>>): App {
  return { ...app, functions: app.functions.map((fn) => (fn.id === 'ioWorker' ? { ...fn, environment: { ...fn.environment, ...env } } : fn)) };
}

const ioSent = async (runtime: LocalRuntime) => (await runtime.stats()).queues.io?.sent ?? 0;

/** `RUNS` cold bursts on Ferry, after one that warms the sandboxes; checks each took `path` by the jobs it sent. */
async function ferryBursts(runtime: LocalRuntime, path: RefreshPath): Promise<{ bursts: Burst[]; jobsSent: number[]; lastQuery: string }> {
  const url = (query: string) => `${runtime.url}/reports/slow-blog-views?${query}`;
  await coldBurst(url(coldQuery()));
  const bursts: Burst[] = [];
  const jobsSent: number[] = [];
  let lastQuery = '';
  for (let run = 0; run < RUNS; run++) {
    lastQuery = coldQuery();
    const before = await ioSent(runtime);
    bursts.push(await coldBurst(url(lastQuery)));
    const sent = (await ioSent(runtime)) - before;
    // One job computes; a chord sends its start job, a job per partition (31), its callback and its deadline check.
    const expected = path === 'one-job' ? 1 : 1 + (PARAMS.days + 1) + 1 + 1;
    if (sent !== expected) throw new Error(`a ${path} refresh sent ${sent} io jobs, not ${expected}: it did not take the path it is labelled with`);
    jobsSent.push(sent);
    await sleep(1_000);
  }
  return { bursts, jobsSent, lastQuery };
}

function reportBursts(figures: Figures, bursts: readonly Burst[], labels: Record<string, string | number>): void {
  const first = bursts.map((b) => b.firstReadyMs).sort((a, b) => a - b);
  const all = bursts.map((b) => b.allReadyMs).sort((a, b) => a - b);
  const common = { ...labels, burst: BURST, poll_ms: POLL_MS, service: 'warm', runs: bursts.length, errors: bursts.reduce((n, b) => n + b.errors, 0), requests: bursts.reduce((n, b) => n + b.requests, 0) };
  figures.report('cold_first_ready_ms', percentile(first, 50), 'ms', { ...common, min: Math.round(first[0] ?? 0), max: Math.round(first.at(-1) ?? 0) });
  figures.report('cold_all_ready_ms', percentile(all, 50), 'ms', { ...common, min: Math.round(all[0] ?? 0), max: Math.round(all.at(-1) ?? 0) });
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.FERRY_LOG_LEVEL ??= 'warn';
  const figures = new Figures('report');
  const prefix = `bench-${process.pid}`;
  const emulators = await startEmulators();
  try {
    const local = { emulators, code: 'bundles', httpPort: 0, prefix, log: () => undefined } as const;
    let runtime = await startLocalRuntime({ ...local, app: resources });
    try {
      const seeded = await seedPageViews({ rows: ROWS, days: 60 });
      console.error(`seeded ${seeded.rows} page views in ${(seeded.elapsedMs / 1000).toFixed(1)} s`);
      const labels = { rows: ROWS, days: PARAMS.days };
      const asOf = Date.now();

      // The computations agree, or the figures mean nothing.
      const seedCount = await scanCount(asOf);
      const ferryCount = (await computeInProcess(slowBlogViews, PARAMS, asOf)).count;
      if (seedCount !== ferryCount) throw new Error(`the computations disagree: scan ${seedCount}, day queries ${ferryCount}`);

      const scan = await median(RUNS, () => scanCount(asOf));
      const sequential = await median(RUNS, () => computeInProcess(slowBlogViews, PARAMS, asOf, { concurrency: 1 }));
      const parallel = await median(RUNS, () => computeInProcess(slowBlogViews, PARAMS, asOf, { concurrency: 8 }));
      figures.report('compute_scan_ms', scan, 'ms', { ...labels, how: 'the seed view as written: Scan every row, filter in code (a slow baseline on DynamoDB Local)', count: seedCount });
      figures.report('compute_sequential_ms', sequential, 'ms', { ...labels, how: 'day partitions queried one at a time' });
      figures.report('compute_parallel_ms', parallel, 'ms', { ...labels, how: 'day partitions queried 8 at a time (one-job refresh; in-request baseline)' });

      // The seed's compute-in-the-request view, same computation, behind gunicorn's admission and none.
      for (const admitted of [GUNICORN_ADMITTED, undefined]) {
        const admission = new Admission(admitted);
        const server = await inRequestServer(admission);
        try {
          const bursts: Burst[] = [];
          for (let run = 0; run < RUNS; run++) bursts.push(await coldBurst(`${server.url}?${coldQuery()}`));
          reportBursts(figures, bursts, { ...labels, system: 'in-request', admitted: admission.label, computations_per_burst: BURST });
        } finally {
          await server.close();
        }
      }

      const oneJob = await ferryBursts(runtime, 'one-job');
      reportBursts(figures, oneJob.bursts, { ...labels, system: 'ferry', path: 'one-job', io_jobs_per_refresh: oneJob.jobsSent[0] ?? 0 });

      const url = `${runtime.url}/reports/slow-blog-views?${oneJob.lastQuery}`;
      const hits: number[] = [];
      for (let i = 0; i < HITS; i++) {
        const t = performance.now();
        const response = await fetch(url, { headers: { accept: 'application/json' } });
        const body = (await response.json()) as { result?: SlowViewsResult };
        if (response.status !== 200 || body.result === undefined) throw new Error(`cached hit answered ${response.status}`);
        hits.push(performance.now() - t);
      }
      hits.sort((a, b) => a - b);
      figures.report('cached_hit_p50_ms', percentile(hits, 50), 'ms', { ...labels, system: 'ferry', requests: HITS });
      figures.report('cached_hit_p99_ms', percentile(hits, 99), 'ms', { ...labels, system: 'ferry', requests: HITS });
      figures.report('speedup_cached_vs_in_request', parallel / percentile(hits, 50), 'x', {
        ...labels,
        baseline: 'compute_parallel_ms: one request computing in the request with parallel day queries, alone on the server',
      });
    } finally {
      await runtime.stop();
    }

    // The same window fanned out: the io worker's limit set to 0 partitions.
    runtime = await startLocalRuntime({ ...local, app: withIoWorkerEnv(resources, { [REFRESH_PLAN_ENV.oneJobMaxPartitions]: '0' }) });
    try {
      const fanOut = await ferryBursts(runtime, 'fan-out');
      reportBursts(figures, fanOut.bursts, { rows: ROWS, days: PARAMS.days, system: 'ferry', path: 'fan-out', io_jobs_per_refresh: fanOut.jobsSent[0] ?? 0 });
    } finally {
      await runtime.stop();
    }
    figures.table();
  } finally {
    await emulators.stop();
  }
}

await main();
