/**
 * The report service end to end on the local runtime, with Ferry's own
 * declaration and handlers: generated page views in DynamoDB Local, the REST
 * endpoint, single-flight over SQS, the worker computing the report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../lib/aws/clients.js';
import { tableName } from '../../lib/app/resource-env.js';
import { requestFlight } from '../../lib/coordination/flight-task.js';
import { FLIGHT_ITEM, SingleFlight } from '../../lib/coordination/single-flight.js';
import type { LocalRuntime } from '../../lib/local/runtime.js';
import { generatePageViews } from '../../app/reports/page-view-generator.js';
import { PageViewStore, type PageView } from '../../app/reports/page-views.js';
import { canonicalKey } from '../../app/reports/report-params.js';
import { findReport } from '../../app/reports/report-registry.js';
import type { SlowestUrlsResult } from '../../app/reports/slowest-urls.js';
import type { SlowViewsResult } from '../../app/reports/slow-blog-views.js';
import { eventually, startTestRuntime } from '../helpers/runtime.js';

let runtime: LocalRuntime;
let views: PageView[];
const NOW = Date.now() - 60_000;

beforeAll(async () => {
  // Ferry's app as deployed: the synthesized bundles, each function in sandboxes of its own.
  runtime = await startTestRuntime(undefined, { code: 'bundles' });
  views = [...generatePageViews({ rows: 3_000, days: 20, seed: 7, now: NOW })];
  await new PageViewStore().writeAll(views);
});
afterAll(async () => {
  await runtime?.stop();
});

interface Ready<R> {
  state: 'ready';
  result: R;
  params: Record<string, number | string>;
  jobId: string;
  computedAt: string;
  freshUntil: string;
  stale: boolean;
  refreshing: boolean;
}

const get = (path: string, accept = 'application/json', headers: Record<string, string> = {}) =>
  fetch(`${runtime.url}${path}`, { headers: { accept, ...headers } });

async function ready<R>(path: string): Promise<Ready<R>> {
  return eventually(`${path} to be ready`, async () => {
    const response = await get(path);
    const body = (await response.json()) as Ready<R> | { state: string };
    return response.status === 200 && body.state === 'ready' ? (body as Ready<R>) : undefined;
  });
}

const sent = async () => (await runtime.stats()).queues.io?.sent ?? 0;

/** An independent count over the generated rows. */
function expectedSlowViews(r: SlowViewsResult, minResponseMs: number, urlContains: string): number {
  return views.filter((v) => v.createdAt >= r.windowStart && v.createdAt <= r.windowEnd && v.responseMs >= minResponseMs && v.url.includes(urlContains)).length;
}

describe('GET /reports/slow-blog-views', () => {
  it.each([
    ['the defaults', '', 1000, 'blog'],
    ['a week of very slow views of any URL', '?days=7&minResponseMs=20000&urlContains=', 20_000, ''],
    ['every view over 60 days whose URL contains "news"', '?days=60&minResponseMs=0&urlContains=news', 0, 'news'],
  ])('counts what an independent computation over the generated data counts, for %s', async (_what, query, minResponseMs, urlContains) => {
    const { result } = await ready<SlowViewsResult>(`/reports/slow-blog-views${query}`);
    expect(result.count).toBe(expectedSlowViews(result, minResponseMs, urlContains));
    expect(result.count).toBeGreaterThan(0);
  });

  it('turns a burst of 500 concurrent cold requests into one refresh, computed by its one job (a short window is not fanned out)', async () => {
    const before = await runtime.stats();
    const path = '/reports/slow-blog-views?days=11&minResponseMs=3000';
    const statuses = await Promise.all(Array.from({ length: 500 }, async () => (await get(path)).status));
    // The computation is quick on 3,000 rows: late requests of the burst may already get the result.
    expect(statuses.every((s) => s === 202 || s === 200)).toBe(true);
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThan(0);
    const { result } = await ready<SlowViewsResult>(path);
    expect(result.count).toBe(expectedSlowViews(result, 3000, 'blog'));
    // One refresh, one job: the claim's job read the 12 day partitions itself and stored the result.
    const after = await runtime.stats();
    expect((after.queues.io?.sent ?? 0) - (before.queues.io?.sent ?? 0)).toBe(1);
    expect(result.partitionsRead).toBe(12);
    const flight = await new SingleFlight().read(canonicalKey('slow-blog-views', { days: 11, minResponseMs: 3000, urlContains: 'blog' }));
    expect(flight?.token).toBe(1);
  });

  it('answers 202 with the state, job id, elapsed time and Retry-After while pending, and caching headers when ready', async () => {
    const path = '/reports/slow-blog-views?days=12';
    const pending = await get(path);
    expect(pending.status).toBe(202);
    expect(pending.headers.get('retry-after')).toBe('2');
    expect(pending.headers.get('cache-control')).toBe('no-store');
    expect(await pending.json()).toMatchObject({ state: 'pending', phase: 'queued', jobId: expect.any(String) as string, params: { days: 12, minResponseMs: 1000, urlContains: 'blog' } });
    const body = await ready(path);
    const response = await get(path);
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=(2[5-9]\d|300)$/);
    const etag = response.headers.get('etag') ?? '';
    expect(etag).toMatch(/^".+"$/);
    expect((await get(path, 'application/json', { 'if-none-match': etag })).status).toBe(304);
    expect(new Date(body.freshUntil).getTime() - new Date(body.computedAt).getTime()).toBe(300_000);
  });

  it('shares one cached result between requests that differ only in parameter order and defaults', async () => {
    const first = await ready('/reports/slow-blog-views?urlContains=blog&days=13');
    const second = await ready('/reports/slow-blog-views?days=13&minResponseMs=1000');
    expect(second.jobId).toBe(first.jobId);
    expect(second.computedAt).toBe(first.computedAt);
  });

  it('serves the old result, marked stale, while one refresh of an expired result runs', async () => {
    const params = { days: 14, minResponseMs: 1000, urlContains: 'blog' };
    const path = '/reports/slow-blog-views?days=14';
    const key = canonicalKey('slow-blog-views', params);
    // The first result is computed without the API reading it, so no API environment holds a fresh copy in memory.
    const registered = findReport('slow-blog-views');
    if (registered === undefined) throw new Error('slow-blog-views is not registered');
    await requestFlight(registered.flight, key, { params, asOf: Date.now() });
    const first = await eventually('the first result', async () => {
      const item = await new SingleFlight().read(key);
      return item?.phase === 'ready' ? item : undefined;
    });
    // Move the result past its freshness, as time would.
    await documentClient().send(
      new UpdateCommand({
        TableName: tableName('state'),
        Key: { pk: FLIGHT_ITEM.pkOf(key), sk: FLIGHT_ITEM.sk },
        UpdateExpression: 'SET freshUntil = :past',
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    );
    const firstComputedAt = new Date(first.computedAt ?? 0).toISOString();
    // The io workers pause, so the refresh is still to run when every answer is given
    // (computed in one job, it would otherwise finish inside the burst). A long poll
    // already waiting would still deliver it: the burst starts once the mapping is Disabled.
    runtime.setEventSourceEnabled('ioWorker', 'io', false);
    try {
      await runtime.eventSourceDisabled('ioWorker', 'io');
      const answers = await Promise.all(Array.from({ length: 20 }, async () => (await (await get(path)).json()) as Ready<SlowViewsResult>));
      expect(answers.every((a) => a.state === 'ready' && a.stale && a.refreshing && a.computedAt === firstComputedAt)).toBe(true);
      // One refresh was claimed: the token moved from 1 to 2 and no further.
      const item = await new SingleFlight().read(key);
      expect(item?.token).toBe(2);
    } finally {
      runtime.setEventSourceEnabled('ioWorker', 'io', true);
    }
    const refreshed = await eventually('the refreshed result', async () => {
      const body = (await (await get(path)).json()) as Ready<SlowViewsResult>;
      return body.state === 'ready' && !body.stale ? body : undefined;
    });
    expect(Date.parse(refreshed.computedAt)).toBeGreaterThan(first.computedAt ?? 0);
  });
});

describe('GET /reports/slowest-urls', () => {
  it('lists the URLs an independent aggregation ranks slowest', async () => {
    const { result } = await ready<SlowestUrlsResult>('/reports/slowest-urls?days=20&limit=5&minViews=2');
    const byUrl = new Map<string, number[]>();
    for (const v of views) {
      if (v.createdAt < result.windowStart || v.createdAt > result.windowEnd) continue;
      byUrl.set(v.url, [...(byUrl.get(v.url) ?? []), v.responseMs]);
    }
    const expected = [...byUrl]
      .filter(([, ms]) => ms.length >= 2)
      .map(([url, ms]) => ({ url, views: ms.length, averageMs: Math.round(ms.reduce((a, b) => a + b, 0) / ms.length), maxMs: Math.max(...ms) }))
      .sort((a, b) => b.averageMs - a.averageMs || b.views - a.views || a.url.localeCompare(b.url))
      .slice(0, 5);
    expect(result.urls).toEqual(expected);
  });
});

describe('bad requests', () => {
  it.each([
    ['/reports/no-such-report', 404, /^no report "no-such-report"$/],
    ['/reports/slow-blog-views?days=0', 400, /^"days" must be an integer from 1 to 365 \(got "0"\)$/],
    ['/reports/slow-blog-views?days=abc&minResponseMs=-5', 400, /^"days" must be an integer from 1 to 365 \(got "abc"\); "minResponseMs" must be an integer from 0 to 600000 \(got "-5"\)$/],
    ['/reports/slow-blog-views?colour=red', 400, /^unknown parameter "colour"$/],
    ['/reports/slow-blog-views?days=3&days=4', 400, /^"days" is given more than once$/],
    [`/reports/slow-blog-views?urlContains=${'x'.repeat(101)}`, 400, /^"urlContains" must be text of at most 100 characters \(got 101 characters\)$/],
  ])('%s answers %i naming the problem, and enqueues nothing', async (path, status, message) => {
    const before = await sent();
    const response = await get(path);
    expect(response.status).toBe(status);
    const body = (await response.json()) as { error: { message: string; params?: { name: string; allowed: string }[] } };
    expect(body.error.message).toMatch(message);
    if (status === 400) expect(body.error.params?.every((p) => p.allowed.length > 0)).toBe(true);
    expect(await sent()).toBe(before);
  });

  it.each([
    ['/reports/no-such-report', 404, 'There is no report named “no-such-report”.'],
    ['/reports/slow-blog-views?days=0', 400, '<li><code>days</code>: &quot;days&quot; must be an integer from 1 to 365 (got &quot;0&quot;). Allowed: an integer from 1 to 365.</li>'],
    ['/reports/slow-blog-views?days=3&days=4', 400, '<li><code>days</code>: &quot;days&quot; is given more than once. Allowed: one value.</li>'],
    ['/reports/slow-blog-views?urlContains=%3Cscript%3E&days=-1', 400, 'Allowed: an integer from 1 to 365.'],
  ])('%s answers a browser %i with an HTML page saying what is wrong, and enqueues nothing', async (path, status, text) => {
    const before = await sent();
    const response = await get(path, 'text/html,application/xhtml+xml,*/*;q=0.8');
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(text);
    expect(html).not.toContain('<script>');
    expect(html).toContain('href="../reports"');
    expect(await sent()).toBe(before);
  });
});

describe('GET /reports', () => {
  it('lists the reports with their parameters as JSON, and as an HTML index with relative links for a browser', async () => {
    const listed = (await (await get('/reports')).json()) as { reports: { name: string; href: string }[] };
    expect(listed.reports.map((r) => r.name)).toEqual(['slow-blog-views', 'slowest-urls']);
    const page = await get('/reports', 'text/html');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<a href="reports/slow-blog-views">Slow blog views</a>');
    expect(html).toContain('<a href="reports/slowest-urls?days=7&amp;limit=10&amp;minViews=1&amp;urlContains=">');
  });
});

describe('a refresh over a year (fanned out)', () => {
  it('answers a running refresh with how many of its day partitions have been read, then the count of a chord over all of them', async () => {
    // A year's window: more than 100 partitions, so a chord of 366 partition jobs,
    // far more than the io workers hold at once (5 pollers x 10).
    const path = '/reports/slow-blog-views?days=365&minResponseMs=7';
    const before = await sent();
    expect((await get(path)).status).toBe(202);
    await eventually('the refresh to run', async () => ((await (await get(path)).json()) as { phase?: string }).phase === 'running' || undefined);
    runtime.setEventSourceEnabled('ioWorker', 'io', false);
    try {
      const body = await eventually('progress', async () => {
        const answer = (await (await get(path)).json()) as { progress?: { partitionsDone: number; partitions: number } };
        return answer.progress;
      });
      expect(body.partitions).toBe(366);
      expect(body.partitionsDone).toBeLessThan(366);
    } finally {
      runtime.setEventSourceEnabled('ioWorker', 'io', true);
    }
    const { result } = await ready<SlowViewsResult>(path);
    expect(result.partitionsRead).toBe(366);
    expect(result.count).toBe(expectedSlowViews(result, 7, 'blog'));
    // The claim's job, one job per partition, the chord's callback and its (delayed) deadline check.
    expect((await sent()) - before).toBe(1 + 366 + 1 + 1);
  }, 60_000);
});

describe('the report page', () => {
  it('shows a self-refreshing "calculating" page while pending, then the number', async () => {
    const path = '/reports/slow-blog-views?days=15';
    const pending = await get(path, 'text/html,application/xhtml+xml');
    expect(pending.status).toBe(202);
    expect(pending.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await pending.text();
    expect(html).toContain('Calculating…');
    expect(html).toContain('<noscript><meta http-equiv="refresh" content="2"></noscript>');
    const { result } = await ready<SlowViewsResult>(path);
    const page = await (await get(path, 'text/html')).text();
    expect(page).toContain(`<span id="count">${result.count.toLocaleString('en-US')}</span>`);
  });
});
